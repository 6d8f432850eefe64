// The recipe output `type: disk` (docs/cloud-disk.md) without tools: its schema and errors
// (file, line, key), the GRUB BIOS set-up on a synthetic core.img (block list, MBR fields,
// Reed-Solomon bytes, refusals), the swap signature, fstab and the GRUB menus.
// test/oracle/grub-bios.test.ts compares the set-up with grub-bios-setup itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecipe } from '../../src/recipe/recipe.js';
import { RECIPE_DISK_FORMATS, outputFormat, outputPath } from '../../src/recipe/schema.js';
import { DISK_FORMATS } from '../../src/image/convert-disk.js';
import { ReprimageError } from '../../src/errors.js';
import { grubBiosSetup } from '../../src/image/grub-bios-setup.js';
import { addGrubRedundancy } from '../../src/image/grub-reed-solomon.js';
import { diskFstab, diskGrubCfg, grubFinder, swapHeader } from '../../src/image/cloud-disk.js';
import { writeCloudDiskOutput, type RawDiskCache } from '../../src/recipe/cloud-disk-output.js';
import { openVmDisk } from '../../src/image/vm-disk.js';
import { openFileSource } from '../../src/io/source.js';
import { createHash } from 'node:crypto';
import type { RecipeOutput } from '../../src/recipe/schema.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HEAD = `name: demo
architecture: amd64
sources:
  - uri: http://deb.debian.org/debian
    suite: bookworm
    components: [main]
    keyring: /usr/share/keyrings/debian-archive-keyring.gpg
packages: [linux-image-cloud-amd64]
outputs:
`;

function recipeError(outputs: string): string {
  try {
    parseRecipe(HEAD + outputs, 'r.yaml');
  } catch (e) {
    assert.ok(e instanceof ReprimageError && e.code === 'USAGE', `not a USAGE error: ${String(e)}`);
    return e.message;
  }
  assert.fail('the recipe was accepted');
}

test('a disk output: sizes in bytes or with K/M/G/T, partitions, boot firmware; defaults', () => {
  const r = parseRecipe(HEAD + `  - type: disk
    size: 20G
    esp_size: 128M
    boot: [uefi]
    grow_root: false
    kernel_cmdline: console=ttyS0
    partitions:
      - mountpoint: /boot
        size: 268435456
      - mountpoint: swap
        size: 512M
`, 'r.yaml');
  const o = r.outputs[0]!;
  assert.equal(o.size, 20 * 1024 ** 3);
  assert.equal(o.esp_size, 128 << 20);
  assert.deepEqual(o.partitions, [{ mountpoint: '/boot', size: 256 << 20 }, { mountpoint: 'swap', size: 512 << 20 }]);
  assert.equal(outputPath(o), 'disk.img');
  assert.equal(outputFormat(o), 'raw disk (GPT, uefi)');
  const d = parseRecipe(HEAD + '  - type: disk\n', 'r.yaml').outputs[0]!;
  assert.equal(outputFormat(d), 'raw disk (GPT, bios + uefi)');
  const q = parseRecipe(HEAD + '  - type: disk\n    format: qcow2\n    compress: true\n', 'r.yaml').outputs[0]!;
  assert.equal(outputPath(q), 'disk.qcow2');
  assert.equal(outputFormat(q), 'qcow2 disk (GPT, bios + uefi)');
  assert.equal(outputPath({ ...q, format: 'gce' }), 'disk.tar.gz');
  // the recipe's list of formats is convertDisk's
  assert.deepEqual([...RECIPE_DISK_FORMATS], [...DISK_FORMATS]);
});

test('disk output errors name the line and the key', () => {
  assert.equal(recipeError('  - type: disk\n    size: 2X\n'), 'r.yaml:11: outputs[0].size: expected a size such as 2G, 512M or a number of bytes');
  assert.equal(recipeError('  - type: disk\n    size: 1000\n'), 'r.yaml:11: outputs[0].size: must be a whole number of MiB');
  assert.equal(recipeError('  - type: disk\n    format: vhdx\n'), 'r.yaml:11: outputs[0].format: expected one of "raw", "qcow2", "vhd", "vhd-dynamic", "vmdk", "ova", "gce"');
  assert.equal(recipeError('  - type: disk\n    format: vmdk\n    compress: true\n'), 'r.yaml:12: outputs[0].compress: only format qcow2 has compressed clusters');
  assert.equal(recipeError('  - type: disk\n    boot: [coreboot]\n'), 'r.yaml:11: outputs[0].boot[0]: expected one of "bios", "uefi"');
  assert.equal(recipeError('  - type: disk\n    volume_id: X\n'), 'r.yaml:11: outputs[0].volume_id: not a key of a disk output');
  assert.equal(recipeError('  - type: iso\n    size: 2G\n'), 'r.yaml:11: outputs[0].size: not a key of a iso output');
  assert.equal(recipeError('  - type: disk\n    partitions:\n      - mountpoint: boot\n        size: 1M\n'), 'r.yaml:12: outputs[0].partitions[0].mountpoint: swap or an absolute path such as /boot');
  assert.match(recipeError('  - type: disk\n    partitions:\n      - mountpoint: /srv\n'), /^r\.yaml:12: outputs\[0\]\.partitions\[0\]\.size: required/);
  assert.match(recipeError('  - type: disk\n    size: [1]\n'), /^r\.yaml:11: outputs\[0\]\.size: expected a size such as 2G/);
  assert.equal(recipeError('  - type: disks\n'), 'r.yaml:10: outputs[0].type: expected one of "rootfs", "iso", "disk", "installer-iso"');
  // vhd and vhd-dynamic both default to disk.vhd
  assert.equal(recipeError('  - type: disk\n    format: vhd\n  - type: disk\n    format: vhd-dynamic\n'), 'r.yaml:12: outputs[1].path: another output is already written to disk.vhd: give this one its own path');
  assert.equal(recipeError('  - type: disk\n  - type: rootfs\n    path: disk.img\n'), 'r.yaml:12: outputs[1].path: another output is already written to disk.img: give this one its own path');
});

/** A synthetic core.img: diskboot sector with a stale block list, a kernel header naming its no-RS prefix. */
function syntheticCore(sectors: number, noRs = 0x200): Uint8Array {
  const core = new Uint8Array(sectors * 512);
  for (let i = 0; i < core.length; i++) core[i] = (i * 7 + 3) & 0xff;
  const v = new DataView(core.buffer);
  // a stale block list entry and its terminator, as grub-mkimage leaves them
  v.setBigUint64(0x1f4, 1n, true);
  v.setUint16(0x1f4 + 8, 5, true);
  v.setUint16(0x1f4 + 10, 0x820, true);
  core.fill(0, 0x1e8, 0x1f4);
  v.setUint32(512 + 0x10, 0, true);
  v.setUint16(512 + 0x14, noRs, true);
  return core;
}

function syntheticBoot(): Uint8Array {
  const b = new Uint8Array(512).fill(0xcc);
  b[0x66] = 0xeb;
  b[0x67] = 0x05;
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

test('grubBiosSetup: one block list entry after diskboot, a terminator, the MBR fields, and Reed-Solomon filling the area', () => {
  const sector0 = new Uint8Array(512);
  sector0.fill(0x11, 0x03, 0x5a); // a BPB-area the disk had
  sector0.fill(0x22, 0x1b8, 0x1fe); // signature and partition table
  const core = syntheticCore(10);
  const r = grubBiosSetup({ bootImg: syntheticBoot(), coreImg: core, sector0, partitionLba: 2048, partitionSectors: 2048 });
  assert.equal(r.coreSectors, 10);
  assert.equal(r.embedSectors, 20);
  const e = new DataView(r.embedded.buffer);
  assert.equal(e.getBigUint64(0x1f4, true), 2049n);
  assert.equal(e.getUint16(0x1f4 + 8, true), 19);
  assert.equal(e.getUint16(0x1f4 + 10, true), 0x820);
  assert.deepEqual([...r.embedded.subarray(0x1e8, 0x1f4)], new Array(12).fill(0));
  assert.equal(e.getUint32(512 + 0x10, true), 10 * 512);
  // core.img itself is unchanged but for the block list and the redundancy length
  assert.deepEqual(r.embedded.subarray(1024, core.length), core.subarray(1024));
  assert.ok(r.embedded.subarray(core.length).some((b) => b !== 0), 'redundancy bytes follow core.img');
  const m = new DataView(r.mbr.buffer);
  assert.deepEqual([...r.mbr.subarray(0x03, 0x5a)], new Array(0x57).fill(0x11));
  assert.deepEqual([...r.mbr.subarray(0x1b8, 0x1fe)], new Array(0x46).fill(0x22));
  assert.equal(m.getBigUint64(0x5c, true), 2048n);
  assert.equal(r.mbr[0x64], 0xff);
  assert.deepEqual([r.mbr[0x66], r.mbr[0x67]], [0x90, 0x90]);
  assert.deepEqual([r.mbr[510], r.mbr[511]], [0x55, 0xaa]);

  const plain = grubBiosSetup({ bootImg: syntheticBoot(), coreImg: core, sector0, partitionLba: 34, partitionSectors: 15, reedSolomon: false });
  assert.equal(plain.embedSectors, 10);
  assert.equal(new DataView(plain.embedded.buffer).getUint32(512 + 0x10, true), 0);
  assert.equal(new DataView(plain.embedded.buffer).getBigUint64(0x1f4, true), 35n);
});

test('grubBiosSetup refuses a partition too small, a boot.img of the wrong size, a core.img without a block-list terminator', () => {
  const s0 = new Uint8Array(512);
  assert.throws(() => grubBiosSetup({ bootImg: syntheticBoot(), coreImg: syntheticCore(10), sector0: s0, partitionLba: 34, partitionSectors: 9 }), /core\.img: core\.img needs 10 sectors but the BIOS boot partition has 9/);
  assert.throws(() => grubBiosSetup({ bootImg: new Uint8Array(400), coreImg: syntheticCore(10), sector0: s0, partitionLba: 34, partitionSectors: 99 }), /boot\.img: must be 512 bytes, got 400/);
  const broken = syntheticCore(4);
  for (let at = 0x1fc; at > 0; at -= 12) new DataView(broken.buffer).setUint16(at, 1, true);
  assert.throws(() => grubBiosSetup({ bootImg: syntheticBoot(), coreImg: broken, sector0: s0, partitionLba: 34, partitionSectors: 99 }), /no terminator/);
  assert.throws(() => grubBiosSetup({ bootImg: syntheticBoot(), coreImg: syntheticCore(4, 0xffff), sector0: s0, partitionLba: 34, partitionSectors: 99 }), /version mismatch/);
});

test('Reed-Solomon: a code word\'s syndromes are zero (every α^j, j < r, is a root)', () => {
  // one column: data bytes in sector 0..2, redundancy in sectors 3..4, i.e. byte 0 of each
  const buf = new Uint8Array(5 * 512);
  for (let i = 0; i < 3 * 512; i++) buf[i] = (i * 31 + 7) & 0xff;
  addGrubRedundancy(buf, 0, 3 * 512, 2 * 512);
  const exp: number[] = [];
  let x = 1;
  for (let i = 0; i < 255; i++) {
    exp.push(x);
    x = x & 0x80 ? ((x << 1) ^ 0x11d) & 0xff : x << 1;
  }
  const log = new Map(exp.map((v, i) => [v, i]));
  const mul = (a: number, b: number) => (a === 0 || b === 0 ? 0 : exp[(log.get(a)! + log.get(b)!) % 255]!);
  for (const col of [0, 1, 200, 511]) {
    const word = [0, 1, 2, 3, 4].map((s) => buf[s * 512 + col]!);
    for (let j = 0; j < 2; j++) {
      // evaluate the word (highest degree first) at α^j
      let s = 0;
      for (const c of word) s = mul(s, exp[j]!) ^ c;
      assert.equal(s, 0, `column ${col}, syndrome ${j}`);
    }
  }
  const zeros = new Uint8Array(4 * 512);
  addGrubRedundancy(zeros, 0, 2 * 512, 2 * 512);
  assert.ok(zeros.every((b) => b === 0));
});

test('swap signature, fstab and menus', () => {
  const h = swapHeader(8 << 20, '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f');
  assert.equal(Buffer.from(h.subarray(4086)).toString(), 'SWAPSPACE2');
  const v = new DataView(h.buffer);
  assert.equal(v.getUint32(1024, true), 1);
  assert.equal(v.getUint32(1028, true), 2047);
  assert.equal(Buffer.from(h.subarray(1036, 1052)).toString('hex'), '0657fd6da4ab43c484e50933c84b4f4f');
  assert.equal(
    diskFstab([{ spec: 'UUID=x', file: '/', type: 'ext4', options: 'rw', pass: 1 }]),
    '# /etc/fstab: written by reprimage (docs/cloud-disk.md); file systems by their seeded UUIDs\nUUID=x\t/\text4\trw\t0\t1\n',
  );
  const cfg = diskGrubCfg({ title: "it's \"x\"", bootUuid: 'u', kernel: '/boot/vmlinuz-1', initrd: '/boot/initrd.img-1', cmdline: 'root=UUID=r ro' });
  assert.match(cfg, /menuentry 'it_s _x_' \{\n\tlinux \/boot\/vmlinuz-1 root=UUID=r ro\n\tinitrd \/boot\/initrd.img-1\n\}/);
  assert.match(cfg, /search --no-floppy --fs-uuid --set=root u\n/);
  assert.equal(grubFinder('u', '/grub', true), 'search --no-floppy --fs-uuid --set=root u\nset prefix=($root)/grub\nconfigfile $prefix/grub.cfg\n');
});

const meta = { mode: 0o755, uid: 0, gid: 0, mtime: { sec: 1700000000, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };
const text = (s: string | Uint8Array): Node => ({ kind: 'file', ...meta, mode: 0o644, content: bytesContent(typeof s === 'string' ? new TextEncoder().encode(s) : s) });

/** A root tree with just enough for a UEFI-only disk (no GRUB tools needed). */
function uefiTree(kernel = true): Tree {
  const tree = new Tree(newDir(meta));
  if (kernel) {
    tree.set('boot/vmlinuz-6.1.0-test', text('kernel'), meta);
    const trailer = '070701' + '0'.repeat(8 * 11) + '0000000b' + '00000000' + 'TRAILER!!!\0';
    tree.set('boot/initrd.img-6.1.0-test', text(trailer.padEnd(512, '\0')), meta);
  }
  tree.set('usr/lib/shim/shimx64.efi.signed', text('shim'), meta);
  tree.set('usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed', text('grub'), meta);
  return tree;
}

async function diskError(tree: Tree, output: Partial<RecipeOutput>): Promise<{ message: string; left: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-disk-'));
  try {
    await writeCloudDiskOutput(tree, join(dir, 'disk.img'), { type: 'disk', boot: ['uefi'], ...output }, { name: 'x', seed: 'x', buildTime: 1700000000, tempDir: dir });
  } catch (e) {
    assert.ok(e instanceof ReprimageError, String(e));
    const left = readdirSync(dir);
    rmSync(dir, { recursive: true, force: true });
    return { message: e.message, left };
  }
  rmSync(dir, { recursive: true, force: true });
  assert.fail('the disk was written');
}

test('bad input to a disk output: no kernel, a root or ESP too small — one error naming the problem, nothing written', async () => {
  const noKernel = await diskError(uefiTree(false), { size: 64 << 20, esp_size: 8 << 20 });
  assert.match(noKernel.message, /^\/boot\/vmlinuz-\*: no kernel in the root tree \(add linux-image-cloud-amd64 or linux-image-amd64 to the recipe\)$/);
  assert.deepEqual(noKernel.left, []);

  const big = uefiTree();
  big.set('srv/big', text(new Uint8Array(40 << 20).fill(1)), meta);
  const root = await diskError(big, { size: 32 << 20, esp_size: 8 << 20 });
  assert.match(root.message, /^\/\S+\/disk\.img: the root file system \(raise size\) is too small: the tree does not fit in the ext4 file system$/);
  assert.doesNotMatch(root.message, /\n/);
  assert.deepEqual(root.left, []);

  const fatBig = uefiTree();
  fatBig.set('usr/lib/shim/shimx64.efi.signed', text(new Uint8Array(3 << 20).fill(2)), meta);
  const esp = await diskError(fatBig, { size: 64 << 20, esp_size: 1 << 20 });
  assert.match(esp.message, /^\/\S+\/disk\.img: the ESP \(raise esp_size\) is too small: fat: the tree needs 1542 clusters of 2048 bytes, but a 1048576-byte FAT12 volume has 502$/);
  assert.deepEqual(esp.left, []);

  const layout = await diskError(uefiTree(), { size: 16 << 20, esp_size: 8 << 20 });
  assert.match(layout.message, /disk\.img: size: a disk of 16777216 bytes leaves 6291456 bytes for the root file system; make it larger/);
});

test('outputs of one layout share one raw image: the raw output is the disk written alone, the qcow2 holds the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-disk-'));
  try {
    const context = { name: 'x', seed: 'x', buildTime: 1700000000, tempDir: dir };
    const layout: RecipeOutput = { type: 'disk', boot: ['uefi'], size: 64 << 20, esp_size: 8 << 20 };
    const alone = join(dir, 'alone.img');
    await writeCloudDiskOutput(uefiTree(), alone, layout, context);
    const rawImages: RawDiskCache = new Map();
    const shared = { ...context, rawImages };
    const raw = await writeCloudDiskOutput(uefiTree(), join(dir, 'disk.img'), layout, shared);
    const qcow2 = await writeCloudDiskOutput(uefiTree(), join(dir, 'disk.qcow2'), { ...layout, format: 'qcow2' }, shared);
    // another layout gets its own raw image
    await writeCloudDiskOutput(uefiTree(), join(dir, 'other.img'), { ...layout, size: 72 << 20 }, shared);
    assert.equal(rawImages.size, 2);
    assert.ok('convert_raw' in raw.timings && 'disk' in raw.timings, JSON.stringify(raw.timings));
    assert.deepEqual(Object.keys(qcow2.timings), ['convert_qcow2'], 'the second output only converts');
    assert.equal(raw.rootUuid, qcow2.rootUuid);
    const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.equal(hash(join(dir, 'disk.img')), hash(alone));
    const source = await openFileSource(join(dir, 'disk.qcow2'));
    try {
      const vm = await openVmDisk(source);
      assert.ok(vm);
      assert.equal(createHash('sha256').update(await vm.disk.read(0, vm.disk.size)).digest('hex'), hash(alone));
    } finally {
      await source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
