/**
 * Desktop-class live benchmark (docs/benchmarks.md): `reprimage build` of examples/live-desktop (the live
 * example plus firefox-esr and libreoffice-writer, about 1.3 GB of root tree) under
 * `ulimit -n 1024`, then a boot of the ISO in QEMU (SeaBIOS, as a CD) to the marker its hook
 * prints on the serial console. Prints the build's wall time and peak RSS, its stage times (from
 * manifest.json), the ISO size and the time to the marker.
 *
 *   node dist/bench/live-desktop.js [OUT_DIR] [CACHE_DIR]
 *
 * Needs root (mmdebstrap root mode), deb.debian.org or a warm package cache (CACHE_DIR, default
 * $TMPDIR/reprimage-bench-live-desktop-cache; about 400 MB of packages), QEMU and /usr/bin/time.
 * Run it on an otherwise idle machine; it takes 20-30 minutes of CPU on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildManifest } from '../src/recipe/manifest.js';
import { bootQemu, describeBoot } from '../test/helpers/qemu.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RECIPE = join(REPO, 'examples/live-desktop/recipe.yaml');
const MARKER = 'REPRIMAGE-LIVE-BOOTED';
const FD_LIMIT = 1024;

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(tmpdir(), 'reprimage-bench-live-desktop');
  const cache = process.argv[3] ?? join(tmpdir(), 'reprimage-bench-live-desktop-cache');
  mkdirSync(cache, { recursive: true });
  console.log(`live desktop: ${RECIPE} → ${out} (cache ${cache}); ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}`);

  // the build under the usual soft descriptor limit; GNU time's last line carries the figures
  const script = `ulimit -n ${FD_LIMIT} && exec /usr/bin/time -f '@@ %e %M %U %S' "$@"`;
  const build = spawnSync('sh', ['-c', script, 'sh', process.execPath, CLI, 'build', RECIPE, '-o', out, '--cache', cache], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'], maxBuffer: 1 << 28 });
  const m = /@@ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(build.stderr);
  if (build.status !== 0 || !m) throw new Error(`build failed (exit ${build.status}): ${build.stderr.slice(-4000)}`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BuildManifest;
  const iso = join(out, 'live.iso');
  console.log(`build under ulimit -n ${FD_LIMIT}: ${Number(m[1]).toFixed(1)} s wall, ${(Number(m[3]) + Number(m[4])).toFixed(1)} s cpu, peak RSS ${(Number(m[2]) / 1024).toFixed(0)} MiB`);
  for (const [stage, ms] of Object.entries(manifest.run.timings_ms)) console.log(`  ${stage.padEnd(24)} ${(ms / 1000).toFixed(1).padStart(7)} s`);
  console.log(`  downloads: ${manifest.run.downloads.files} files, ${(manifest.run.downloads.bytes / 2 ** 20).toFixed(0)} MiB (${manifest.run.downloads.from_cache} from the cache)`);
  console.log(`live.iso: ${(statSync(iso).size / 2 ** 20).toFixed(0)} MiB, ${manifest.reproducible.packages.length} packages`);

  const t0 = Date.now();
  const boot = await bootQemu({ firmware: 'bios', cdrom: iso, marker: MARKER, memoryMiB: 2048, timeoutMs: 20 * 60_000 });
  if (!boot.found) throw new Error(`the ISO did not boot to the marker:\n${describeBoot(boot)}`);
  console.log(`boot (SeaBIOS, CD) to ${MARKER}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

await main();
