/**
 * The cloud disk end to end (docs/cloud-disk.md), on the bundled example examples/cloud-minimal: one
 * `reprimage build` writes disk.img (raw GPT: BIOS boot + ESP + ext4 root); the image is clean
 * for sgdisk -v, fsck.fat -n and e2fsck -fn; then it boots in QEMU, both boots at once:
 * - SeaBIOS from the image as it is (boot.img in the MBR → core.img in the BIOS boot
 *   partition → grub.cfg on the root file system found by its seeded UUID);
 * - OVMF from a copy grown to 8 GiB (shim → Debian's signed GRUB on the ESP), where
 *   systemd-repart and systemd-growfs must grow the root partition and file system on first
 *   boot: the example's marker unit prints the root file system's size before its marker.
 *
 * Needs root (mmdebstrap root mode), deb.debian.org or a warm package cache, and QEMU. One
 * build and two boots: about 4-6 minutes on 2 cores under TCG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from '../helpers/cli.js';
import { hashFile } from '../../src/io/hash-file.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { cacheImage } from '../helpers/cloud-image.js';
import { bootQemu, describeBoot, requireQemu } from '../helpers/qemu.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { openFileSource } from '../../src/io/source.js';
import { readPartitionTable } from '../../src/formats/gpt/index.js';

const EXAMPLE = join(REPO, 'examples/cloud-minimal');
const MARKER = 'REPRIMAGE-CLOUD-BOOTED';
const GIB = 1024 ** 3;

/** The root file system's size the marker unit printed, in bytes. */
function rootBytes(console: string): number {
  const m = /REPRIMAGE-ROOT-BYTES=(\d+)/.exec(console);
  assert.ok(m, 'the marker unit did not print the root file system size');
  return Number(m[1]);
}

test('examples/cloud-minimal: one build, a clean GPT disk that boots with SeaBIOS and with OVMF and grows its root on first boot', { timeout: 20 * 60_000 }, async (t) => {
  if (!requireRecipeBuild(t) || !requireQemu(t, 'bios') || !requireQemu(t, 'uefi') || !requireTool(t, 'sgdisk', 'e2fsck', 'fsck.fat', 'dd')) return;
  const dir = tempDir(t, 'reprimage-cloud-');
  const out = join(dir, 'out');
  const started = Date.now();
  const built = runCli(['build', join(EXAMPLE, 'recipe.yaml'), '-o', out, '--quiet']);
  assert.equal(built.status, 0, `build failed: ${built.stderr}`);
  t.diagnostic(`build ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const disk = join(out, 'disk.img');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { reproducible: { outputs: Array<{ path: string; type: string; format: string; sha256: string; size: number }> } };
  const entry = manifest.reproducible.outputs[0]!;
  assert.deepEqual([entry.path, entry.type, entry.format, entry.size], ['disk.img', 'disk', 'raw disk (GPT, bios + uefi)', 2 * GIB]);
  assert.equal(entry.sha256, (await hashFile(disk)).sha256);
  t.diagnostic(`disk.img sha256 ${entry.sha256}`);
  const published = /^([0-9a-f]{64}) {2}disk\.img$/m.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  if (published) assert.equal(entry.sha256, published[1], 'README.md publishes another disk.img SHA-256');
  // examples/installer-minimal pins this image: leave it in the cache for the installer test
  await cacheImage(disk);

  // the oracles: the table, the ESP and the root file system
  assert.match(run('sgdisk', ['-v', disk]).stdout.toString(), /No problems found/);
  const source = await openFileSource(disk);
  const table = await readPartitionTable(source);
  await source.close();
  assert.deepEqual(table.partitions.map((p) => p.typeName), ['bios-boot', 'esp', 'root-x86-64']);
  const slice = (i: number): string => {
    const p = table.partitions[i]!;
    const file = join(dir, `p${i + 1}.img`);
    run('dd', [`if=${disk}`, `of=${file}`, 'bs=1M', `skip=${p.offset / 2 ** 20}`, `count=${p.size / 2 ** 20}`, 'conv=sparse', 'status=none']);
    return file;
  };
  run('fsck.fat', ['-n', slice(1)]);
  run('e2fsck', ['-fn', slice(2)]);

  // a larger cloud disk: the same bytes, 8 GiB long (sparse)
  const grown = join(dir, 'grown.img');
  assert.equal(spawnSync('cp', ['--sparse=always', disk, grown]).status, 0);
  run('truncate', ['-s', '8G', grown]);
  const boots = await Promise.all([
    bootQemu({ firmware: 'bios', disk, diskInterface: 'virtio', marker: MARKER, memoryMiB: 1024, timeoutMs: 8 * 60_000 }, t),
    bootQemu({ firmware: 'uefi', disk: grown, diskInterface: 'virtio', marker: MARKER, memoryMiB: 1024, timeoutMs: 8 * 60_000, snapshot: false }, t),
  ]);
  const [bios, uefi] = boots;
  assert.ok(bios.found, `SeaBIOS: ${describeBoot(bios)}`);
  assert.ok(uefi.found, `OVMF: ${describeBoot(uefi)}`);
  const small = rootBytes(bios.console);
  const large = rootBytes(uefi.console);
  t.diagnostic(`root file system: ${small} bytes on the 2 GiB disk, ${large} bytes on the 8 GiB disk; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  assert.ok(small < 2 * GIB && small > 1.5 * GIB, `root on the 2 GiB disk: ${small}`);
  assert.ok(large > 7.5 * GIB, `the root file system did not grow to the 8 GiB disk: ${large}`);
  // the grown disk's table is still valid, now spanning the whole disk
  assert.match(run('sgdisk', ['-v', grown]).stdout.toString(), /No problems found/);
});
