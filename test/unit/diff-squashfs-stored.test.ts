// Two SquashFS images are compared by their metadata and their stored (compressed) bytes: a file
// whose codec, block list and stored bytes are equal on both sides is never decompressed, wherever
// its blocks sit in each image; only what differs is. And equal stored sizes hide nothing: a byte
// changed inside blocks of the same stored size is still found.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferSource } from '../../src/io/source.js';
import { openSquashfs, type SquashfsImage } from '../../src/formats/squashfs/index.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import type { Difference, EntryChange } from '../../src/diff/difference.js';
import { diffPaths } from '../../src/diff/engine.js';
import { defaultComparators } from '../../src/diff/registry.js';
import { makeSquashfsComparator, squashfsComparator } from '../../src/diff/comparators/squashfs.js';
import { imageOf, pseudoRandom, textBytes } from '../oracle/squashfs-support.js';
import { tempDir } from '../helpers/tools.js';

const BLOCK = 131072;

function file(tree: Tree, path: string, bytes: Uint8Array): void {
  tree.set(path, { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 1700000000, nsec: 0 }, xattrs: new Map(), content: bytesContent(bytes, path) });
}

const dir = (tree: Tree, path: string) => tree.set(path, { kind: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: { sec: 1700000000, nsec: 0 }, xattrs: new Map(), children: new Map() });

/** A tree with multi-block files and many small ones sharing fragment blocks. */
function bigTree(): Tree {
  const tree = new Tree(newDir({ mtime: { sec: 1700000000, nsec: 0 } }));
  for (const d of ['data', 'etc', 'usr', 'usr/share']) dir(tree, d);
  for (let i = 0; i < 4; i++) file(tree, `data/text-${i}`, textBytes(2 * BLOCK + 1000 * i, 100 + i));
  for (let i = 0; i < 2; i++) file(tree, `data/random-${i}`, pseudoRandom(2 * BLOCK + 500, 200 + i));
  for (let i = 0; i < 200; i++) file(tree, `usr/share/small-${String(i).padStart(3, '0')}`, textBytes(100 + 7 * i, 300 + i));
  file(tree, 'etc/shadow', Buffer.from('root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n'));
  return tree;
}

/** Both images written to files, diffed by path with a SquashFS comparator that hands over each image it opens. */
async function diffCounting(t: TestContext, a: Tree, b: Tree): Promise<{ diff: Difference | undefined; images: SquashfsImage[]; bytes: Uint8Array[] }> {
  const dir = tempDir(t);
  const [ia, ib] = await Promise.all([imageOf(a, { compressor: 'gzip' }), imageOf(b, { compressor: 'gzip' })]);
  writeFileSync(join(dir, 'a.sqfs'), ia);
  writeFileSync(join(dir, 'b.sqfs'), ib);
  const images: SquashfsImage[] = [];
  const counting = makeSquashfsComparator({ opened: (image) => images.push(image) });
  const comparators = defaultComparators.map((c) => (c.id === squashfsComparator.id ? counting : c));
  const diff = await diffPaths(join(dir, 'a.sqfs'), join(dir, 'b.sqfs'), { comparators });
  return { diff, images, bytes: [ia, ib] };
}

/** Every member change the report records (members' entries and the file lists' metadata-only ones). */
function changes(d: Difference | undefined): EntryChange[] {
  if (!d) return [];
  return [...(d.entry ? [d.entry] : []), ...(d.entries ?? []), ...d.details.flatMap(changes)];
}

const tail = (p: string | undefined) => p?.split(' ▸ ').at(-1);

async function dataBlockCount(bytes: Uint8Array): Promise<number> {
  const image = await openSquashfs(bufferSource(bytes, 'x'));
  let blocks = 0;
  for await (const e of image.walk()) if (e.node.kind === 'file' && !e.linkTo) blocks += Math.floor(e.node.content.size / BLOCK);
  return blocks;
}

test('one file changed and every block moved: only the changed file is decompressed', async (t) => {
  const a = bigTree();
  const b = bigTree();
  const shadow = Buffer.from('root:*:19000:0:99999:7:::\ndaemon:*:19001:0:99999:7:::\n'); // one byte
  file(b, 'etc/shadow', shadow);
  // incompressible and written first: every later block and fragment of b sits elsewhere than in a
  file(b, 'aaa-first', pseudoRandom(BLOCK + 4321, 9));
  const { diff, images, bytes } = await diffCounting(t, a, b);
  assert.equal(images.length, 2);
  const found = changes(diff).map((c) => `${c.kind} ${tail(c.path1 ?? c.path2)}`);
  assert.deepEqual(found.sort(), ['added aaa-first', 'content etc/shadow']);
  const total = { dataBlocks: 0, fragmentBlocks: 0 };
  for (const image of images) {
    const n = image.decompressed();
    total.dataBlocks += n.dataBlocks;
    total.fragmentBlocks += n.fragmentBlocks;
  }
  // comparing bytes would decompress every block of both sides
  assert.ok((await dataBlockCount(bytes[0]!)) >= 12);
  assert.equal(total.dataBlocks, 0, 'no data block decompressed');
  // the fragment block holding etc/shadow, once on each side (the files sharing it are compared from it)
  assert.ok(total.fragmentBlocks <= 2, `${total.fragmentBlocks} fragment blocks decompressed`);
});

test('a byte changed inside blocks of the same stored size is found', async (t) => {
  const a = bigTree();
  const b = bigTree();
  // incompressible: stored raw, so both sides have the same block list and differ in one byte
  const changed = pseudoRandom(2 * BLOCK + 500, 201);
  changed[BLOCK + 77] = changed[BLOCK + 77]! ^ 0x01;
  file(b, 'data/random-1', changed);
  // compressible, same length: same block count, and (checked below) the same stored sizes
  const text = textBytes(2 * BLOCK + 3000, 103);
  const other = Buffer.from(text);
  other[BLOCK + 5] = other[BLOCK + 5] === 0x61 ? 0x62 : 0x61;
  file(b, 'data/text-3', other);
  const { diff, images } = await diffCounting(t, a, b);
  const found = changes(diff).map((c) => `${c.kind} ${tail(c.path1 ?? c.path2)}`);
  assert.deepEqual(found.sort(), ['content data/random-1', 'content data/text-3']);
  // the hidden case: equal stored forms (codec, sizes, block list), different stored bytes
  const forms = await Promise.all(
    images.map(async (image) => {
      const out = new Map<string, string>();
      for await (const e of image.walk()) if (e.node.kind === 'file') out.set(e.path, e.node.content.stored!.form);
      return out;
    }),
  );
  assert.equal(forms[0]!.get('data/random-1'), forms[1]!.get('data/random-1'));
  // only text-3 (2 blocks) is decompressed, a few times over (compared, sniffed, diffed as text);
  // random-1's blocks are stored raw; the other blocks of each side never
  for (const image of images) assert.ok(image.decompressed().dataBlocks <= 4 * 2, `${image.decompressed().dataBlocks} data blocks decompressed`);
});
