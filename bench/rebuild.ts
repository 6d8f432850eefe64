/**
 * Time to verify a published image with `reprimage rebuild`, with a warm package cache (the
 * state of a rebuilder that has verified a release before, or a CI runner with a cache).
 *
 *   node dist/bench/rebuild.js [RECIPE | RELEASE_DIR] [CACHE]
 *
 * The default is the live example (examples/live-minimal/recipe.yaml): it needs root, mmdebstrap
 * and deb.debian.org, or a warm CACHE (default ~/.cache/reprimage). A RECIPE is built once first
 * (the "published" release, which also warms the cache); a RELEASE_DIR (manifest.json, the image,
 * recipe-inputs.tar, as `reprimage build` writes them) is taken as published. Then, one run each:
 *   1. `rebuild` from scratch: inputs bundle unpacked, whole build, compare;
 *   2. `rebuild` again with the same work directory (the rebuild is reused: hashes only);
 *   3. `rebuild --rebuilt` of a copy with one byte changed (the diff report of a mismatch).
 * The reference is rebuilderd's Tails backend, which clones the source, starts a libvirt VM and
 * runs `rake build`: about an hour per image as stated for it (docs/rebuild.md; not measured
 * here). The load average is printed with the figures: on a shared machine they mean little
 * without it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type Measurement } from './measure.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(repo, 'dist/src/cli/main.js');
const input = process.argv[2] ?? join(repo, 'examples/live-minimal/recipe.yaml');
const cache = process.argv[3] ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reprimage');
const TAILS_BACKEND_SECONDS = 3600;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-rebuild-'));
try {
  const loadBefore = load();
  const given = statSync(input).isDirectory() && existsSync(join(input, 'manifest.json'));
  const release = given ? input : join(work, 'release');
  const published: Measurement[] = given ? [] : [measure('build (publish, warms the cache)', [process.execPath, cli, 'build', input, '-o', release, '--cache', cache, '--json'], 1)];
  const manifest = JSON.parse(execFileSync('cat', [join(release, 'manifest.json')], { encoding: 'utf8' })) as { reproducible: { outputs: Array<{ path: string; size: number }> } };
  const image = join(release, manifest.reproducible.outputs[0]!.path);

  const verify = join(work, 'verify');
  const first = measure('rebuild (whole build + compare)', [process.execPath, cli, 'rebuild', image, '-o', verify, '--cache', cache], 1);
  const again = measure('rebuild again (reuses the work directory)', [process.execPath, cli, 'rebuild', image, '-o', verify, '--cache', cache], 1);

  const tampered = join(work, 'tampered.bin');
  copyFileSync(image, tampered);
  const fd = openSync(tampered, 'r+');
  const b = Buffer.alloc(1);
  const at = Math.floor(manifest.reproducible.outputs[0]!.size / 2);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  // exit 1 (differs) is the expected outcome, which measure() takes for a failure: timed here
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'rebuild', tampered, '--manifest', join(release, 'manifest.json'), '--inputs', join(release, 'recipe-inputs.tar'), '-o', join(work, 'v2'), '--rebuilt', join(verify, 'rebuilt', manifest.reproducible.outputs[0]!.path)], { stdio: 'ignore' });
  if (r.status !== 1) throw new Error(`rebuild of the changed copy exited ${r.status}, expected 1 (differs)`);
  const differs = { label: 'rebuild --rebuilt of a changed copy (diff report)', seconds: (performance.now() - t0) / 1000, cpu: NaN, peakMiB: NaN };
  console.log(`published release: ${release}; load average ${loadBefore} before, ${load()} after`);
  for (const m of [...published, first, again, differs]) console.log(`${m.label.padEnd(52)} ${m.seconds.toFixed(1).padStart(7)} s  cpu ${m.cpu.toFixed(1)} s  peak ${m.peakMiB.toFixed(0)} MiB`);
  console.log(`verify with reprimage rebuild: ${first.seconds.toFixed(1)} s; rebuilderd Tails backend (VM + rake build, stated figure): ~${TAILS_BACKEND_SECONDS} s; ratio ${(first.seconds / TAILS_BACKEND_SECONDS).toFixed(3)}x`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
