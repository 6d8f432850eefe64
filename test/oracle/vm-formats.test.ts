// Oracle tests of the VM image formats. A small GPT disk (ESP + ext4 root) made by `reprimage
// disk` is converted with convertDisk to every format, and:
// - qemu-img check finds no errors (qcow2, compressed qcow2, VMDK; qemu-img has no check for vpc);
// - qemu-img compare finds each image equal to the raw disk (qcow2, VHD fixed and dynamic, VMDK);
// - qemu-img info reports the raw disk's size; the fixed VHD is a whole number of MiB with the
//   footer as its last 512 bytes (what Azure takes);
// - GNU tar lists the GCE tarball's disk.raw as a sparse member ('S') and extracts it sparse and
//   equal to the raw disk; the OVA lists descriptor, manifest and disk in that order, the manifest
//   holds the disk's SHA-256, and the disk inside compares equal;
// - our readers read the images qemu-img convert makes (qcow2 plain and -c, vpc dynamic and
//   fixed force_size, vmdk monolithicSparse and streamOptimized) as exactly the raw disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openFileSource } from '../../src/io/source.js';
import { convertDisk, type DiskFormat } from '../../src/image/convert-disk.js';
import { openVmDisk } from '../../src/image/vm-disk.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { runCli, sha256 } from '../helpers/cli.js';

const EPOCH = 1700000000;
const MIB = 1 << 20;

function makeRaw(dir: string): string {
  const esp = join(dir, 'esp');
  const root = join(dir, 'root');
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(esp, 'EFI/BOOT/BOOTX64.EFI'), 'loader'.repeat(1000));
  for (let i = 0; i < 30; i++) writeFileSync(join(root, 'etc', `file-${i}`), `content ${i}\n`.repeat(i * 100));
  writeFileSync(join(root, 'random'), createHash('sha512').update('x').digest().toString('hex').repeat(20000));
  const out = join(dir, 'disk.img');
  const r = runCli(['disk', '-o', out, '--source-date-epoch', String(EPOCH), '--size', '40M', '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${root}`]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const QEMU_FORMAT: Record<string, string> = { qcow2: 'qcow2', vhd: 'vpc', 'vhd-dynamic': 'vpc', vmdk: 'vmdk' };

test('qemu-img accepts our qcow2, VHD and VMDK images as the raw disk', async (t) => {
  if (!requireTool(t, 'qemu-img', 'sfdisk')) return;
  const dir = tempDir(t);
  const raw = makeRaw(dir);
  const size = statSync(raw).size;
  const outputs: Array<[DiskFormat, string, boolean]> = [
    ['qcow2', join(dir, 'd.qcow2'), false],
    ['qcow2', join(dir, 'c.qcow2'), true],
    ['vhd', join(dir, 'f.vhd'), false],
    ['vhd-dynamic', join(dir, 'd.vhd'), false],
    ['vmdk', join(dir, 'd.vmdk'), false],
  ];
  for (const [format, out, compress] of outputs) {
    await convertDisk(raw, format, { output: out, seed: 'oracle', buildTime: EPOCH, compress });
    const f = QEMU_FORMAT[format]!;
    if (f !== 'vpc') {
      const check = run('qemu-img', ['check', '-f', f, out]);
      assert.match(check.stdout.toString(), /No errors were found on the image/, `${out}: ${check.stdout}`);
    }
    const cmp = run('qemu-img', ['compare', '-f', 'raw', '-F', f, raw, out], { allowFail: true });
    assert.equal(cmp.status, 0, `qemu-img compare ${out}: ${cmp.stdout} ${cmp.stderr}`);
    const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-f', f, out]).stdout.toString()) as { 'virtual-size': number; format: string };
    assert.equal(info['virtual-size'], size, `${out}: virtual size`);
    if (compress) assert.match(run('qemu-img', ['check', '-f', f, out]).stdout.toString(), /[1-9][0-9.]*% compressed clusters/);
  }
  // Azure: a fixed VHD of a whole number of MiB, its footer the last 512 bytes
  const fixed = join(dir, 'f.vhd');
  assert.equal(statSync(fixed).size, size + 512);
  assert.equal(size % MIB, 0);
  assert.equal(readFileSync(fixed).subarray(size, size + 8).toString('latin1'), 'conectix');
  // the GPT inside, as sfdisk sees it through qemu's reading
  run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'raw', join(dir, 'd.vmdk'), join(dir, 'back.img')]);
  assert.equal(sha256(join(dir, 'back.img')), sha256(raw));
});

test('GNU tar lists and extracts the GCE tarball sparse; the OVA holds descriptor, manifest and disk', async (t) => {
  if (!requireTool(t, 'tar', 'qemu-img')) return;
  const dir = tempDir(t);
  const raw = makeRaw(dir);
  const gce = join(dir, 'disk.tar.gz');
  await convertDisk(raw, 'gce', { output: gce, seed: 'oracle', buildTime: EPOCH });
  const listing = run('tar', ['-tvzf', gce]).stdout.toString();
  assert.match(listing, /^-rw-r--r-- root\/root +41943040 2023-11-14 22:13 disk\.raw\n$/);
  const header = gunzipSync(readFileSync(gce)).subarray(0, 512);
  assert.equal(String.fromCharCode(header[156]!), 'S', 'an old-GNU sparse member');
  assert.equal(header.subarray(257, 265).toString('latin1'), 'ustar  \0', 'old-GNU magic');
  mkdirSync(join(dir, 'x'));
  run('tar', ['-xSzf', gce, '-C', join(dir, 'x')]);
  const extracted = join(dir, 'x/disk.raw');
  assert.equal(sha256(extracted), sha256(raw));
  assert.ok(statSync(extracted).blocks * 512 < statSync(extracted).size / 2, 'extracted sparse');

  const ova = join(dir, 'vm.ova');
  await convertDisk(raw, 'ova', { output: ova, seed: 'oracle', buildTime: EPOCH });
  assert.deepEqual(run('tar', ['-tf', ova]).stdout.toString().trim().split('\n'), ['vm.ovf', 'vm.mf', 'vm-disk1.vmdk']);
  mkdirSync(join(dir, 'o'));
  run('tar', ['-xf', ova, '-C', join(dir, 'o')]);
  const mf = readFileSync(join(dir, 'o/vm.mf'), 'utf8');
  assert.ok(mf.includes(`SHA256(vm-disk1.vmdk)= ${sha256(join(dir, 'o/vm-disk1.vmdk'))}`), mf);
  assert.ok(mf.includes(`SHA256(vm.ovf)= ${sha256(join(dir, 'o/vm.ovf'))}`), mf);
  assert.match(readFileSync(join(dir, 'o/vm.ovf'), 'utf8'), /ovf:capacity="41943040"/);
  assert.equal(run('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', raw, join(dir, 'o/vm-disk1.vmdk')], { allowFail: true }).status, 0);
});

test('our readers read what qemu-img convert writes as exactly the raw disk', async (t) => {
  if (!requireTool(t, 'qemu-img')) return;
  const dir = tempDir(t);
  const raw = makeRaw(dir);
  const want = sha256(raw);
  const made: Array<[string, string[]]> = [
    ['q.qcow2', ['-O', 'qcow2']],
    ['qc.qcow2', ['-c', '-O', 'qcow2']],
    ['q2.qcow2', ['-O', 'qcow2', '-o', 'compat=0.10']],
    ['qd.vhd', ['-O', 'vpc']],
    ['qf.vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size']],
    ['qm.vmdk', ['-O', 'vmdk']],
    ['qs.vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized']],
  ];
  for (const [name, args] of made) {
    const path = join(dir, name);
    run('qemu-img', ['convert', '-f', 'raw', ...args, raw, path]);
    const source = await openFileSource(path);
    try {
      const vm = await openVmDisk(source);
      assert.ok(vm, `${name} recognized`);
      const hash = createHash('sha256');
      // qemu's dynamic VHD rounds the size up to its CHS geometry: compare the raw disk's part, and zeros after it
      const size = statSync(raw).size;
      for (let at = 0; at < size; at += 4 * MIB) hash.update(await vm.disk.read(at, Math.min(4 * MIB, size - at)));
      assert.equal(hash.digest('hex'), want, name);
      if (vm.disk.size > size) assert.ok((await vm.disk.read(size, vm.disk.size - size)).every((b) => b === 0), `${name}: zeros after the disk`);
    } finally {
      await source.close();
    }
  }
});
