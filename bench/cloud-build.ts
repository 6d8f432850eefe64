/**
 * The whole `reprimage build` of examples/cloud-minimal (docs/cloud-disk.md): wall time, CPU time
 * and peak RSS of the command, then each stage's time from the manifest (lock check, verify,
 * mmdebstrap, fix-ups, and the disk's own stages: initramfs repack, installed-system fix-ups,
 * boot loaders, GPT + file systems, one conversion per format), and the outputs' sizes.
 *
 *   node dist/bench/cloud-build.js [RECIPE]     (default: examples/cloud-minimal/recipe.yaml)
 *
 * Needs what the network tests need: root (mmdebstrap), and deb.debian.org or a warm package cache.
 * There is no peer to run on the same input: no other tool builds this image reproducibly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const recipe = process.argv[2] ?? fileURLToPath(new URL('../../examples/cloud-minimal/recipe.yaml', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'reprimage-bench-cloud-'));
try {
  const load = loadavg()[0]!.toFixed(1);
  const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %M', process.execPath, CLI, 'build', recipe, '-o', out, '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`build failed (${r.status}): ${r.stderr}`);
  console.log(`reprimage build ${recipe}: ${m[1]} s wall, ${(Number(m[2]) + Number(m[3])).toFixed(1)} s cpu (this process; mmdebstrap's children are counted in wall only), peak ${(Number(m[4]) / 1024).toFixed(0)} MiB; load average ${load} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    reproducible: { outputs: Array<{ path: string; size: number; sha256: string }> };
    run: { timings_ms: Record<string, number> };
  };
  console.log('\nstage                         seconds');
  for (const [stage, ms] of Object.entries(manifest.run.timings_ms)) console.log(`${stage.padEnd(28)} ${(ms / 1000).toFixed(2).padStart(8)}`);
  console.log('\noutput                bytes          sha256');
  for (const o of manifest.reproducible.outputs) console.log(`${o.path.padEnd(20)} ${String(o.size).padStart(12)}  ${o.sha256}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
