// Unit tests of the SquashFS writer and reader (no external tools): round trips for every
// compressor, pinned codec output, determinism across workers/TZ/umask/insertion order, the
// ordered pipeline, and hostile images (each must give a ReprimageError, quickly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bufferSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { bytesContent } from '../../src/tree/content.js';
import { isReprimageError } from '../../src/errors.js';
import { createSquashfsCodec, lz4DecompressBlock, createSquashfsDecompressor } from '../../src/compress/squashfs-codecs.js';
import { lz4CompressBlock } from '../../src/compress/lz4-block.js';
import { OrderedPipeline } from '../../src/parallel/ordered-pool.js';
import { openSquashfs, sniffSquashfs } from '../../src/formats/squashfs/index.js';
import { decodeSuperblock, encodeSuperblock } from '../../src/formats/squashfs/layout/superblock.js';
import { decodeDevice, encodeDevice } from '../../src/formats/squashfs/layout/inode.js';
import type { SquashfsCompressorName } from '../../src/formats/squashfs/index.js';
import { EPOCH, imageOf, pseudoRandom, sampleTree, sha256, textBytes } from '../oracle/squashfs-support.js';

const COMPRESSORS: SquashfsCompressorName[] = ['gzip', 'xz', 'zstd', 'lz4'];

async function readBack(image: Uint8Array): Promise<Tree> {
  return (await openSquashfs(bufferSource(image, 'test.sqfs'))).tree();
}

async function assertSameTree(got: Tree, want: Tree): Promise<void> {
  const a = [...got.walk()];
  const b = [...want.walk()];
  assert.deepEqual(a.map((e) => e.path), b.map((e) => e.path));
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const where = y.path || '/';
    assert.equal(x.node.kind, y.node.kind, where);
    assert.equal(x.node.mode, y.node.mode, where);
    assert.equal(x.node.uid, y.node.uid, where);
    assert.equal(x.node.gid, y.node.gid, where);
    assert.equal(x.node.mtime.sec, y.node.mtime.sec, where);
    assert.equal(x.linkTo, y.linkTo, `${where} hard link`);
    assert.deepEqual([...x.node.xattrs].map(([k, v]) => [k, Buffer.from(v).toString('hex')]).sort(), [...y.node.xattrs].map(([k, v]) => [k, Buffer.from(v).toString('hex')]).sort(), where);
    if (x.node.kind === 'file' && y.node.kind === 'file') assert.equal(sha256(await readContent(x.node.content)), sha256(await readContent(y.node.content)), where);
    if (x.node.kind === 'symlink' && y.node.kind === 'symlink') assert.equal(x.node.target, y.node.target, where);
    if ((x.node.kind === 'char' || x.node.kind === 'block') && (y.node.kind === 'char' || y.node.kind === 'block')) {
      assert.deepEqual([x.node.major, x.node.minor], [y.node.major, y.node.minor], where);
    }
  }
}

for (const compressor of COMPRESSORS) {
  test(`write then read gives the same Tree (${compressor})`, async () => {
    const tree = sampleTree({ xattrs: true });
    const image = await imageOf(tree, { compressor });
    assert.ok(sniffSquashfs(image));
    await assertSameTree(await readBack(image), tree);
  });
}

test('write then read with every table option (-noI -noD -noF -noX, no fragments, tails in fragments, no dedup)', async () => {
  const tree = sampleTree({ xattrs: true, many: 40 });
  for (const o of [
    { uncompressedInodes: true, uncompressedData: true, uncompressedFragments: true, uncompressedXattrs: true },
    { noFragments: true },
    { alwaysFragments: true, blockSize: 4096 },
    { noDuplicates: true, exportTable: false },
  ]) {
    await assertSameTree(await readBack(await imageOf(tree, o)), tree);
  }
});

test('duplicate contents are stored once; -no-duplicates stores them twice', async () => {
  const tree = new Tree(newDir());
  const data = pseudoRandom(300_000, 9);
  tree.set('a', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 }, xattrs: new Map(), content: bytesContent(data) });
  tree.set('b', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 }, xattrs: new Map(), content: bytesContent(data.slice()) });
  const once = await imageOf(tree, { pad: false });
  const twice = await imageOf(tree, { pad: false, noDuplicates: true });
  assert.ok(twice.length - once.length >= 300_000, `${once.length} vs ${twice.length}`);
});

test('devices: 12-bit major and 20-bit minor survive the kernel encoding', () => {
  for (const [major, minor] of [[0, 0], [1, 3], [7, 300], [4095, 1048575], [259, 65536]] as const) {
    assert.deepEqual(decodeDevice(encodeDevice(major, minor)), { major, minor });
  }
});

test('superblock encode/decode round trip', () => {
  const sb = {
    inodeCount: 5, modTime: EPOCH, blockSize: 131072, fragmentCount: 2, compressor: 1, blockLog: 17, flags: 0xc0, idCount: 1,
    rootInode: 0x1234n, bytesUsed: 4096n, idTable: 4000n, xattrTable: 0xffffffffffffffffn, inodeTable: 200n, dirTable: 300n,
    fragmentTable: 400n, exportTable: 500n,
  };
  assert.deepEqual(decodeSuperblock(encodeSuperblock(sb), 'x'), sb);
});

// The codec bytes are part of the input (docs/design.md rule 6): these hashes pin them.
const PINNED: Record<SquashfsCompressorName, [number, string, number, string]> = {
  gzip: [17010, 'd5d9e47184ece84418e8a31026049bc285d8dd3e0913ab9968fa633fc39d8e2a', 1331, '0f90ccabe88a372994c050aa716abf6585dca6f58cd264e29d9e1366c6743024'],
  xz: [15532, '41fbfacf673d718230c7cf1f67abc1d62bd815097ed21889b1a1342aeb6fd5c1', 1344, '154fc5c780b3996abc1c1e76211135b39721806b3f1e86727d21f5a252bd2607'],
  zstd: [16002, '13c92c9c014039c87623baa7fe8a9cd6d162f44fc7d7c0de60503c9895973d5f', 1287, 'b893e52fff035be9153612b54fe01d0bab9d6b99477e180b1771591ba1553fc1'],
  lz4: [61282, '634150646e34bbfd25ab59c02e72e8be32a99fe392e5001b696dabb66aa8562e', 3899, 'c4e00b66d057c67e353ce02d4e124018b9afd5871e3dcc4b433d1c75fdacf4cb'],
};


for (const compressor of COMPRESSORS) {
  test(`${compressor} codec output is pinned`, async () => {
    const input = textBytes(131072, 42);
    const codec = await createSquashfsCodec({ compressor, blockSize: 131072 });
    const data = await codec.compress(input, false);
    const meta = await codec.compress(input.subarray(0, 8192), true);
    assert.deepEqual([data.length, sha256(data), meta.length, sha256(meta)], PINNED[compressor]);
    const inflate = createSquashfsDecompressor({ gzip: 1, xz: 4, lz4: 5, zstd: 6 }[compressor], 'pin');
    assert.equal(sha256(await inflate(data, 131072)), sha256(input));
  });
}

test("gzip with deflate: 'zlib' (pako 2.1.0, mksquashfs's bytes) is pinned too", async () => {
  const input = textBytes(131072, 42);
  const codec = await createSquashfsCodec({ compressor: 'gzip', blockSize: 131072, deflate: 'zlib' });
  const data = await codec.compress(input, false);
  const meta = await codec.compress(input.subarray(0, 8192), true);
  assert.deepEqual(
    [data.length, sha256(data), meta.length, sha256(meta)],
    [16963, 'ab30b1d6c98abb9e2fe8430e90effa21812ca286bba29fb0b0aa0c120ff666d0', 1326, '9b944dd1541301df1df32ae7dc55de8b34145325ee2207798647ca194b2b745f'],
  );
});

test('a deflate implementation is only for gzip, and gzip blocks do not depend on earlier ones', async () => {
  await assert.rejects(createSquashfsCodec({ compressor: 'zstd', blockSize: 131072, deflate: 'zlib' }), { code: 'USAGE' });
  await assert.rejects(createSquashfsCodec({ compressor: 'gzip', blockSize: 131072, deflate: 'zopfli' as never }), { code: 'USAGE' });
  // independent calls: the same block gives the same bytes after other blocks were compressed
  const codec = await createSquashfsCodec({ compressor: 'gzip', blockSize: 131072 });
  const input = textBytes(131072, 7);
  const first = await codec.compress(input, false);
  await codec.compress(pseudoRandom(1 << 20, 3), false);
  await codec.compress(new Uint8Array(5), true);
  assert.deepEqual(await codec.compress(input, false), first);
});

test('lz4 block compressor round-trips through the bounded decoder', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 0, max: 4 }), (bytes, repeat) => {
      const input = Buffer.concat(Array.from({ length: repeat + 1 }, () => Buffer.from(bytes)));
      const packed = lz4CompressBlock(input);
      assert.deepEqual(Buffer.from(lz4DecompressBlock(packed, input.length, 't')), input);
    }),
    { numRuns: 200 },
  );
});

test('the pipeline emits in submission order whatever the completion order', async () => {
  const seen: number[] = [];
  const p = new OrderedPipeline<number>((v) => {
    seen.push(v);
  }, 4);
  const delays = pseudoRandom(50, 3);
  for (let i = 0; i < 50; i++) await p.submit(new Promise<number>((resolve) => setTimeout(() => resolve(i), delays[i]! % 7)));
  await p.drain();
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
});

test('same bytes with 1, 2 and 8 workers, reversed insertion order, another TZ and umask', async () => {
  for (const compressor of ['gzip', 'xz', 'lz4'] as const) {
    const base = sha256(await imageOf(sampleTree({ xattrs: true }), { compressor, workers: 1 }));
    const oldTz = process.env.TZ;
    const oldUmask = process.umask(0o077);
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      for (const workers of [2, 8]) {
        assert.equal(sha256(await imageOf(sampleTree({ xattrs: true, reverse: true }), { compressor, workers })), base, `${compressor}, ${workers} workers`);
      }
    } finally {
      process.umask(oldUmask);
      if (oldTz === undefined) delete process.env.TZ;
      else process.env.TZ = oldTz;
    }
  }
});

// ---- hostile input ----

function small(): Tree {
  const t = new Tree(newDir({ mtime: { sec: EPOCH, nsec: 0 } }));
  const meta = { mode: 0o755, uid: 0, gid: 0, mtime: { sec: EPOCH, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };
  t.set('aaaa', { kind: 'dir', ...meta, children: new Map() });
  t.set('aaaa/bbbb', { kind: 'dir', ...meta, children: new Map() });
  t.set('aaaa/bbbb/file', { kind: 'file', ...meta, content: bytesContent(textBytes(200_000, 1)) });
  t.set('f', { kind: 'file', ...meta, content: bytesContent(Buffer.from('0123456789')) });
  return t;
}

async function readAll(image: Uint8Array): Promise<void> {
  const tree = await readBack(image);
  for (const { node } of tree.walk()) if (node.kind === 'file') for await (const _ of node.content.chunks());
}

async function expectError(image: Uint8Array, codes: string[]): Promise<void> {
  await assert.rejects(readAll(image), (e: unknown) => {
    assert.ok(isReprimageError(e), `not a ReprimageError: ${String(e)}`);
    assert.ok(codes.includes(e.code), `${e.code}: ${e.message}`);
    return true;
  });
}

function indexOf(hay: Uint8Array, needle: string, from = 0): number {
  return Buffer.from(hay).indexOf(Buffer.from(needle), from);
}

test('bad input: truncated, bad magic, unknown version, sizes and offsets past the end', async () => {
  const image = await imageOf(small(), { pad: false });
  await expectError(image.subarray(0, 50), ['TRUNCATED']);
  await expectError(image.subarray(0, image.length - 10), ['OUT_OF_BOUNDS']);
  const magic = image.slice();
  magic[0] = 0x00;
  await expectError(magic, ['CORRUPT_IMAGE']);
  const version = image.slice();
  version[28] = 3;
  await expectError(version, ['UNSUPPORTED']);
  const inodes = image.slice();
  new DataView(inodes.buffer).setBigUint64(64, 1n << 40n, true);
  await expectError(inodes, ['OUT_OF_BOUNDS']);
  const blockLog = image.slice();
  blockLog[22] = 30;
  await expectError(blockLog, ['CORRUPT_IMAGE']);
  const frags = image.slice();
  new DataView(frags.buffer).setUint32(16, 0xffffffff, true);
  await expectError(frags, ['OUT_OF_BOUNDS']);
});

test('bad input: a directory that contains its parent is a LINK_LOOP', async () => {
  const image = await imageOf(small(), { uncompressedInodes: true, pad: false });
  const sb = decodeSuperblock(image, 't');
  const dirTable = Number(sb.dirTable);
  const a = indexOf(image, 'aaaa', dirTable) - 8;
  const b = indexOf(image, 'bbbb', dirTable) - 8;
  assert.ok(a > dirTable && b > dirTable);
  const v = new DataView(image.buffer, image.byteOffset);
  v.setUint16(b, v.getUint16(a, true), true); // bbbb now points at aaaa's inode
  await expectError(image, ['LINK_LOOP']);
});

test('bad input: absurd file size and corrupt compressed data', async () => {
  const raw = await imageOf(small(), { uncompressedInodes: true, pad: false });
  const sb = decodeSuperblock(raw, 't');
  // The first inode written is the 200 KB file (post-order); its size field is at +28.
  const first = Number(sb.inodeTable) + 2;
  assert.equal(new DataView(raw.buffer).getUint16(first, true), 2);
  const huge = raw.slice();
  new DataView(huge.buffer).setUint32(first + 28, 0xffffffff, true);
  await expectError(huge, ['OUT_OF_BOUNDS', 'TRUNCATED', 'CORRUPT_IMAGE']);
  const data = raw.slice();
  for (let i = 200; i < 260; i++) data[i] = data[i]! ^ 0x5a;
  await expectError(data, ['CORRUPT_IMAGE']);
});

test('same bytes with 1, 2 and 8 workers (zstd), and after other work', async () => {
  const base = sha256(await imageOf(sampleTree({}), { compressor: 'zstd', workers: 1 }));
  assert.equal(sha256(await imageOf(sampleTree({}), { compressor: 'zstd', workers: 2 })), base);
  assert.equal(sha256(await imageOf(sampleTree({}), { compressor: 'zstd', workers: 8 })), base);
  const codec = await createSquashfsCodec({ compressor: 'zstd', blockSize: 131072 });
  const input = textBytes(131072, 42);
  const first = sha256(await codec.compress(input, false));
  for (let i = 0; i < 20; i++) await codec.compress(textBytes(131072, i), i % 2 === 0);
  assert.equal(sha256(await codec.compress(input, false)), first);
});

test('fuzz: flipping bytes of valid images gives only ReprimageErrors, without hanging (600 runs)', async () => {
  const seeds = [await imageOf(small(), { pad: false }), await imageOf(small(), { uncompressedInodes: true, pad: false, compressor: 'lz4' })];
  let failures = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      async (which, flips) => {
        const image = seeds[which]!.slice();
        const flip = (at: number, x: number) => (image[at % image.length] = image[at % image.length]! ^ x);
        for (const [at, x] of flips) flip(at, x);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('reader hung for 10 s')), 10_000)));
        try {
          await Promise.race([readAll(image), timeout]);
        } catch (e) {
          if (!isReprimageError(e)) throw e;
          failures++;
        } finally {
          clearTimeout(timer);
        }
      },
    ),
    { numRuns: 600, seed: 20240601 },
  );
  assert.ok(failures > 0);
});
