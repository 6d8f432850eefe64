// Oracle tests of the FAT reader on volumes made at test time by mkfs.fat and mtools (mcopy,
// mdel, mmd): the Tree we read lists exactly as `mdir -/ -a` lists the volume, and every file
// holds the bytes that were copied in, also a file that mtools fragmented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFat } from '../../src/formats/fat/index.js';
import { openFileSource } from '../../src/io/source.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { FAT_EPOCH, noise, parseMdir, treeContents, treeFatListing } from '../unit/fat-support.js';

const TOOL_ENV = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

/** Writes the source tree of the test volumes; returns the files it made with their bytes. */
function makeSource(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const put = (path: string, bytes: Uint8Array, mtime = FAT_EPOCH): void => {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, bytes);
    utimesSync(full, mtime, mtime);
    files.set(path, bytes);
  };
  put('EFI/BOOT/BOOTX64.EFI', noise(256 * 1024 + 99, 11));
  put('EFI/BOOT/grub.cfg', Buffer.from('search --file /live\n'));
  put('EFI/debian/fbx64.efi', noise(9000, 12), FAT_EPOCH - 86400 * 400);
  put('boot/grub/x86_64-efi/normal.mod', noise(40000, 13));
  put('A very long directory name, with punctuation/and a file (1).txt', Buffer.from('punctuated\n'));
  put('UPPER.TXT', Buffer.from('u\n'));
  put('lower.txt', Buffer.from('l\n'));
  put('CamelCase.Json', Buffer.from('{}\n'));
  put('ünïcödé name.txt', Buffer.from('unicode\n'));
  put('zero length', new Uint8Array(0));
  for (let i = 0; i < 14; i++) put(`many/similar long name ${i}.dat`, noise(i * 100, i + 20));
  return files;
}

for (const fatType of [12, 16, 32] as const) {
  test(`FAT${fatType} made by mkfs.fat + mcopy + mdel: our tree lists as mdir does, contents byte-equal`, async (t) => {
    if (!requireTool(t, 'mkfs.fat', 'mcopy', 'mdir', 'mdel', 'mshowfat')) return;
    const dir = tempDir(t);
    const src = join(dir, 'src');
    const files = makeSource(src);
    const img = join(dir, `fat${fatType}.img`);
    const kib = { 12: 2048, 16: 20480, 32: 40960 }[fatType];
    run('mkfs.fat', ['-C', '-F', String(fatType), '-n', `TEST${fatType}`, '-i', `7e57${fatType}00`, img, String(kib)], { env: TOOL_ENV });
    run('sh', ['-c', `mcopy -s -m -i "${img}" "${src}"/* ::/`], { env: TOOL_ENV });
    // Fragment a file: fill, delete from the middle, copy something larger than the hole.
    const filler = (name: string, n: number, seed: number): string => {
      const path = join(dir, name);
      writeFileSync(path, noise(n, seed));
      return path;
    };
    run('mcopy', ['-i', img, filler('one.bin', 30000, 1), filler('two.bin', 5000, 2), filler('three.bin', 30000, 3), '::/'], { env: TOOL_ENV });
    run('mdel', ['-i', img, '::/two.bin'], { env: TOOL_ENV });
    if (fatType === 32) run('sh', ['-c', `printf '\\002\\000\\000\\000' | dd of="${img}" bs=1 seek=1004 conv=notrunc status=none`]);
    const fragmented = noise(60000, 4);
    writeFileSync(join(dir, 'fragmented.bin'), fragmented);
    run('mcopy', ['-i', img, join(dir, 'fragmented.bin'), '::/'], { env: TOOL_ENV });
    files.set('one.bin', noise(30000, 1));
    files.set('three.bin', noise(30000, 3));
    files.set('fragmented.bin', fragmented);
    const chain = run('mshowfat', ['-i', img, '::/fragmented.bin'], { env: TOOL_ENV }).stdout.toString();
    assert.match(chain, /<\d+-\d+> <\d+-\d+>/, 'the file is in two runs');

    const source = await openFileSource(img);
    t.after(() => source.close());
    const image = await openFat(source);
    assert.equal(image.type, fatType);
    assert.equal(image.label, `TEST${fatType}`);
    assert.equal(image.serial, Number.parseInt(`7e57${fatType}00`, 16));
    const tree = await image.tree();
    const mdir = run('mdir', ['-/', '-a', '-i', img, '::'], { env: TOOL_ENV }).stdout.toString('utf8');
    assert.deepEqual(treeFatListing(tree), parseMdir(mdir));
    const contents = await treeContents(tree);
    assert.deepEqual([...contents.keys()].sort(), [...files.keys()].sort());
    for (const [path, bytes] of files) assert.ok(Buffer.from(contents.get(path)!).equals(Buffer.from(bytes)), path);
    // mcopy -m kept the mtimes; mtools stored them as local time, which is UTC here.
    assert.equal(tree.get('EFI/debian/fbx64.efi')!.mtime.sec, FAT_EPOCH - 86400 * 400);
    assert.equal(readFileSync(join(src, 'lower.txt'), 'utf8'), 'l\n');
  });
}
