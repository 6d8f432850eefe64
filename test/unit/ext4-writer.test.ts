// Unit tests of the ext4 writer without external tools: directory hashes pinned to
// `debugfs dx_hash`, time and device encodings, ACL conversion, checksums of the superblock,
// determinism across insertion order, errors on what ext4 cannot hold, and round trips
// Tree → ext4 → Tree through our reader (examples and fast-check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { writeExt4, dirHash, seedWords, type Ext4WriteOptions } from '../../src/formats/ext4/index.js';
import { openExt4 } from '../../src/formats/ext4/reader.js';
import { aclToExt4, xattrEntries, planXattrs } from '../../src/formats/ext4/xattr.js';
import { computeGeometry } from '../../src/formats/ext4/geometry.js';
import { crc32cUpdate } from '../../src/compress/crc32c.js';
import {
  HASH, SB, SUPERBLOCK_OFFSET, decodeDev, decodeExtraTime, encodeExtraTime, encodeNewDev, encodeOldDev, getU16, getU32,
} from '../../src/formats/ext4/layout.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent, streamContent } from '../../src/tree/content.js';
import { Tree, newMeta, type Node } from '../../src/tree/tree.js';
import { ReprimageError } from '../../src/errors.js';
import { sampleSpec, specToTree, treeListing } from '../helpers/sample-tree.js';

const EPOCH = 1_700_000_000;
/** The last second ext4 stores (April 2446): a build time no generated time is later than. */
const LAST_EXT4_TIME = 2 ** 31 + 3 * 2 ** 32 - 1;
const IDS = {
  uuid: '11111111-2222-4333-8444-555555555555',
  journalUuid: '21111111-2222-4333-8444-555555555555',
  hashSeed: '31111111-2222-4333-8444-555555555555',
};

async function build(tree: Tree, options: Partial<Ext4WriteOptions> = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeExt4(tree, sink, { ...IDS, buildTime: EPOCH, ...options });
  return sink.bytes();
}

async function readBack(image: Uint8Array): Promise<Tree> {
  const fs = await openExt4(bufferSource(image, 'test.ext4'));
  const tree = await fs.tree();
  tree.remove('lost+found');
  return tree;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('directory hashes equal debugfs dx_hash (half-MD4 and TEA, signed, with a seed and without)', () => {
  const seed = seedWords(Buffer.from('31111111222243338444555555555555', 'hex'));
  const name = (s: string) => new TextEncoder().encode(s);
  const hex = (h: { hash: number; minor: number }) => `${h.hash.toString(16)}/${h.minor.toString(16)}`;
  assert.equal(hex(dirHash(name('hello'), HASH.halfMd4, seed)), 'ee44ebc6/fc2fbf65');
  assert.equal(hex(dirHash(name('hello'), HASH.tea, seed)), 'ea5adcda/4423b1df');
  const long = 'a-much-longer-name-that-spans-more-than-thirty-two-bytes.txt';
  assert.equal(hex(dirHash(name(long), HASH.halfMd4, seed)), '2fe29008/93d59497');
  assert.equal(hex(dirHash(name(long), HASH.tea, seed)), 'acb9bd58/ea7bfe7');
  assert.equal(hex(dirHash(name('café'), HASH.halfMd4, seed)), '625c9908/6792d24b');
  assert.equal(hex(dirHash(name('café'), HASH.tea, seed)), '1e148c60/b8c9f58c');
  assert.equal(dirHash(name('café'), HASH.halfMd4, seedWords(new Uint8Array(16))).hash, 0xfb9c5e5c);
  // the unsigned variant differs only for bytes >= 0x80
  assert.equal(dirHash(name('x'), HASH.halfMd4Unsigned, seed).hash, dirHash(name('x'), HASH.halfMd4, seed).hash);
  assert.notEqual(dirHash(name('café'), HASH.halfMd4Unsigned, seed).hash, dirHash(name('café'), HASH.halfMd4, seed).hash);
});

test('times: low word, nanoseconds and epoch bits, before 1970 and after 2038', () => {
  for (const [sec, nsec] of [[0, 0], [EPOCH, 999_999_999], [-1000, 5], [2 ** 31, 1], [2 ** 33, 7], [-(2 ** 31), 0]] as const) {
    const { low, extra } = encodeExtraTime(sec, nsec);
    assert.deepEqual(decodeExtraTime(low, extra), { sec, nsec }, `${sec}.${nsec}`);
  }
  assert.deepEqual(encodeExtraTime(2 ** 31, 0), { low: 0x80000000, extra: 1 });
});

test('device numbers: old encoding below 256, new encoding above', () => {
  assert.equal(encodeOldDev(8, 1), 0x0801);
  assert.deepEqual(decodeDev(encodeOldDev(1, 3), 0), { major: 1, minor: 3 });
  assert.deepEqual(decodeDev(0, encodeNewDev(300, 70000)), { major: 300, minor: 70000 });
});

test('ACLs: the xattr form (version 2) becomes the ext4 form (version 1, short entries without ids)', () => {
  const xattr = Buffer.from('02000000' + '01000600ffffffff' + '02000600e8030000' + '04000400ffffffff' + '10000600ffffffff' + '20000400ffffffff', 'hex');
  assert.equal(Buffer.from(aclToExt4(xattr, 't')).toString('hex'), '01000000' + '01000600' + '02000600e8030000' + '04000400' + '10000600' + '20000400');
  assert.throws(() => aclToExt4(Buffer.from('01000000', 'hex'), 't'), ReprimageError);
  assert.throws(() => aclToExt4(Buffer.from('020000004000000000000000', 'hex'), 't'), /unknown tag/);
});

test('xattrs: sorted by index, name length, name; the inode holds what fits, the block the rest', () => {
  const entries = xattrEntries(new Map([
    ['user.zz', new Uint8Array(1)], ['security.selinux', new Uint8Array(30)], ['user.a', new Uint8Array(1)], ['trusted.x', new Uint8Array(60)],
  ]), 't');
  assert.deepEqual(entries.map((e) => `${e.index}:${Buffer.from(e.name).toString()}`), ['1:a', '1:zz', '4:x', '6:selinux']);
  const plan = planXattrs(entries, 96, 4096, 't');
  assert.deepEqual(plan.inInode.map((e) => Buffer.from(e.name).toString()), ['a', 'zz']);
  assert.deepEqual(plan.inBlock.map((e) => Buffer.from(e.name).toString()), ['x', 'selinux']);
  assert.throws(() => xattrEntries(new Map([['weird.name', new Uint8Array(1)]]), 't'), /unknown namespace/);
  assert.throws(() => planXattrs(xattrEntries(new Map([['user.big', new Uint8Array(5000)]]), 't'), 96, 4096, 't'), /more than one 4096-byte xattr block/);
});

test('geometry: flex groups pack bitmaps and inode tables after the superblock copies; the last tiny group is dropped', () => {
  const g = computeGeometry({ blockSize: 1024, blocksCount: 3 * 8192 + 1 + 20, inodesCount: 2048, subject: 't' });
  assert.equal(g.groups, 3);
  assert.equal(g.blocksCount, 3 * 8192 + 1);
  assert.equal(g.firstDataBlock, 1);
  assert.equal(g.groupPlaces[0]!.blockBitmap, 1 + 1 + g.gdtBlocks);
  assert.deepEqual(g.groupPlaces.map((p) => p.inodeBitmap - p.blockBitmap), [3, 3, 3]);
  // group 1's superblock copy sits at its first block, never under an inode table
  for (const p of g.groupPlaces) assert.ok(p.inodeTable + g.inodeTableBlocks <= 8193 || p.inodeTable >= 8193 + 1 + g.gdtBlocks);
  assert.throws(() => computeGeometry({ blockSize: 4096, blocksCount: 3, inodesCount: 16, subject: 't' }), ReprimageError);
});

test('the superblock carries our identifiers, times, features and a valid checksum', async () => {
  const img = await build(specToTree(sampleSpec(), { epoch: EPOCH }), { label: 'root', blockSize: 1024 });
  const sb = img.subarray(SUPERBLOCK_OFFSET, SUPERBLOCK_OFFSET + 1024);
  assert.equal(getU16(sb, SB.magic), 0xef53);
  assert.equal(getU32(sb, SB.checksum), crc32cUpdate(0xffffffff, sb.subarray(0, SB.checksum)));
  assert.equal(Buffer.from(sb.subarray(SB.uuid, SB.uuid + 16)).toString('hex'), IDS.uuid.replace(/-/g, ''));
  assert.equal(Buffer.from(sb.subarray(SB.hashSeed, SB.hashSeed + 16)).toString('hex'), IDS.hashSeed.replace(/-/g, ''));
  for (const f of [SB.mkfsTime, SB.wtime, SB.lastcheck]) assert.equal(getU32(sb, f), EPOCH);
  assert.equal(getU32(sb, SB.mtime), 0);
  assert.equal(Buffer.from(sb.subarray(SB.volumeName, SB.volumeName + 4)).toString(), 'root');
  assert.equal(img.length, getU32(sb, SB.blocksCountLo) * 1024);
});

test('determinism: the same tree built with children inserted in another order gives the same bytes', async () => {
  const spec = sampleSpec();
  const a = await build(specToTree(spec, { epoch: EPOCH }));
  const reversed = specToTree(spec, { epoch: EPOCH });
  for (const { node } of reversed.walk()) if (node.kind === 'dir') node.children = new Map([...node.children].reverse());
  const b = await build(reversed);
  assert.equal(sha(a), sha(b));
  const c = await build(specToTree(spec, { epoch: EPOCH }), { hashSeed: '41111111-2222-4333-8444-555555555555' });
  assert.notEqual(sha(a), sha(c), 'the hash seed is part of the image');
});

test('round trip: the sample tree (hard links, devices, fifo, xattrs, long symlink, UTF-8 names) reads back equal, 1 KiB and 4 KiB blocks', async () => {
  for (const blockSize of [1024, 4096] as const) {
    const tree = specToTree(sampleSpec(), { epoch: EPOCH });
    const back = await readBack(await build(tree, { blockSize }));
    assert.deepEqual(await treeListing(back), await treeListing(specToTree(sampleSpec(), { epoch: EPOCH })), `block size ${blockSize}`);
  }
});

test('round trip: sparse files keep their holes (as data regions) and their bytes; a large directory becomes an htree', async () => {
  const tree = new Tree();
  const size = 10 * 4096 + 100;
  const regions = [{ offset: 5000, length: 10 }, { offset: 9 * 4096, length: 4096 + 100 }];
  const bytes = new Uint8Array(size);
  for (const r of regions) for (let i = r.offset; i < r.offset + r.length; i++) bytes[i] = (i * 7) & 0xff;
  tree.set('sparse', { kind: 'file', ...newMeta({ mode: 0o600 }), content: { ...bytesContent(bytes), dataRegions: regions } });
  const dir = tree.ensureDir('many');
  for (let i = 0; i < 3000; i++) dir.children.set(`entry-${i}-\u00e9`, { kind: 'fifo', ...newMeta({ mode: 0o644 }) });
  const img = await build(tree, { blockSize: 1024 });
  const back = await readBack(img);
  const got = back.get('sparse')!;
  assert.ok(got.kind === 'file');
  const chunks: Buffer[] = [];
  for await (const c of got.content.chunks()) chunks.push(Buffer.from(c));
  assert.equal(sha(Buffer.concat(chunks)), sha(bytes));
  assert.ok(got.content.dataRegions, 'holes are reported as data regions');
  // only the blocks the regions touch hold data: block 4, and blocks 36 to 40 (the file ends in 40)
  assert.deepEqual(got.content.dataRegions, [{ offset: 4096, length: 1024 }, { offset: 36864, length: 4196 }]);
  const many = back.get('many');
  assert.ok(many?.kind === 'dir' && many.children.size === 3000);
});

test('ext4 → Tree (our reader) → ext4 gives the same bytes: the reader returns everything the writer used', async () => {
  for (const blockSize of [1024, 4096] as const) {
    const tree = specToTree(sampleSpec(), { epoch: EPOCH });
    const wide = tree.ensureDir('wide');
    for (let i = 0; i < 500; i++) wide.children.set(`n-${i}-\u00fc`, { kind: 'socket', ...newMeta({ mtime: { sec: i, nsec: i } }) });
    const regions = [{ offset: 70_000, length: 3 }, { offset: 200_000, length: 9000 }];
    tree.set('sparse', { kind: 'file', ...newMeta(), content: { ...bytesContent(new Uint8Array(300_000).fill(1, 70_000, 70_003)), dataRegions: regions } });
    const first = await build(tree, { blockSize, label: 'again' });
    const fs = await openExt4(bufferSource(first, 'first.ext4'));
    const second = await build(await fs.tree(), { blockSize, label: 'again' });
    assert.equal(sha(second), sha(first), `block size ${blockSize}`);
  }
});

test('errors: what ext4 cannot hold, and sizes too small, are ReprimageErrors naming the entry', async () => {
  const longTarget = new Tree();
  longTarget.set('l', { kind: 'symlink', ...newMeta(), target: 'x'.repeat(1024) });
  await assert.rejects(build(longTarget, { blockSize: 1024 }), (e: unknown) => e instanceof ReprimageError && e.subject === 'l');
  const longName = new Tree();
  longName.set('n'.repeat(300), { kind: 'fifo', ...newMeta() });
  await assert.rejects(build(longName), /longer than 255 bytes/);
  const big = new Tree();
  big.set('f', { kind: 'file', ...newMeta(), content: bytesContent(new Uint8Array(3 << 20)) });
  await assert.rejects(build(big, { size: 2 << 20 }), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE');
  await assert.rejects(build(big, { uuid: 'not-a-uuid' }), /not a UUID/);
  await assert.rejects(build(big, { inodes: 5 }), /inodes/);
  const late = new Tree();
  late.set('t', { kind: 'fifo', ...newMeta({ mtime: { sec: 2 ** 31 + 3 * 2 ** 32, nsec: 0 } }) });
  await assert.rejects(build(late, { buildTime: 2 ** 31 + 3 * 2 ** 32, lostAndFound: false }), (e: unknown) => e instanceof ReprimageError && e.subject === 't' && /2446/.test(e.detail));
  const owner = new Tree();
  owner.set('o', { kind: 'fifo', ...newMeta({ uid: 2 ** 32 }) });
  await assert.rejects(build(owner), /32-bit ids/);
  const device = new Tree();
  device.set('dev', { kind: 'char', ...newMeta(), major: 4096, minor: 0 });
  await assert.rejects(build(device), /12-bit major/);
  const liar = new Tree();
  liar.set('f', { kind: 'file', ...newMeta(), content: streamContent(10, 'liar', async function* () { yield new Uint8Array(5); }) });
  await assert.rejects(build(liar), ReprimageError);
});

const nameArb = fc.stringMatching(/^[a-zA-Z0-9._\u00e9\u4e2d-]{1,40}$/).filter((n) => n !== '.' && n !== '..' && n !== 'lost+found');
const metaArb = fc.record({
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 2 ** 32 - 2 }),
  gid: fc.integer({ min: 0, max: 70000 }),
  mtime: fc.record({ sec: fc.integer({ min: -(2 ** 31), max: 2 ** 31 + 3 * 2 ** 32 - 2 }), nsec: fc.integer({ min: 0, max: 999_999_999 }) }),
});
const leafArb: fc.Arbitrary<Node> = fc.oneof(
  fc.tuple(metaArb, fc.uint8Array({ maxLength: 9000 })).map(([m, b]) => ({ kind: 'file', ...newMeta(m), content: bytesContent(b) }) as Node),
  fc.tuple(metaArb, fc.stringMatching(/^[a-z/.]{1,200}$/)).map(([m, t]) => ({ kind: 'symlink', ...newMeta(m), target: t }) as Node),
  fc.tuple(metaArb, fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 2 ** 20 - 1 })).map(([m, major, minor]) => ({ kind: 'char', ...newMeta(m), major, minor }) as Node),
  metaArb.map((m) => ({ kind: 'socket', ...newMeta(m) }) as Node),
  fc.tuple(metaArb, fc.dictionary(fc.stringMatching(/^user\.[a-z]{1,20}$/), fc.uint8Array({ maxLength: 300 }), { maxKeys: 4 })).map(
    ([m, x]) => ({ kind: 'fifo', ...newMeta({ ...m, xattrs: new Map(Object.entries(x)) }) }) as Node,
  ),
);

test('property: random trees (files, symlinks, devices, sockets, fifos with xattrs, hard links, nested dirs) round-trip', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.array(nameArb, { minLength: 1, maxLength: 3 }), leafArb, fc.boolean()), { maxLength: 40 }),
      fc.constantFrom(1024 as const, 4096 as const),
      async (entries, blockSize) => {
        const tree = new Tree();
        let previous: Node | undefined;
        for (const [parts, node, link] of entries) {
          const path = parts.join('/');
          try {
            tree.set(path, link && previous ? previous : node);
          } catch {
            continue; // a parent is not a directory
          }
          if (node.kind !== 'dir') previous = node;
        }
        const back = await readBack(await build(tree, { blockSize, buildTime: LAST_EXT4_TIME }));
        assert.deepEqual(await treeListing(back), await treeListing(tree));
      },
    ),
    { numRuns: 40 },
  );
});
