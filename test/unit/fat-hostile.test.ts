// Hostile FAT images: bad BPB values, cluster chains that loop, leave the volume, hit free
// clusters or end early, clusters shared by two files, directories that contain themselves,
// long names that climb out, truncated images. Each must end in a ReprimageError with the right
// code, never a hang or a TypeError; a byte-flip fuzz run over our own image and an mkfs.fat one
// checks the same for arbitrary damage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { isReprimageError } from '../../src/errors.js';
import { openFat, sniffFat, writeFat } from '../../src/formats/fat/index.js';
import { decodeBootSector } from '../../src/formats/fat/boot-sector.js';
import { setFatEntry, getFatEntry } from '../../src/formats/fat/fat-table.js';
import { bufferSource } from '../../src/io/source.js';
import { MemorySink } from '../../src/io/sink.js';
import { readContent } from '../../src/tree/content.js';
import { Tree } from '../../src/tree/tree.js';
import { FAT_EPOCH, fileNode, noise, fatFixtures } from './fat-support.js';

const FIXTURES = fatFixtures();

/** A small FAT12 (or FAT32) volume whose layout the tests patch. */
async function baseImage(fatType: 12 | 32 = 12): Promise<Uint8Array> {
  const tree = new Tree();
  tree.set('EFI/BOOT/BOOTX64.EFI', fileNode(noise(20 * 1024, 3)));
  tree.set('Ab', fileNode('long-named file'));
  tree.set('README', fileNode('short name'));
  tree.set('READMF', fileNode('another short name'));
  const sink = new MemorySink();
  await writeFat(tree, sink, { volumeSerial: 9, buildTime: FAT_EPOCH, fatType, clusterSize: 2048 });
  return sink.bytes().slice();
}

/** Where things are in an image, from its boot sector. */
function layoutOf(img: Uint8Array) {
  const bs = decodeBootSector(img, 'x');
  const fatType = bs.fat32Layout ? 32 : 12;
  return {
    bs, fatType: fatType as 12 | 32,
    fats: Array.from({ length: bs.numFats }, (_, i) => (bs.reservedSectors + i * bs.fatSectors) * 512),
    entry(short: string): number {
      const at = Buffer.from(img).indexOf(Buffer.from(short, 'latin1'));
      assert.ok(at > 0, short);
      return at;
    },
  };
}

function firstCluster(img: Uint8Array, entryAt: number): number {
  const v = new DataView(img.buffer, img.byteOffset);
  return v.getUint16(entryAt + 20, true) * 0x10000 + v.getUint16(entryAt + 26, true);
}

function setFirstCluster(img: Uint8Array, entryAt: number, cluster: number): void {
  const v = new DataView(img.buffer, img.byteOffset);
  v.setUint16(entryAt + 20, cluster >>> 16, true);
  v.setUint16(entryAt + 26, cluster & 0xffff, true);
}

function setFat(img: Uint8Array, cluster: number, value: number): void {
  const l = layoutOf(img);
  for (const at of l.fats) setFatEntry(img.subarray(at), l.fatType, cluster, value);
}

async function readAll(img: Uint8Array): Promise<void> {
  const image = await openFat(bufferSource(img, 'hostile.img'));
  const tree = await image.tree();
  for (const { node } of tree.walk()) if (node.kind === 'file') await readContent(node.content);
}

const rejectsWith = (code: string, re: RegExp) => (e: Error & { code?: string }) => {
  assert.ok(isReprimageError(e), `not a ReprimageError: ${e.stack}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  assert.ok(e.message.startsWith('hostile.img: '), e.message);
  return true;
};

test('our base image reads cleanly (the patches below are what breaks it)', async () => {
  await readAll(await baseImage());
  await readAll(await baseImage(32));
  assert.ok(sniffFat(await baseImage()));
  assert.ok(!sniffFat(new Uint8Array(512)));
  const mbrLike = new Uint8Array(512);
  mbrLike[510] = 0x55;
  mbrLike[511] = 0xaa;
  assert.ok(!sniffFat(mbrLike));
});

test('bad BPB values: CORRUPT_IMAGE naming the field', async () => {
  const cases: Array<[string, (v: DataView) => void, RegExp]> = [
    ['bytes per sector 513', (v) => v.setUint16(11, 513, true), /bytes per sector.*513 is not a power of two/],
    ['bytes per sector 0', (v) => v.setUint16(11, 0, true), /bytes per sector/],
    ['zero sectors per cluster', (v) => v.setUint8(13, 0), /zero sectors per cluster/],
    ['3 sectors per cluster', (v) => v.setUint8(13, 3), /3 is not a power of two/],
    ['zero reserved sectors', (v) => v.setUint16(14, 0, true), /reserved sectors/],
    ['zero FATs', (v) => v.setUint8(16, 0), /zero FATs/],
    ['a FAT too small for the clusters', (v) => v.setUint16(22, 1, true), /cannot hold the \d+ FAT entries/],
    ['a data area past the end', (v) => v.setUint16(17, 0xfff0, true), /end before the data area/],
  ];
  for (const [what, patch, re] of cases) {
    const img = await baseImage();
    patch(new DataView(img.buffer, img.byteOffset));
    await assert.rejects(readAll(img), rejectsWith('CORRUPT_IMAGE', re), what);
  }
});

test('truncated images and volumes larger than the image: TRUNCATED', async () => {
  const img = await baseImage();
  await assert.rejects(readAll(img.subarray(0, 100)), rejectsWith('TRUNCATED', /boot sector/));
  await assert.rejects(readAll(img.subarray(0, img.length / 2)), rejectsWith('TRUNCATED', /FAT volume of 1048576 bytes/));
  const v = new DataView(img.buffer, img.byteOffset);
  v.setUint32(32, v.getUint16(19, true) + 64, true); // 64 sectors more than the image holds
  v.setUint16(19, 0, true);
  await assert.rejects(readAll(img), rejectsWith('TRUNCATED', /FAT volume/));
});

test('cluster chains: loops, links out of the volume, free and bad clusters, early ends, sharing', async () => {
  const patch = async (f: (img: Uint8Array, first: number) => void): Promise<Uint8Array> => {
    const img = await baseImage();
    f(img, firstCluster(img, layoutOf(img).entry('BOOTX64 EFI')));
    return img;
  };
  await assert.rejects(readAll(await patch((img, c) => setFat(img, c + 5, c + 1))), rejectsWith('LINK_LOOP', /BOOTX64\.EFI" loops back to cluster/));
  await assert.rejects(readAll(await patch((img, c) => setFat(img, c + 3, 4000))), rejectsWith('OUT_OF_BOUNDS', /points from cluster \d+ to 4000, outside the volume/));
  await assert.rejects(readAll(await patch((img, c) => setFat(img, c + 3, 0))), rejectsWith('CORRUPT_IMAGE', /which is marked free/));
  await assert.rejects(readAll(await patch((img, c) => setFat(img, c + 3, 0xff7))), rejectsWith('CORRUPT_IMAGE', /which is marked bad/));
  await assert.rejects(readAll(await patch((img, c) => setFat(img, c + 3, 0xfff))), rejectsWith('CORRUPT_IMAGE', /20480 bytes but its cluster chain only 4 clusters/));
  await assert.rejects(readAll(await patch((img, c) => setFirstCluster(img, layoutOf(img).entry('AB         '), c + 2))), rejectsWith('CORRUPT_IMAGE', /shares cluster/));
  await assert.rejects(readAll(await patch((img) => setFirstCluster(img, layoutOf(img).entry('AB         '), 1))), rejectsWith('OUT_OF_BOUNDS', /starts at cluster 1/));
  // The chain is intact in FAT 1 here: a damaged second FAT is not read.
  const img = await patch(() => undefined);
  const l = layoutOf(img);
  setFatEntry(img.subarray(l.fats[1]!), 12, 5, 0);
  assert.equal(getFatEntry(img.subarray(l.fats[0]!), 12, 5), 6);
  await readAll(img);
});

test('directories that contain themselves: LINK_LOOP; a long name "..": PATH_ESCAPE', async () => {
  for (const fatType of [12, 32] as const) {
    const img = await baseImage(fatType);
    const l = layoutOf(img);
    const efi = firstCluster(img, l.entry('EFI        '));
    setFirstCluster(img, l.entry('BOOT       '), efi);
    await assert.rejects(readAll(img), rejectsWith('LINK_LOOP', /directory "EFI\/BOOT" \(cluster \d+\) contains itself/));
    const toRoot = await baseImage(fatType);
    setFirstCluster(toRoot, layoutOf(toRoot).entry('BOOT       '), fatType === 32 ? 2 : 0);
    await assert.rejects(readAll(toRoot), rejectsWith('LINK_LOOP', /contains itself/));
  }
  const img = await baseImage();
  const lfn = layoutOf(img).entry('AB         ') - 32;
  img[lfn + 1] = 0x2e; // 'A' → '.'
  img[lfn + 3] = 0x2e; // 'b' → '.'
  await assert.rejects(readAll(img), rejectsWith('PATH_ESCAPE', /long name "\.\."/));
  img[lfn + 1] = 0x2f; // '/'
  await assert.rejects(readAll(img), rejectsWith('CORRUPT_IMAGE', /entry named "\/\."/));
  const dup = await baseImage();
  dup.set(Buffer.from('README     '), layoutOf(dup).entry('READMF     '));
  await assert.rejects(readAll(dup), rejectsWith('CORRUPT_IMAGE', /two entries are named "README"/));
  // A long-name set whose checksum does not match is ignored: the short name is used.
  const orphan = await baseImage();
  const sumAt = layoutOf(orphan).entry('AB         ') - 32 + 13;
  orphan[sumAt] = orphan[sumAt]! ^ 0xff;
  const tree = await (await openFat(bufferSource(orphan, 'hostile.img'))).tree();
  assert.ok(tree.get('AB') && !tree.get('Ab'));
});

test('FAT32: a root cluster outside the volume or a root chain that loops', async () => {
  const img = await baseImage(32);
  new DataView(img.buffer, img.byteOffset).setUint32(44, 0x0ffffff0, true);
  await assert.rejects(readAll(img), rejectsWith('OUT_OF_BOUNDS', /the root directory starts at cluster/));
  const loop = await baseImage(32);
  setFat(loop, 2, 2);
  await assert.rejects(readAll(loop), rejectsWith('LINK_LOOP', /the root directory" loops|root directory loops/));
});

/** Byte ranges [start, end) of an image worth damaging: boot sector, FAT heads, root, first clusters. */
function vitalRanges(img: Uint8Array): Array<[number, number]> {
  const l = layoutOf(img);
  const bs = l.bs;
  const rootBytes = bs.fat32Layout ? 0 : bs.rootEntries * 32;
  const data = (bs.reservedSectors + bs.numFats * bs.fatSectors) * 512 + rootBytes;
  const ranges: Array<[number, number]> = [[0, 512]];
  if (bs.fat32Layout) ranges.push([512, 1024]);
  for (const at of l.fats) ranges.push([at, at + 1024]);
  if (rootBytes) ranges.push([data - rootBytes, data - rootBytes + 2048]);
  ranges.push([data, data + 16 * bs.sectorsPerCluster * 512]);
  return ranges;
}

/** Flips bytes in place, reads everything, restores the bytes. Only ReprimageErrors may escape. */
async function fuzz(img: Uint8Array, numRuns: number, seed: number): Promise<{ errors: number; ok: number; slowest: number }> {
  const ranges = vitalRanges(img);
  const total = ranges.reduce((n, [a, b]) => n + b - a, 0);
  const position = (k: number): number => {
    for (const [a, b] of ranges) {
      if (k < b - a) return a + k;
      k -= b - a;
    }
    throw new Error('unreachable');
  };
  const stats = { errors: 0, ok: 0, slowest: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(total - 1).map(position), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (flips) => {
      const saved = flips.map(([at]) => img[at]!);
      for (const [at, value] of flips) img[at] = value;
      const started = performance.now();
      try {
        await readAll(img);
        stats.ok++;
      } catch (e) {
        if (!isReprimageError(e)) throw e;
        stats.errors++;
      } finally {
        for (let i = flips.length - 1; i >= 0; i--) img[flips[i]![0]] = saved[i]!;
        stats.slowest = Math.max(stats.slowest, performance.now() - started);
      }
    }),
    { numRuns, seed },
  );
  return stats;
}

test('byte-flip fuzz: 2000 runs on our FAT12 image, 1000 on our FAT32 image, 1000 on the mkfs.fat FAT16 fixture', async (t) => {
  const s1 = await fuzz(await baseImage(), 2000, 1);
  const s2 = await fuzz(await baseImage(32), 1000, 2);
  const s3 = await fuzz(new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, 'fat16.img.gz')))), 1000, 3);
  for (const s of [s1, s2, s3]) {
    t.diagnostic(JSON.stringify(s));
    // The flips hit both vital bytes (a ReprimageError) and harmless ones (padding, file data).
    assert.ok(s.errors >= (s.errors + s.ok) / 50 && s.ok > 100, JSON.stringify(s));
    assert.ok(s.slowest < 2000, `slowest run ${s.slowest} ms`);
  }
});
