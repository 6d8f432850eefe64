/**
 * The cloud disk end to end (docs/cloud-disk.md), on the bundled example examples/cloud-minimal,
 * whose recipe writes one disk (BIOS boot + ESP + ext4 root) as raw, qcow2, fixed and dynamic
 * VHD, streamOptimized VMDK and a GCE tarball. One `reprimage check` (two builds, the second under
 * every variation) is the only build; the rest uses the control build's images:
 *
 * 1. every format is byte-identical under every variation (all of them must apply in CI), and
 *    disk.img's SHA-256 is the one README.md publishes;
 * 2. the oracles: sgdisk -v, fsck.fat -n (ESP) and e2fsck -fn (root) on the raw disk; qemu-img
 *    check (qcow2, VMDK; qemu-img has no check for vpc) and qemu-img compare equal to the raw
 *    disk (qcow2, both VHDs, VMDK); qemu-img info's virtual size, and the fixed VHD a whole number
 *    of MiB with its footer last (what Azure takes); GNU tar lists the GCE tarball's disk.raw as a
 *    sparse member and extracts it equal to the raw disk;
 * 3. five boots, two at a time, each to the example's marker on the serial console: the raw disk with
 *    SeaBIOS, the qcow2 on virtio (SeaBIOS), the VMDK on VMware's paravirtual SCSI (SeaBIOS), the
 *    fixed VHD on IDE as Hyper-V generation 1 attaches it (OVMF), and a copy of the raw disk grown
 *    to 8 GiB with OVMF, where systemd-repart
 *    and systemd-growfs must grow the root partition and file system on first boot (the marker
 *    unit prints the root file system's size before its marker). Not SATA: Debian's cloud kernel
 *    has no AHCI driver (it has ata_piix, virtio, vmw_pvscsi, hv_storvsc and NVMe).
 *
 * Needs root (mmdebstrap root mode), deb.debian.org or a warm package cache, QEMU and OVMF.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { assertVariations, describeCheck, runCheck } from '../helpers/check-report.js';
import { hashFile } from '../../src/io/hash-file.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { bootQemu, describeBoot, requireQemu, type QemuBootOptions, type QemuBootResult } from '../helpers/qemu.js';
import { requireTool, run, skipOrFailInCi } from '../helpers/tools.js';
import { cacheImage } from '../helpers/cloud-image.js';
import { openFileSource } from '../../src/io/source.js';
import { readPartitionTable } from '../../src/formats/gpt/index.js';

const EXAMPLE = join(REPO, 'examples/cloud-minimal');
const MARKER = 'REPRIMAGE-CLOUD-BOOTED';
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** The example's outputs, in the recipe's order, and how qemu names their formats. */
const IMAGES = [
  ['disk.img', 'raw'],
  ['disk.qcow2', 'qcow2'],
  ['disk.vhd', 'vpc'],
  ['disk-dynamic.vhd', 'vpc'],
  ['disk.vmdk', 'vmdk'],
  ['disk.tar.gz', 'gce'],
] as const;

// shared by the tests below, which node:test runs in order: the images live until the file ends
const scratch = mkdtempSync(join(tmpdir(), 'reprimage-cloud-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let out = '';

const TIMER_PANIC = "IO-APIC + timer doesn't work";

/** A copy of `disk` 8 GiB long (sparse): a larger cloud disk with the same bytes. */
function copyGrown(disk: string, grown: string): void {
  assert.equal(spawnSync('cp', ['--sparse=always', disk, grown]).status, 0);
  run('truncate', ['-s', '8G', grown]);
}

/** The root file system's size the marker unit printed, in bytes. */
function rootBytes(console: string): number {
  const m = /REPRIMAGE-ROOT-BYTES=(\d+)/.exec(console);
  assert.ok(m, 'the marker unit did not print the root file system size');
  return Number(m[1]);
}

test('reprimage check examples/cloud-minimal: every format byte-identical under every variation; disk.img is the published one', { timeout: 90 * 60_000 }, async (t) => {
  if (!requireRecipeBuild(t)) return;
  const work = join(scratch, 'check');
  const report = runCheck([join(EXAMPLE, 'recipe.yaml'), '--keep', '--work-dir', work]);
  t.diagnostic(describeCheck(report));
  assert.equal(report.reproducible, true, `an image differs: ${describeCheck(report)}\n${JSON.stringify(report.artifacts).slice(0, 6000)}`);
  assert.deepEqual(report.artifacts.map((a) => [a.path, a.identical]), IMAGES.map(([name]) => [`out/${name}`, true]));
  const missing = assertVariations(report);
  const dir = join(work, 'control.artifacts/out');
  const images = await Promise.all(IMAGES.map(async ([name]) => ({ name, ...(await hashFile(join(dir, name))) })));
  for (const i of images) t.diagnostic(`${i.name} ${i.size} bytes sha256 ${i.sha256}`);
  const raw = images[0]!;
  assert.equal(raw.size, 2 * GIB);
  out = dir; // the oracles and the boots need only these images, whatever README.md says
  const published = /^([0-9a-f]{64}) {2}disk\.img$/m.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  assert.equal(raw.sha256, published?.[1], 'README.md publishes another disk.img SHA-256');
  // examples/installer-minimal pins this image: leave it in the cache for the installer test
  await cacheImage(join(dir, 'disk.img'));
  if (missing.length > 0) skipOrFailInCi(t, `not proved under ${missing.join(', ')}: ${describeCheck(report)}`);
});

test('the disk in every format passes its oracle: sgdisk, fsck.fat, e2fsck, qemu-img check/compare/info, GNU tar', { timeout: 20 * 60_000 }, async (t) => {
  if (!out) return t.skip('no images: the check test did not pass');
  if (!requireTool(t, 'sgdisk', 'e2fsck', 'fsck.fat', 'dd', 'qemu-img', 'tar', 'gzip')) return;
  const disk = join(out, 'disk.img');
  const dir = mkdtempSync(join(scratch, 'oracle-'));

  // the table, the ESP and the root file system
  assert.match(run('sgdisk', ['-v', disk]).stdout.toString(), /No problems found/);
  const source = await openFileSource(disk);
  const table = await readPartitionTable(source);
  await source.close();
  assert.deepEqual(table.partitions.map((p) => p.typeName), ['bios-boot', 'esp', 'root-x86-64']);
  const slice = (i: number): string => {
    const p = table.partitions[i]!;
    const file = join(dir, `p${i + 1}.img`);
    run('dd', [`if=${disk}`, `of=${file}`, 'bs=1M', `skip=${p.offset / MIB}`, `count=${p.size / MIB}`, 'conv=sparse', 'status=none']);
    return file;
  };
  run('fsck.fat', ['-n', slice(1)]);
  run('e2fsck', ['-fn', slice(2)]);

  // the virtual-machine formats, as qemu-img reads them
  for (const [name, format] of IMAGES) {
    if (format === 'gce' || format === 'raw') continue;
    const image = join(out, name);
    if (format !== 'vpc') assert.match(run('qemu-img', ['check', '-f', format, image]).stdout.toString(), /No errors were found on the image/, name);
    const cmp = run('qemu-img', ['compare', '-f', 'raw', '-F', format, disk, image], { allowFail: true });
    assert.equal(cmp.status, 0, `qemu-img compare disk.img ${name}: ${cmp.stdout} ${cmp.stderr}`);
    const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-f', format, image]).stdout.toString()) as { 'virtual-size': number };
    assert.equal(info['virtual-size'], 2 * GIB, `${name}: virtual size`);
  }
  // Azure: a fixed VHD whose virtual size is a whole number of MiB, the footer its last 512 bytes
  const fixed = join(out, 'disk.vhd');
  assert.equal(statSync(fixed).size, 2 * GIB + 512);
  const footer = Buffer.alloc(512);
  const fd = openSync(fixed, 'r');
  try {
    readSync(fd, footer, 0, 512, 2 * GIB);
  } finally {
    closeSync(fd);
  }
  assert.equal(footer.subarray(0, 8).toString('latin1'), 'conectix');
  assert.equal(footer.readBigUInt64BE(48) % BigInt(MIB), 0n, 'current size a whole number of MiB');
  assert.equal(footer.readUInt32BE(60), 2, 'disk type fixed');

  // GCE: GNU tar sees one sparse member, disk.raw, and extracts the raw disk
  const gce = join(out, 'disk.tar.gz');
  assert.match(run('tar', ['-tvzf', gce]).stdout.toString(), /^-rw-r--r-- root\/root +2147483648 \S+ \S+ disk\.raw\n$/);
  const header = run('sh', ['-c', 'gzip -dc "$1" | head -c 512', 'sh', gce]).stdout;
  assert.equal(String.fromCharCode(header[156]!), 'S', 'an old-GNU sparse member');
  mkdirSync(join(dir, 'x'));
  run('tar', ['-xSzf', gce, '-C', join(dir, 'x')]);
  const extracted = join(dir, 'x/disk.raw');
  assert.equal(statSync(extracted).size, 2 * GIB);
  // qemu-img compare skips the holes of both files: much faster than hashing 2 GiB again
  assert.equal(run('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'raw', disk, extracted], { allowFail: true }).status, 0, 'disk.raw extracted from the tarball differs from disk.img');
  assert.ok(statSync(extracted).blocks * 512 < GIB, 'extracted sparse');
  rmSync(dir, { recursive: true, force: true });
});

test('the disk boots to its marker as raw (SeaBIOS; OVMF, root grown to 8 GiB), qcow2 on virtio, VMDK on PVSCSI, VHD on IDE', { timeout: 50 * 60_000 }, async (t) => {
  if (!out) return t.skip('no images: the check test did not pass');
  if (!requireQemu(t, 'bios') || !requireQemu(t, 'uefi') || !requireTool(t, 'sgdisk', 'truncate')) return;
  const started = Date.now();
  const disk = join(out, 'disk.img');
  // a larger cloud disk: the same bytes, 8 GiB long (sparse)
  const grown = join(scratch, 'grown.img');
  copyGrown(disk, grown);
  const common = { marker: MARKER, memoryMiB: 1024, timeoutMs: 15 * 60_000, failure: 'Kernel panic - not syncing' } as const;
  const boots: Array<[string, QemuBootOptions]> = [
    ['raw, SeaBIOS, virtio', { ...common, firmware: 'bios', disk, diskInterface: 'virtio' }],
    ['raw grown to 8 GiB, OVMF, virtio', { ...common, firmware: 'uefi', disk: grown, diskInterface: 'virtio', snapshot: false }],
    ['qcow2, SeaBIOS, virtio', { ...common, firmware: 'bios', disk: join(out, 'disk.qcow2'), diskFormat: 'qcow2', diskInterface: 'virtio' }],
    ['vmdk, SeaBIOS, PVSCSI', { ...common, firmware: 'bios', disk: join(out, 'disk.vmdk'), diskFormat: 'vmdk', diskInterface: 'pvscsi' }],
    ['vhd (fixed), OVMF, IDE', { ...common, firmware: 'uefi', disk: join(out, 'disk.vhd'), diskFormat: 'vpc', diskInterface: 'ide' }],
  ];
  // two at a time, one per core: five TCG guests on two cores starved each other until a
  // kernel's early timer check failed ("IO-APIC + timer doesn't work")
  const results: Array<readonly [string, QemuBootResult]> = [];
  const queue = [...boots];
  await Promise.all([0, 1].map(async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [label, options] = next;
      let result = await bootQemu(options, t);
      // a guest starved of the host's CPU under TCG misses the kernel's early timer check; that
      // says nothing about the image: boot it once more (a copy that is written to starts anew)
      if (!result.found && result.console.includes(TIMER_PANIC)) {
        t.diagnostic(`${label}: "${TIMER_PANIC}" (host too loaded for TCG), booted again`);
        if (options.snapshot === false) copyGrown(disk, options.disk!);
        result = await bootQemu(options, t);
      }
      t.diagnostic(`${label}: ${result.found ? 'marker' : 'NO marker'} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      results[boots.indexOf(next)] = [label, result];
    }
  }));
  for (const [label, result] of results) assert.ok(result.found, `${label}: ${describeBoot(result)}`);
  const small = rootBytes(results[0]![1].console);
  const large = rootBytes(results[1]![1].console);
  t.diagnostic(`root file system: ${small} bytes on the 2 GiB disk, ${large} bytes on the 8 GiB disk; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  assert.ok(small < 2 * GIB && small > 1.5 * GIB, `root on the 2 GiB disk: ${small}`);
  assert.ok(large > 7.5 * GIB, `the root file system did not grow to the 8 GiB disk: ${large}`);
  // the other formats hold the same 2 GiB disk: no growth there
  for (const [, result] of results.slice(2)) assert.equal(rootBytes(result.console), small);
  // the grown disk's table is still valid, now spanning the whole disk
  assert.match(run('sgdisk', ['-v', grown]).stdout.toString(), /No problems found/);
});
