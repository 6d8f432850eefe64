/**
 * The live ISO end to end (issue 8): `reprimage build examples/live-minimal` twice, the second
 * time with another TZ, umask, host name (UTS namespace), build directory and worker count,
 * must give byte-identical ISOs; the ISO must boot in QEMU as a CD with SeaBIOS (isolinux) and
 * with OVMF (shim + signed GRUB) to live-boot's system, which prints a marker on the serial
 * console from a systemd unit the example's hook installs. Needs the network (or a warm cache),
 * root (mmdebstrap root mode) and qemu; boots run under TCG here, hence the long bounds.
 *
 * Opt-in (REPRIMAGE_LIVE_TEST=1): two live builds (~6 min each on 2 cores) and two TCG boots
 * (1-5 min each) take 20-30 minutes, and the whole file has not yet passed in a CI run; until it
 * has, it stays out of the default suite so it cannot decide a landing (issue 8 stays open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO, runCli, sha256 } from '../helpers/cli.js';
import { bootQemu, describeBoot, requireQemu } from '../helpers/qemu.js';
import { requireTool, tempDir } from '../helpers/tools.js';
import { defaultCacheDir } from '../../src/recipe/cache.js';
import type { BuildManifest } from '../../src/recipe/manifest.js';

const EXAMPLE = join(REPO, 'examples/live-minimal');
const MARKER = 'REPRIMAGE-LIVE-BOOTED';

function reachable(url: string): boolean {
  return spawnSync(process.execPath, ['-e', `fetch(${JSON.stringify(url)}, { method: 'HEAD', signal: AbortSignal.timeout(15000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`]).status === 0;
}

test('examples/live-minimal: identical ISO from two builds, boots with SeaBIOS and OVMF as CD', { timeout: 60 * 60_000 }, async (t) => {
  if (process.env.REPRIMAGE_LIVE_TEST !== '1') {
    t.skip('opt-in: set REPRIMAGE_LIVE_TEST=1 (20-30 minutes: two live builds and two TCG boots)');
    return;
  }
  if (!requireTool(t, 'mmdebstrap', 'apt-get', 'unshare') || !requireQemu(t, 'bios')) return;
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') throw new Error('the network tier needs root (mmdebstrap root mode)');
    return t.skip('needs root for mmdebstrap root mode');
  }
  if (!reachable('http://deb.debian.org/debian/dists/bookworm/InRelease')) {
    if (process.env.CI === 'true') throw new Error('deb.debian.org is not reachable');
    return t.skip('deb.debian.org is not reachable');
  }
  // the shared cache: the packages are verified against the lock either way
  const cache = process.env.REPRIMAGE_TEST_CACHE ?? defaultCacheDir();
  const dir = tempDir(t, 'reprimage-live-net-');
  const a = join(dir, 'a');
  const b = join(dir, 'elsewhere', 'b');
  cpSync(EXAMPLE, a, { recursive: true });
  cpSync(EXAMPLE, b, { recursive: true });

  const started = performance.now();
  const first = runCli(['build', join(a, 'recipe.yaml'), '-o', join(a, 'out'), '--cache', cache, '--workers', '2', '--json'], { env: { TZ: 'UTC', LANG: 'C.UTF-8' }, umask: 0o022 });
  assert.equal(first.status, 0, first.stderr);
  const firstSeconds = (performance.now() - started) / 1000;
  const env = { ...process.env, TZ: 'Asia/Kolkata', LANG: 'C', HOME: join(dir, 'home') };
  const second = spawnSync('unshare', ['--uts', 'sh', '-c', 'hostname other-live-host && umask 077 && exec "$0" "$@"', process.execPath, CLI, 'build', join(b, 'recipe.yaml'), '-o', join(b, 'out'), '--cache', cache, '--workers', '1', '--json'], { cwd: b, env, encoding: 'utf8' });
  assert.equal(second.status, 0, second.stderr);

  const isoA = join(a, 'out', 'live.iso');
  const isoB = join(b, 'out', 'live.iso');
  const ma = JSON.parse(first.stdout) as BuildManifest;
  const mb = JSON.parse(second.stdout) as BuildManifest;
  assert.equal(sha256(isoB), sha256(isoA), 'the two ISOs differ: run reprimage diff on them');
  assert.deepEqual(mb.reproducible, ma.reproducible);
  t.diagnostic(`first build ${firstSeconds.toFixed(0)} s, stages ${JSON.stringify(ma.run.timings_ms)}; live.iso sha256 ${ma.reproducible.outputs[0]!.sha256}, ${ma.reproducible.outputs[0]!.size} bytes`);

  const bios = await bootQemu({ firmware: 'bios', cdrom: isoA, marker: MARKER, memoryMiB: 1536, timeoutMs: 15 * 60_000 }, t);
  assert.ok(bios.found, describeBoot(bios));
  // the marker unit runs only in the live system: live-boot found and mounted the SquashFS

  if (existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd')) {
    const uefi = await bootQemu({ firmware: 'uefi', cdrom: isoA, marker: MARKER, memoryMiB: 1536, timeoutMs: 15 * 60_000 }, t);
    assert.ok(uefi.found, describeBoot(uefi));
  } else if (process.env.CI === 'true') {
    throw new Error('ovmf is missing in CI');
  }
});
