// El Torito and hybrid system area oracle: xorriso describes the BIOS + UEFI boot setup we wrote
// exactly as it describes its own `xorriso -as mkisofs -isohybrid-mbr … -isohybrid-gpt-basdat
// -append_partition 2 0xef esp.img` images. Boot files come from Debian's isolinux package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { openFileSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { openIso, writeIso, type IsoWriteOptions } from '../../src/formats/iso9660/index.js';
import { readBootInfoTable } from '../../src/formats/iso9660/el-torito.js';
import { ISO_EPOCH } from '../helpers/iso-sample.js';
import { hasTool, requireTool, run, tempDir } from '../helpers/tools.js';

const ISOLINUX = '/usr/lib/ISOLINUX/isolinux.bin';
const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';

function bootTree(esp?: Uint8Array): Tree {
  const m = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: { sec: ISO_EPOCH - 1, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
  const tree = new Tree(newDir(m(0o755)));
  tree.set('isolinux', newDir(m(0o755)));
  tree.set('isolinux/isolinux.bin', { kind: 'file', ...m(0o644), content: bytesContent(readFileSync(ISOLINUX)) });
  tree.set('isolinux/isolinux.cfg', { kind: 'file', ...m(0o644), content: bytesContent(Buffer.from('default linux\n')) });
  if (esp) tree.set('boot/efiboot.img', { kind: 'file', ...m(0o644), content: bytesContent(esp) });
  return tree;
}

async function report(t: import('node:test').TestContext, tree: Tree, options: Partial<IsoWriteOptions>): Promise<{ path: string; text: string }> {
  const path = join(tempDir(t), 'boot.iso');
  await writeAtomically(path, (sink) =>
    writeIso(tree, sink, {
      volumeId: 'BOOT', buildTime: ISO_EPOCH, bios: { bootImage: 'isolinux/isolinux.bin', loadSize: 4, bootInfoTable: true },
      hybridMbr: readFileSync(ISOHDPFX), mbrId: 0x12345678, ...options,
    }),
  );
  const r = run('xorriso', ['-indev', path, '-report_el_torito', 'plain', '-report_system_area', 'plain'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { path, text: r.stdout.toString('utf8') };
}

function haveBootFiles(t: import('node:test').TestContext): boolean {
  if (existsSync(ISOLINUX) && existsSync(ISOHDPFX)) return true;
  if (process.env.CI === 'true') throw new Error('isolinux files missing in CI (apt-get install isolinux syslinux-common)');
  t.skip('needs Debian packages isolinux and syslinux-common');
  return false;
}

test('BIOS isolinux entry with boot info table and an isohybrid MBR', async (t) => {
  if (!requireTool(t, 'xorriso') || !haveBootFiles(t)) return;
  const { path, text } = await report(t, bootTree(), {});
  assert.match(text, /^El Torito cat path : \/isolinux\/boot\.cat$/m);
  assert.match(text, /^El Torito boot img :\s+1\s+BIOS\s+y\s+none\s+0x0000\s+0x00\s+4\s+\d+$/m);
  assert.match(text, /^El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin$/m);
  assert.match(text, /^El Torito img opts :\s+1\s+boot-info-table isohybrid-suitable$/m);
  assert.match(text, /^System area summary: MBR isohybrid cyl-align-on$/m);
  assert.match(text, /^MBR heads per cyl {2}: 64$/m);
  assert.match(text, /^MBR partition {6}:\s+1\s+0x80\s+0x17\s+0\s+2048$/m);
  const bytes = readFileSync(path);
  assert.equal(bytes.length, 1 << 20, 'padded to a whole cylinder (1 MiB)');
  assert.deepEqual(bytes.subarray(0, 432), readFileSync(ISOHDPFX).subarray(0, 432));
  assert.equal(bytes.readUInt32LE(440), 0x12345678);
  // The boot info table points at the PVD and at the image itself.
  const image = await openIsoHeaders(path);
  const lba = image.bootCatalog!.entries[0]!.extent;
  assert.equal(bytes.readUInt32LE(432), lba * 4);
  const info = readBootInfoTable(bytes.subarray(lba * 2048, lba * 2048 + 64))!;
  assert.deepEqual([info.pvdSector, info.fileSector, info.fileLength], [16, lba, readFileSync(ISOLINUX).length]);
});

test('BIOS + UEFI with the ESP appended as partition 2 and a GPT', async (t) => {
  if (!requireTool(t, 'xorriso') || !haveBootFiles(t)) return;
  const esp = new Uint8Array(2 << 20);
  const gpt = { diskGuid: '01234567-89AB-CDEF-0123-456789ABCDEF', partitionGuids: ['11111111-2222-3333-4444-555555555555', '66666666-7777-8888-9999-AAAAAAAAAAAA'] };
  const { path, text } = await report(t, bootTree(), { efi: { appendedImage: bytesContent(esp) }, gpt });
  assert.match(text, /^El Torito boot img :\s+2\s+UEFI\s+y\s+none\s+0x0000\s+0x00\s+4096\s+512$/m);
  assert.match(text, /^System area summary: MBR isohybrid cyl-align-all GPT$/m);
  assert.match(text, /^MBR partition {6}:\s+1\s+0x80\s+0x00\s+0\s+2048$/m);
  assert.match(text, /^MBR partition {6}:\s+2\s+0x00\s+0xef\s+2048\s+4096$/m);
  assert.match(text, /^GPT disk GUID {6}:\s+67452301ab89efcd0123456789abcdef$/m);
  assert.match(text, /^GPT type GUID {6}:\s+2\s+28732ac11ff8d211ba4b00a0c93ec93b$/m, 'partition 2 is an EFI system partition');
  assert.match(text, /^GPT start and size :\s+1\s+0\s+2048$/m);
  assert.match(text, /^GPT start and size :\s+2\s+2048\s+4096$/m);
  const image = await openIsoHeaders(path);
  assert.deepEqual(image.partitions.gpt?.partitions.map((p) => [p.firstLba, p.lastLba, p.name]), [[0, 2047, 'ISOHybrid'], [2048, 6143, 'ISOHybrid1']]);
  assert.deepEqual(image.bootCatalog?.entries.map((e) => [e.platformName, e.loadSize, e.extent]), [['bios', 4, image.bootCatalog!.entries[0]!.extent], ['efi', 4096, 512]]);
});

test('UEFI image inside the ISO gets an MBR partition too; hidden catalog is not listed', async (t) => {
  if (!requireTool(t, 'xorriso') || !haveBootFiles(t)) return;
  const { path, text } = await report(t, bootTree(new Uint8Array(1 << 20)), { efi: { bootImage: 'boot/efiboot.img' }, hideBootCatalog: true, sortWeights: new Map([['boot/efiboot.img', 1]]) });
  assert.match(text, /^El Torito img path :\s+2\s+\/boot\/efiboot\.img$/m);
  assert.match(text, /^MBR partition path :\s+2\s+\/boot\/efiboot\.img$/m);
  assert.doesNotMatch(text, /El Torito cat path/);
  const listing = run('xorriso', ['-indev', path, '-find', '/', '-name', 'boot.cat'], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.toString();
  assert.doesNotMatch(listing, /boot\.cat/);
});

test('GPT without isohybrid boot code: a protective MBR, and partitions that do not overlap', async (t) => {
  if (!requireTool(t, 'xorriso')) return;
  const gpt = { diskGuid: '01234567-89AB-CDEF-0123-456789ABCDEF', partitionGuids: ['11111111-2222-3333-4444-555555555555', '66666666-7777-8888-9999-AAAAAAAAAAAA', '66666666-7777-8888-9999-AAAAAAAAAAAB'] };
  const esp = new Uint8Array(1 << 20);
  for (const [name, options] of [
    ['appended ESP', { efi: { appendedImage: bytesContent(esp) } }],
    ['ESP inside the ISO', { efi: { bootImage: 'boot/efiboot.img' } }],
  ] as const) {
    const path = join(tempDir(t), 'uefi.iso');
    const tree = bootTree(name === 'ESP inside the ISO' ? esp : undefined);
    await writeAtomically(path, (sink) => writeIso(tree, sink, { volumeId: 'UEFI', buildTime: ISO_EPOCH, gpt, mbrId: 0x0badcafe, ...options }));
    const text = run('xorriso', ['-indev', path, '-report_system_area', 'plain'], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.toString();
    assert.match(text, /^System area summary: MBR protective-msdos-label cyl-align-off GPT$/m, name);
    const size512 = readFileSync(path).length / 512;
    assert.match(text, new RegExp(`^MBR partition {6}:\\s+1\\s+0x00\\s+0xee\\s+1\\s+${size512 - 1}$`, 'm'), name);
    assert.match(text, /^GPT type GUID {6}:\s+\d\s+28732ac11ff8d211ba4b00a0c93ec93b$/m, `${name}: an EFI system partition`);
    assert.doesNotMatch(text, /overlapping/, name);
    const image = await openIsoHeaders(path);
    const parts = image.partitions.gpt!.partitions;
    for (let i = 1; i < parts.length; i++) assert.ok(parts[i]!.firstLba > parts[i - 1]!.lastLba, `${name}: partition ${i + 1} starts after ${i}`);
    assert.ok(parts[0]!.firstLba >= image.partitions.gpt!.firstUsableLba, `${name}: nothing before the first usable LBA`);
    if (hasTool('sgdisk')) {
      const verify = run('sgdisk', ['-v', path], { allowFail: true, stdio: ['ignore', 'pipe', 'pipe'] }).stdout.toString();
      assert.match(verify, /No problems found/, `${name}: ${verify}`);
    }
  }
});

/** The ISO's boot catalog and partition tables, which are read when it is opened; the file is closed after. */
async function openIsoHeaders(path: string): Promise<Awaited<ReturnType<typeof openIso>>> {
  const source = await openFileSource(path);
  try {
    return await openIso(source);
  } finally {
    await source.close();
  }
}
