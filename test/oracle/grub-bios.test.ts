// GRUB's BIOS boot on a GPT disk, computed by reprimage, against Debian's own tools:
// - core.img made by running a tree's grub-mkimage under the tree's loader (makeGrubCoreImage,
//   here with a tree of the host's grub-common/grub-pc-bin files) equals the host's grub-mkimage
//   output, and is the same under another TZ and umask;
// - grubBiosSetup's MBR + embedded core.img equal, byte for byte, what grub-bios-setup writes
//   to a disk image file (with and without Reed-Solomon codes; a small core and a large one,
//   whose redundancy spans several 200-sector chunks). grub-bios-setup insists on finding the
//   device of its -d directory: the test gives it a tmpfs whose "device" is the image file, in a
//   private mount namespace (root and unshare needed), so no loop device and no host disk.
// - writeCloudDisk on a small tree: sgdisk -v, e2fsck -fn and fsck.fat -n clean, bytes equal
//   under TZ/umask, the MBR's code is boot.img's pointing at the BIOS boot partition; the same
//   output as qcow2 is clean for qemu-img check and equal to the raw one for qemu-img compare.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { grubBiosSetup } from '../../src/image/grub-bios-setup.js';
import { makeGrubCoreImage, CORE_MODULES } from '../../src/image/grub-mkimage.js';
import { writeCloudDisk } from '../../src/image/cloud-disk.js';
import { writeCloudDiskOutput } from '../../src/recipe/cloud-disk-output.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { bytesContent, fileContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';
import { requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';

const PC = '/usr/lib/grub/i386-pc';
const SETUP = join(PC, 'grub-bios-setup');
const SMALL = ['biosdisk', 'part_gpt', 'ext2'];

function requireGrub(t: TestContext): boolean {
  if (!requireTool(t, 'grub-mkimage', 'sgdisk', 'unshare', 'ldd')) return false;
  if (!existsSync(SETUP) || !existsSync(join(PC, 'boot.img'))) {
    skipOrFailInCi(t, 'needs grub-pc-bin (grub-bios-setup, boot.img)');
    return false;
  }
  if (process.getuid?.() !== 0) {
    skipOrFailInCi(t, 'grub-bios-setup needs a private mount namespace (root)');
    return false;
  }
  return true;
}

const meta = { mode: 0o755, uid: 0, gid: 0, mtime: { sec: 1700000000, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };
const hostFile = (path: string, mode = 0o644): Node => ({ kind: 'file', ...meta, mode, content: fileContent(realpathSync(path), statSync(path).size) });

/** A tree holding the host's grub-mkimage, the libraries it loads (by soname) and the i386-pc modules. */
function hostGrubTree(): Tree {
  const tree = new Tree(newDir(meta));
  tree.set('usr/bin/grub-mkimage', hostFile('/usr/bin/grub-mkimage', 0o755), meta);
  const ldd = run('ldd', ['/usr/bin/grub-mkimage']).stdout.toString();
  for (const m of ldd.matchAll(/(\S+) => (\/\S+)|^\s*(\/\S*ld-linux\S*)/gm)) {
    const path = m[2] ?? m[3]!;
    tree.set(`usr/lib/x86_64-linux-gnu/${basename(m[1] ?? path)}`, hostFile(path, 0o755), meta);
  }
  for (const name of readdirNames(PC)) tree.set(`usr/lib/grub/i386-pc/${name}`, hostFile(join(PC, name)), meta);
  return tree;
}

function readdirNames(dir: string): string[] {
  return run('ls', ['-1', dir]).stdout.toString().split('\n').filter((n) => n !== '' && statSync(join(dir, n)).isFile());
}

/** A GPT disk image with a 1 MiB BIOS boot partition at LBA 2048 and an ext4-type partition. */
function blankDisk(path: string): void {
  writeFileSync(path, '');
  run('truncate', ['-s', '16M', path]);
  run('sgdisk', ['-a', '2048', '-n1:2048:+1M', '-t1:ef02', '-n2:0:0', '-t2:8300', '-U', '5a4e0d6b-36ad-4c3e-8a7c-3c5b8a0f1d21', path]);
}

/** What grub-bios-setup writes onto `disk` (see the file comment for the mount namespace). */
function grubBiosSetupOracle(dir: string, disk: string, core: string, rs: boolean): void {
  const d = join(dir, `setup-${basename(disk)}`);
  mkdirSync(d);
  writeFileSync(join(dir, 'device.map'), `(hd0) ${disk}\n`);
  const script = [
    'set -e',
    `mount -t tmpfs ${disk} ${d}`,
    `cp ${join(PC, 'boot.img')} ${d}/boot.img`,
    `cp ${core} ${d}/core.img`,
    `${SETUP} ${rs ? '' : '--no-rs-codes'} --skip-fs-probe -d ${d} -m ${join(dir, 'device.map')} ${disk}`,
  ].join('\n');
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `grub-bios-setup failed: ${r.stderr}`);
}

function ours(disk: string, core: Uint8Array, rs: boolean): { coreSectors: number; embedSectors: number } {
  const fd = openSync(disk, 'r+');
  try {
    const sector0 = Buffer.alloc(512);
    readSync(fd, sector0, 0, 512, 0);
    const r = grubBiosSetup({ bootImg: readFileSync(join(PC, 'boot.img')), coreImg: core, sector0, partitionLba: 2048, partitionSectors: 2048, reedSolomon: rs });
    writeSync(fd, r.mbr, 0, 512, 0);
    writeSync(fd, r.embedded, 0, r.embedded.length, 2048 * 512);
    return r;
  } finally {
    closeSync(fd);
  }
}

test('core.img from a tree\'s grub-mkimage equals the host grub-mkimage\'s, under any TZ and umask', async (t) => {
  if (!requireGrub(t)) return;
  const dir = tempDir(t);
  const cfg = 'search --no-floppy --fs-uuid --set=root 11111111-2222-4333-8444-555555555555\nset prefix=($root)/boot/grub\n';
  writeFileSync(join(dir, 'load.cfg'), cfg);
  run('grub-mkimage', ['-O', 'i386-pc', '-d', PC, '-p', '/boot/grub', '-c', join(dir, 'load.cfg'), '-o', join(dir, 'host.img'), ...CORE_MODULES]);
  const tree = hostGrubTree();
  const a = await makeGrubCoreImage(tree, { config: cfg, prefix: '/boot/grub', workDir: join(dir, 'a') });
  const tz = process.env.TZ;
  const umask = process.umask(0o077);
  process.env.TZ = 'Pacific/Chatham';
  try {
    const b = await makeGrubCoreImage(tree, { config: cfg, prefix: '/boot/grub', workDir: join(dir, 'b') });
    assert.deepEqual(Buffer.from(b), Buffer.from(a));
  } finally {
    process.umask(umask);
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  assert.ok(Buffer.from(a).equals(readFileSync(join(dir, 'host.img'))), 'core.img differs from grub-mkimage\'s');
});

for (const [label, modules] of [['a small core.img', SMALL], ['a large core.img (Reed-Solomon in several chunks)', [...CORE_MODULES]]] as const) {
  for (const rs of [true, false]) {
    test(`the MBR and embedded ${label} equal grub-bios-setup's${rs ? '' : ' (--no-rs-codes)'}`, (t) => {
      if (!requireGrub(t)) return;
      const dir = tempDir(t);
      const core = join(dir, 'core.img');
      run('grub-mkimage', ['-O', 'i386-pc', '-d', PC, '-p', '(hd0,gpt2)/boot/grub', '-o', core, ...modules]);
      const theirs = join(dir, 'theirs.img');
      const mine = join(dir, 'ours.img');
      blankDisk(theirs);
      copyFileSync(theirs, mine);
      grubBiosSetupOracle(dir, theirs, core, rs);
      const r = ours(mine, readFileSync(core), rs);
      t.diagnostic(`core.img ${r.coreSectors} sectors, embedding area ${r.embedSectors}`);
      if (modules.length > SMALL.length && rs) assert.ok(r.embedSectors > 200, 'the large core should span several Reed-Solomon chunks');
      const a = readFileSync(theirs);
      const b = readFileSync(mine);
      const firstDiff = a.findIndex((x, i) => x !== b[i]);
      assert.equal(firstDiff, -1, `first difference at byte ${firstDiff} (sector ${Math.floor(firstDiff / 512)})`);
    });
  }
}

function smallSystem(): Tree {
  const tree = hostGrubTree();
  const text = (s: string): Node => ({ kind: 'file', ...meta, mode: 0o644, content: bytesContent(new TextEncoder().encode(s)) });
  tree.set('usr/lib/grub/i386-pc/boot.img', hostFile(join(PC, 'boot.img')), meta);
  tree.set('boot/vmlinuz-6.1.0-test', text('not a kernel'), meta);
  // an uncompressed newc archive holding only its trailer: the repack keeps it uncompressed
  const trailer = '070701' + '0'.repeat(8 * 11) + '0000000b' + '00000000' + 'TRAILER!!!\0';
  tree.set('boot/initrd.img-6.1.0-test', text(trailer.padEnd(512, '\0')), meta);
  tree.set('usr/lib/shim/shimx64.efi.signed', text('shim'), meta);
  tree.set('usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed', text('grub'), meta);
  tree.set('etc/hostname', text('small\n'), meta);
  return tree;
}

test('a small system on a disk: clean for sgdisk, e2fsck and fsck.fat, identical under TZ and umask', async (t) => {
  if (!requireGrub(t) || !requireTool(t, 'e2fsck', 'fsck.fat')) return;
  const dir = tempDir(t);
  const options = { name: 'small', seed: 'small', buildTime: 1700000000, size: 96 << 20, espSize: 33 << 20, partitions: [{ mountpoint: 'swap', size: 8 << 20 }, { mountpoint: '/boot', size: 16 << 20 }] };
  const a = join(dir, 'a.img');
  const report = await writeAtomically(a, (sink) => writeCloudDisk(smallSystem(), sink, { ...options, tempDir: dir }));
  const umask = process.umask(0o077);
  const tz = process.env.TZ;
  process.env.TZ = 'Asia/Kathmandu';
  try {
    await writeAtomically(join(dir, 'b.img'), (sink) => writeCloudDisk(smallSystem(), sink, { ...options, tempDir: dir }));
  } finally {
    process.umask(umask);
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  assert.ok(readFileSync(a).equals(readFileSync(join(dir, 'b.img'))), 'the disk differs under another TZ and umask');
  const v = run('sgdisk', ['-v', a]).stdout.toString();
  assert.match(v, /No problems found/);
  const parts = report.disk.partitions;
  assert.deepEqual(parts.map((p) => p.type), ['bios-boot', 'esp', 'swap', 'xbootldr', 'root-x86-64']);
  const slice = (i: number) => {
    const p = parts[i]!;
    const out = join(dir, `p${i + 1}.img`);
    writeFileSync(out, readFileSync(a).subarray(p.offset, p.offset + p.size));
    return out;
  };
  run('fsck.fat', ['-n', slice(1)]);
  run('e2fsck', ['-fn', slice(3)]);
  run('e2fsck', ['-fn', slice(4)]);
  const mbr = readFileSync(a).subarray(0, 512);
  const boot = readFileSync(join(PC, 'boot.img'));
  assert.ok(mbr.subarray(0x66 + 2, 0x1b8).equals(boot.subarray(0x66 + 2, 0x1b8)), 'the MBR code is boot.img\'s');
  assert.equal(mbr.readBigUInt64LE(0x5c), BigInt(parts[0]!.offset / 512));
  // swap carries its signature and the UUID fstab names
  const swap = readFileSync(slice(2));
  assert.equal(swap.subarray(4096 - 10, 4096).toString(), 'SWAPSPACE2');
});


test('the disk output in qcow2: qemu-img check clean, qemu-img compare equal to the raw output', async (t) => {
  if (!requireGrub(t) || !requireTool(t, 'qemu-img')) return;
  const dir = tempDir(t);
  const context = { name: 'small', seed: 'small', buildTime: 1700000000, tempDir: dir };
  const output = { type: 'disk' as const, size: 64 << 20, esp_size: 33 << 20 };
  await writeCloudDiskOutput(smallSystem(), join(dir, 'disk.img'), output, context);
  await writeCloudDiskOutput(smallSystem(), join(dir, 'disk.qcow2'), { ...output, format: 'qcow2' }, context);
  run('qemu-img', ['check', join(dir, 'disk.qcow2')]);
  run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', join(dir, 'disk.img'), join(dir, 'disk.qcow2')]);
  assert.deepEqual(readdirSync(dir).sort(), ['disk.img', 'disk.qcow2']);
});
