/**
 * The installer ISO end to end (docs/installer.md), on examples/installer-minimal, which carries
 * examples/cloud-minimal's disk image (taken from the cache, where the cloud-disk test left it,
 * or built here once):
 * 1. `reprimage check` of the example: two builds, the second under every variation, one ISO,
 *    whose SHA-256 README.md publishes;
 * 2. copies of that ISO with `reprimage.install=/dev/vda` written into the menus' reserved space
 *    boot with SeaBIOS and with OVMF (both at once, as a CD, no network) beside an empty 8 GiB
 *    virtio disk: the installer checks the image, writes it, reads it back and powers off;
 *    `reprimage verify-disk` finds each disk equal to the image; then each disk boots (same
 *    firmware) to the example's marker with the root file system grown past 7.5 GiB;
 * 3. refusals (SeaBIOS, at once): a 1 GiB disk (too small), `reprimage.install=/dev/sr0` (the
 *    medium) and a copy of the ISO with one byte of the compressed image changed: one line each,
 *    and nothing written (the target files stay without a single allocated block).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIso } from '../../src/formats/iso9660/index.js';
import { DEFAULT_INSTALLER_CMDLINE, INSTALLER_IMAGE, KARGS_RESERVED } from '../../src/image/installer-iso.js';
import { openFileSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { REPO, runCli, sha256 } from '../helpers/cli.js';
import { cachedCloudImage } from '../helpers/cloud-image.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { bootQemu, describeBoot, requireQemu, type QemuBootResult } from '../helpers/qemu.js';
import { requireTool, run, skipOrFailInCi } from '../helpers/tools.js';

const EXAMPLE = join(REPO, 'examples/installer-minimal');
const END = 'REPRIMAGE-INSTALLER-END';
const CLOUD_MARKER = 'REPRIMAGE-CLOUD-BOOTED';
const GIB = 1024 ** 3;
const IN_CI = process.env.CI === 'true';
const VARIATIONS = ['build-path', 'clock', 'directory-order', 'environment', 'home', 'hostname', 'locale', 'timezone', 'umask', 'user', 'workers'];

const scratch = mkdtempSync(join(tmpdir(), 'reprimage-installer-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let iso = '';
let image = '';
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(0);
let unattendedCopy = '';
/** The ISO that installs onto /dev/vda with the console on the serial port (made once). */
const unattended = () => (unattendedCopy ||= withKernelArgs('unattended.iso', 'reprimage.install=/dev/vda console=ttyS0,115200'));

/** A copy of the ISO whose menus (isolinux, GRUB, the ESP's GRUB) carry `words` in the reserved space. */
function withKernelArgs(name: string, words: string, source = iso): string {
  const bytes = readFileSync(source);
  const reserved = Buffer.from(`${DEFAULT_INSTALLER_CMDLINE}${' '.repeat(KARGS_RESERVED)}`);
  const filled = Buffer.from(`${DEFAULT_INSTALLER_CMDLINE} ${words}`.padEnd(reserved.length, ' '));
  let found = 0;
  for (let at = bytes.indexOf(reserved); at >= 0; at = bytes.indexOf(reserved, at + 1)) {
    filled.copy(bytes, at);
    found++;
  }
  assert.equal(found, 3, 'the reserved kernel command line in isolinux.cfg, grub.cfg and the ESP grub.cfg');
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

function emptyDisk(name: string, size: string): string {
  const path = join(scratch, name);
  run('truncate', ['-s', size, path]);
  return path;
}

/** What the installer printed: its own lines only. */
const installerLines = (r: QemuBootResult) => r.console.split(/\r?\n/).filter((l) => l.startsWith('reprimage-install:'));

function endStatus(r: QemuBootResult): string | undefined {
  return new RegExp(`${END} status=(\\d)`).exec(r.console)?.[1];
}

test('reprimage check examples/installer-minimal: the installer ISO is byte-identical under every variation; README.md publishes it', { timeout: 60 * 60_000 }, async (t) => {
  if (!requireRecipeBuild(t) || !requireQemu(t, 'bios') || !requireQemu(t, 'uefi') || !requireTool(t, 'truncate', 'stat')) return;
  const started = Date.now();
  const cloud = await cachedCloudImage(scratch);
  image = cloud.path;
  t.diagnostic(`cloud-minimal image ${cloud.built ? `built in ${seconds(started)} s` : 'from the cache'}`);
  const work = join(scratch, 'check');
  const r = runCli(['check', '--json', '--no-progress', '--timeout', '5400', join(EXAMPLE, 'recipe.yaml'), '--keep', '--work-dir', work]);
  assert.ok(r.status === 0 || r.status === 1, `check exited ${r.status}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { reproducible: boolean; applied: Array<{ id: string }>; skipped: Array<{ id: string; reason: string }>; artifacts: Array<{ path: string; identical: boolean }>; seconds: { control: number; experiment: number } };
  const summary = `control ${report.seconds.control.toFixed(0)} s, experiment ${report.seconds.experiment.toFixed(0)} s; skipped: ${report.skipped.map((s) => `${s.id} (${s.reason})`).join('; ') || 'none'}`;
  t.diagnostic(summary);
  assert.equal(report.reproducible, true, `installer.iso differs: ${summary}\n${r.stdout.slice(0, 6000)}`);
  assert.deepEqual(report.artifacts.map((a) => [a.path, a.identical]), [['out/installer.iso', true]]);
  const applied = report.applied.map((v) => v.id);
  const missing = VARIATIONS.filter((id) => !applied.includes(id));
  assert.deepEqual(missing.filter((id) => IN_CI || id !== 'directory-order'), [], `variations not applied: ${summary}`);
  iso = join(work, 'control.artifacts/out/installer.iso');
  const hash = sha256(iso);
  t.diagnostic(`installer.iso sha256 ${hash}, ${statSync(iso).size} bytes`);
  const published = /^([0-9a-f]{64}) {2}installer\.iso$/m.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  assert.equal(hash, published?.[1], 'README.md publishes another installer.iso SHA-256');
  if (missing.length > 0) skipOrFailInCi(t, `not proved under ${missing.join(', ')}`);
});

test('SeaBIOS and OVMF each boot the ISO, install onto an empty 8 GiB disk unattended, verify, power off; the disk equals the image and boots with its root grown', { timeout: 60 * 60_000 }, async (t) => {
  if (!iso) return t.skip('no ISO: the check test did not pass');
  const started = Date.now();
  const firmwares = ['bios', 'uefi'] as const;
  const disks = firmwares.map((f) => emptyDisk(`${f}.img`, '8G'));
  const installs = await Promise.all(firmwares.map((firmware, i) =>
    bootQemu({ firmware, cdrom: unattended(), disk: disks[i], diskInterface: 'virtio', snapshot: false, marker: `${END} status=`, memoryMiB: 1024, timeoutMs: 40 * 60_000 }, t)));
  for (const [i, r] of installs.entries()) {
    assert.equal(endStatus(r), '0', `${firmwares[i]}: ${describeBoot(r)}`);
    const lines = installerLines(r);
    assert.ok(lines.some((l) => /^reprimage-install: verified: SHA-256 [0-9a-f]{64}/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /writing: \d+ MiB of 2048 MiB/.test(l)), `progress: ${lines.join('\n')}`);
    assert.ok(lines.some((l) => l.includes('moving the backup GPT to the end of /dev/vda (sector 16777215)')), lines.join('\n'));
  }
  t.diagnostic(`installs (both at once) ${seconds(started)} s`);

  for (const disk of disks) {
    const verified = runCli(['verify-disk', disk, image]);
    assert.equal(verified.status, 0, `${verified.stdout}${verified.stderr}`);
    assert.match(verified.stdout, /equal to .* \(2147483648 bytes; backup GPT relocated to the end of the disk\)/);
  }
  assert.match(run('sgdisk', ['-v', disks[0]!]).stdout.toString(), /No problems found/);

  const bootedAt = Date.now();
  const boots = await Promise.all(firmwares.map((firmware, i) =>
    bootQemu({ firmware, disk: disks[i], diskInterface: 'virtio', snapshot: false, marker: CLOUD_MARKER, memoryMiB: 1024, timeoutMs: 15 * 60_000 }, t)));
  for (const [i, r] of boots.entries()) {
    assert.ok(r.found, `${firmwares[i]}: ${describeBoot(r)}`);
    const m = /REPRIMAGE-ROOT-BYTES=(\d+)/.exec(r.console);
    assert.ok(m && Number(m[1]) > 7.5 * GIB, `${firmwares[i]}: the root file system did not grow: ${m?.[1]}`);
  }
  t.diagnostic(`installed disks booted (both at once) ${seconds(bootedAt)} s`);
});

test('refusals: a disk too small, the boot medium, a damaged image on the medium: one line each, nothing written', { timeout: 40 * 60_000 }, async (t) => {
  if (!iso) return t.skip('no ISO: the check test did not pass');
  const started = Date.now();
  // one byte in the middle of the compressed image, found by its first bytes
  const source = await openFileSource(iso);
  const medium = await openIso(source);
  const node = (await medium.tree()).get(INSTALLER_IMAGE);
  assert.ok(node?.kind === 'file');
  const head = Buffer.from((await readContent(node.content)).subarray(0, 4096));
  const size = node.content.size;
  await source.close();
  const bytes = readFileSync(unattended());
  const at = bytes.indexOf(head);
  assert.ok(at > 0 && bytes.indexOf(head, at + 1) < 0, 'the compressed image is found once');
  bytes[at + Math.floor(size / 2)] = bytes[at + Math.floor(size / 2)]! ^ 0x40;
  writeFileSync(join(scratch, 'damaged.iso'), bytes);

  const cases = [
    { name: 'too small', cdrom: unattended(), disk: emptyDisk('small.img', '1G'), why: /refused: \/dev\/vda is too small: 1073741824 bytes \(1\.0 GiB\), the image needs 2147483648 \(2\.0 GiB\); nothing was written$/ },
    { name: 'the medium', cdrom: withKernelArgs('medium.iso', 'reprimage.install=/dev/sr0 console=ttyS0,115200'), disk: emptyDisk('medium.img', '8G'), why: /refused: \/dev\/sr0 is the boot medium; nothing was written$/ },
    { name: 'damaged', cdrom: join(scratch, 'damaged.iso'), disk: emptyDisk('damaged.img', '8G'), why: /refused: the image on the medium is damaged: SHA-256 of install\/disk\.img\.gz is [0-9a-f]{64}, expected [0-9a-f]{64}; nothing was written$/ },
  ];
  const results = await Promise.all(cases.map((c) => bootQemu({ firmware: 'bios', cdrom: c.cdrom, disk: c.disk, diskInterface: 'virtio', snapshot: false, marker: `${END} status=`, memoryMiB: 768, timeoutMs: 30 * 60_000 }, t)));
  for (const [i, r] of results.entries()) {
    const c = cases[i]!;
    assert.equal(endStatus(r), '2', `${c.name}: ${describeBoot(r)}`);
    const refusals = installerLines(r).filter((l) => l.includes('refused'));
    assert.equal(refusals.length, 1, `${c.name}: ${installerLines(r).join('\n')}`);
    assert.match(refusals[0]!, c.why);
    assert.ok(!installerLines(r).some((l) => l.includes('writing')), `${c.name}: nothing may be written`);
    // a sparse file gets blocks for any byte written, zeros included
    assert.equal(statSync(c.disk).blocks, 0, `${c.name}: the target has data`);
  }
  t.diagnostic(`three refusals (at once) ${seconds(started)} s`);
});
