// Unit tests of the ext4 reader on the committed mke2fs fixtures (test/fixtures/ext4, see the
// README there): the three feature sets read to the same Tree; then bad input, each case one
// ReprimageError naming the problem: a truncated image, a corrupted superblock, group descriptor,
// inode, extent header or extent block, directory block and xattr block (checksums), a
// directory loop, an extent and an index pointing outside the file system, bad inode
// references; and a byte-flip fuzz property (fast-check) where only ReprimageErrors may escape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { crc32cUpdate } from '../../src/compress/crc32c.js';
import { isReprimageError, type ErrorCode } from '../../src/errors.js';
import { aclToXattr } from '../../src/formats/ext4/read-xattrs.js';
import { readGroupTable } from '../../src/formats/ext4/read-groups.js';
import { readSuperblock } from '../../src/formats/ext4/read-superblock.js';
import { openExt4, sniffExt4 } from '../../src/formats/ext4/reader.js';
import { bufferSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { REPO } from '../helpers/cli.js';
import { treeListing } from '../helpers/sample-tree.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'ext4');
const BLOCK = 4096;
/** Inode numbers and blocks of the fixtures, from the *.ls.txt listings beside them. */
const INO = { root: 2, dir: 12, hello: 13, frag: 17, many: 19, xattrFile: 221 };
const FRAG_EXTENT_BLOCK = 20;

function fixture(name: 'csum' | 'nocsum' | 'ext2'): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, `${name}.img.gz`))));
}

/** Opens, builds the Tree and streams every file (the first 16 MiB: a sparse file may be huge). */
async function readAll(bytes: Uint8Array, name = 'bad.ext4'): Promise<Tree> {
  const image = await openExt4(bufferSource(bytes, name));
  const tree = await image.tree();
  for (const { node } of tree.walk()) {
    if (node.kind !== 'file') continue;
    let seen = 0;
    for await (const chunk of node.content.chunks()) {
      seen += chunk.length;
      if (seen > 16 << 20) break;
    }
  }
  return tree;
}

async function rejects(bytes: Uint8Array, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(readAll(bytes), (e: unknown) => {
    assert.ok(isReprimageError(e), `not a ReprimageError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, /^bad\.ext4: /);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

async function inodeOffset(bytes: Uint8Array, ino: number): Promise<number> {
  const source = bufferSource(bytes, 'x');
  const sb = await readSuperblock(source);
  const groups = await readGroupTable(source, sb);
  const index = ino - 1;
  return groups.inodeTable(Math.floor(index / sb.inodesPerGroup)) * sb.blockSize + (index % sb.inodesPerGroup) * sb.inodeSize;
}

/** Recomputes an inode's metadata_csum after a test changed it (as the kernel computes it). */
async function fixInodeChecksum(bytes: Uint8Array, ino: number): Promise<void> {
  const sb = await readSuperblock(bufferSource(bytes, 'x'));
  const at = await inodeOffset(bytes, ino);
  const inode = bytes.subarray(at, at + sb.inodeSize);
  inode.fill(0, 0x7c, 0x7e);
  inode.fill(0, 0x82, 0x84);
  const le = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
  const c = crc32cUpdate(crc32cUpdate(crc32cUpdate(sb.csumSeed, le(ino)), inode.subarray(0x64, 0x68)), inode);
  inode.set(le(c & 0xffff).subarray(0, 2), 0x7c);
  inode.set(le(c >>> 16).subarray(0, 2), 0x82);
}

function findBytes(bytes: Uint8Array, text: string, from = 0): number {
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(Buffer.from(text), from);
  assert.ok(at >= 0, `${text} not in the image`);
  return at;
}

function flip(bytes: Uint8Array, at: number, mask = 1): void {
  bytes[at] = bytes[at]! ^ mask;
}

function putU32(bytes: Uint8Array, at: number, v: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v, true);
}

test('the three fixtures (ext4 with and without metadata_csum, ext2) read to the same Tree', async () => {
  const trees = await Promise.all((['csum', 'nocsum', 'ext2'] as const).map(async (n) => treeListing(await readAll(fixture(n), n))));
  assert.deepEqual(trees[1], trees[0]);
  assert.deepEqual(trees[2], trees[0]);
  const byPath = new Map(trees[0]!.map((e) => [e.path, e]));
  assert.equal(trees[0]!.length, 1 + 8 + 3 + 1 + 200); // root, top level (lost+found too), dir/*, dir/sub/*, many/*
  assert.equal(byPath.get('hello.txt')?.hardlinkTo, 'dir/hard'); // dir/hard is walked first
  assert.equal(byPath.get('short-link')?.target, 'hello.txt');
  assert.equal(byPath.get('long-link')?.target, 'long/'.repeat(30) + 'target');
  assert.equal(byPath.get('xattr-file')?.xattrs?.['user.small'], Buffer.from('tiny').toString('hex'));
  assert.equal(byPath.get('xattr-file')?.xattrs?.['user.big'], Buffer.from('v'.repeat(600)).toString('hex'));
  assert.equal(byPath.get('hello.txt')?.mtime, '1600000000');
  assert.equal(byPath.get('many/entry-number-123')?.size, 4);
});

test('file contents: bytes, holes as zeros, sparse regions, a single extent as a range of the image', async () => {
  const bytes = fixture('csum');
  const tree = await readAll(bytes);
  const hello = tree.get('hello.txt');
  assert.ok(hello?.kind === 'file');
  assert.equal(Buffer.from(await readContent(hello.content)).toString(), 'hello, ext4\n');
  assert.equal(hello.content.range?.offset, findBytes(bytes, 'hello, ext4'));
  const frag = tree.get('frag');
  assert.ok(frag?.kind === 'file');
  assert.deepEqual(frag.content.dataRegions, Array.from({ length: 10 }, (_, i) => ({ offset: i * 8192, length: BLOCK })));
  const data = await readContent(frag.content);
  assert.equal(data.length, 20 * BLOCK);
  for (let i = 0; i < 10; i++) {
    assert.equal(Buffer.from(data.subarray(i * 8192, i * 8192 + 6)).toString(), `run ${i}\n`);
    assert.ok(data.subarray(i * 8192 + 4096, i * 8192 + 8192).every((b) => b === 0));
  }
});

test('sniffing: an ext4 image yes; zeros, a FAT boot sector, a short head no', () => {
  const img = fixture('csum');
  assert.equal(sniffExt4(img.subarray(0, 64 * 1024)), true);
  assert.equal(sniffExt4(new Uint8Array(4096)), false);
  assert.equal(sniffExt4(img.subarray(0, 1500)), false);
  const fat = gunzipSync(readFileSync(join(REPO, 'test', 'fixtures', 'fat', 'fat16.img.gz'))).subarray(0, 64 * 1024);
  assert.equal(sniffExt4(fat), false);
});

test('ACLs: ext4 short and long entries become the getfattr form (version 2, undefined ids)', () => {
  const ext4 = Buffer.from('01000000' + '01000600' + '02000600e8030000' + '04000400' + '10000600' + '20000400', 'hex');
  const want = '02000000' + '01000600ffffffff' + '02000600e8030000' + '04000400ffffffff' + '10000600ffffffff' + '20000400ffffffff';
  assert.equal(Buffer.from(aclToXattr(ext4, () => new Error('bad'))).toString('hex'), want);
  assert.throws(() => aclToXattr(Buffer.from('0100000002000600', 'hex'), () => new Error('bad acl')), /bad acl/);
});

test('truncated image: below the superblock, and shorter than the file system declares', async () => {
  const img = fixture('csum');
  await rejects(img.subarray(0, 1500), 'TRUNCATED', /truncated ext4 superblock/);
  await rejects(img.subarray(0, 2 * 1024 * 1024), 'TRUNCATED', /declares 4194304 bytes .* holds 2097152/);
});

test('corrupted superblock: magic, checksum, block size, inode counts', async () => {
  let img = fixture('csum');
  img[1024 + 0x38] = 0x54;
  await rejects(img, 'CORRUPT_IMAGE', /superblock \(magic\).*not the ext2\/3\/4 magic/);
  img = fixture('csum');
  flip(img, 1024 + 0x78); // the label: only the checksum notices
  await rejects(img, 'CORRUPT_IMAGE', /superblock \(checksum\).*checksum mismatch/);
  img = fixture('nocsum');
  img[1024 + 0x18] = 9;
  await rejects(img, 'CORRUPT_IMAGE', /superblock \(logBlockSize\).*exceeds 64 KiB/);
  img = fixture('nocsum');
  putU32(img, 1024 + 0x28, 0);
  await rejects(img, 'CORRUPT_IMAGE', /inodesPerGroup/);
  img = fixture('nocsum');
  putU32(img, 1024 + 0x60, 0x80000); // an incompatible feature nobody knows
  await rejects(img, 'UNSUPPORTED', /incompatible feature/);
});

test('corrupted group descriptor: checksum, inode table outside the file system', async () => {
  let img = fixture('csum');
  flip(img, BLOCK + 0x08);
  await rejects(img, 'CORRUPT_IMAGE', /group descriptor 0 at byte 4096: checksum mismatch/);
  img = fixture('nocsum');
  putU32(img, BLOCK + 0x08, 0xfffff000);
  // without metadata_csum the nocsum fixture still has uninit_bg's crc16 unless mke2fs left it out
  const sb = await readSuperblock(bufferSource(img, 'x'));
  if (sb.gdtCsum) await rejects(img, 'CORRUPT_IMAGE', /group descriptor 0.*checksum mismatch/);
  else await rejects(img, 'CORRUPT_IMAGE', /inode table at block 4294963200.*outside/);
});

test('checksum mismatch: inode, extent block, directory block, htree index, xattr block', async () => {
  let img = fixture('csum');
  flip(img, (await inodeOffset(img, INO.hello)) + 0x10); // mtime
  await rejects(img, 'CORRUPT_IMAGE', /inode 13 at byte \d+: checksum mismatch/);
  img = fixture('csum');
  flip(img, FRAG_EXTENT_BLOCK * BLOCK + 12);
  await rejects(img, 'CORRUPT_IMAGE', /extent block 20 of inode 17 at byte 81920: checksum mismatch/);
  img = fixture('csum');
  flip(img, findBytes(img, 'loopme'), 0x20);
  await rejects(img, 'CORRUPT_IMAGE', /directory block 0 of inode 12 at byte \d+: checksum mismatch/);
  img = fixture('csum');
  flip(img, findBytes(img, 'vvvvvvvv')); // user.big lives in the block (user.small in the inode)
  await rejects(img, 'CORRUPT_IMAGE', /xattr block \d+ of inode 221 at byte \d+: checksum mismatch/);
  img = fixture('csum');
  // the htree root of many/ ("." of inode 19, ".." spanning the block): flip a hash in its index
  const root = Buffer.from(img.buffer, img.byteOffset, img.length).indexOf(Buffer.from('130000000c0001022e00000002000000f40f02022e2e0000', 'hex'));
  assert.ok(root > 0 && root % BLOCK === 0);
  flip(img, root + 0x28);
  await rejects(img, 'CORRUPT_IMAGE', /htree root of directory inode 19 at byte \d+: checksum mismatch/);
});

test('corrupted extent header: magic in the inode, entries beyond max, depth mismatch', async () => {
  let img = fixture('nocsum');
  const frag = await inodeOffset(img, INO.frag);
  img[frag + 0x28] = 0;
  await rejects(img, 'CORRUPT_IMAGE', /extent header of inode 17 \(in the inode\).*magic 0xf300 is not 0xf30a/);
  img = fixture('nocsum');
  img[frag + 0x28 + 2] = 9; // eh_entries 9 > eh_max 4
  await rejects(img, 'CORRUPT_IMAGE', /extent header of inode 17.*9 entries but room for 4/);
  img = fixture('nocsum');
  img[FRAG_EXTENT_BLOCK * BLOCK + 6] = 1; // the leaf claims depth 1
  await rejects(img, 'CORRUPT_IMAGE', /extent header of inode 17 \(block 20\).*depth 1 under a node of depth 1/);
  // the same with metadata_csum, checksums recomputed, so the structural check is what fails
  img = fixture('csum');
  const fragC = await inodeOffset(img, INO.frag);
  img[fragC + 0x28] = 0;
  await fixInodeChecksum(img, INO.frag);
  await rejects(img, 'CORRUPT_IMAGE', /extent header of inode 17 \(in the inode\).*magic/);
});

test('extent and index pointing outside the file system: OUT_OF_BOUNDS at tree() time', async () => {
  let img = fixture('nocsum');
  putU32(img, FRAG_EXTENT_BLOCK * BLOCK + 12 + 8, 0x7fffffff); // first leaf extent's ee_start_lo
  await assert.rejects(openExt4(bufferSource(img, 'bad.ext4')).then((i) => i.tree()), /extent 0 \(block 20\) points to block 2147483647, outside the file system \(blocks 0\.\.1023\)/);
  img = fixture('nocsum');
  const frag = await inodeOffset(img, INO.frag);
  putU32(img, frag + 0x28 + 12 + 4, 5000); // the index entry's ei_leaf_lo
  await rejects(img, 'OUT_OF_BOUNDS', /inode 17: extent index 0 \(in the inode\) points to block 5000, outside/);
  img = fixture('nocsum');
  putU32(img, (await inodeOffset(img, INO.xattrFile)) + 0x68, 4096); // i_file_acl
  await rejects(img, 'OUT_OF_BOUNDS', /inode 221: xattr block 4096 is outside/);
  img = fixture('ext2');
  // ext2 block map: the first direct pointer of hello.txt
  putU32(img, (await inodeOffset(img, INO.hello)) + 0x28, 0x10000000);
  await rejects(img, 'OUT_OF_BOUNDS', /inode 13: block map entry for logical block 0 points to block 268435456/);
});

test('directory loop, bad inode references, names with a slash', async () => {
  let img = fixture('nocsum');
  const loop = findBytes(img, 'loopme');
  putU32(img, loop - 8, INO.root); // dir/loopme now names the root directory
  await rejects(img, 'LINK_LOOP', /directory inode 2 is reached both as \/ and as \/dir\/loopme \(a directory loop\)/);
  img = fixture('nocsum');
  putU32(img, findBytes(img, 'sub') - 8, INO.dir); // dir/sub names dir itself
  await rejects(img, 'LINK_LOOP', /directory inode 12 is reached both as \/dir and as \/dir\/sub/);
  img = fixture('nocsum');
  putU32(img, loop - 8, 99_999);
  await rejects(img, 'CORRUPT_IMAGE', /inode 99999 is outside 1\.\.256/);
  img = fixture('nocsum');
  putU32(img, loop - 8, 250); // a free inode
  await rejects(img, 'CORRUPT_IMAGE', /inode 250 \(\/dir\/loopme\).*is unused/);
  img = fixture('nocsum');
  img[loop + 2] = 0x2f; // "lo/pme"
  await rejects(img, 'CORRUPT_IMAGE', /entry name "lo\/pme" contains '\/' or NUL/);
  img = fixture('nocsum');
  img[loop - 4] = 3; // rec_len 3
  await rejects(img, 'CORRUPT_IMAGE', /directory block 0 of inode 12 at byte \d+: bad record length/);
});

/** The 1 KiB pieces of an image that hold anything: the metadata and the small files. */
function vitalRanges(img: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = 0; at < img.length; at += 1024) {
    if (img.subarray(at, at + 1024).some((b) => b !== 0)) out.push([at, at + 1024]);
  }
  return out;
}

async function fuzz(img: Uint8Array, numRuns: number, seed: number): Promise<{ errors: number; ok: number; slowest: number }> {
  const ranges = vitalRanges(img);
  const position = (k: number): number => ranges[Math.floor(k / 1024)]![0] + (k % 1024);
  const stats = { errors: 0, ok: 0, slowest: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(ranges.length * 1024 - 1).map(position), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (flips) => {
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

test('byte-flip fuzz: 400 runs on each fixture (ext4 with and without metadata_csum, ext2); only ReprimageErrors escape', async (t) => {
  for (const [name, seed] of [['csum', 1], ['nocsum', 2], ['ext2', 3]] as const) {
    const s = await fuzz(fixture(name), 400, seed);
    t.diagnostic(`${name}: ${JSON.stringify(s)}`);
    // flips hit both checked bytes (an error) and harmless ones (file data, free space)
    assert.ok(s.errors > 20 && s.ok > 20, JSON.stringify(s));
    assert.ok(s.slowest < 2000, `slowest run ${s.slowest} ms`);
  }
});

test('needs_recovery without any journal (e2fsck just clears the flag): read as it is, no warning', async () => {
  const img = fixture('nocsum');
  img[1024 + 0x60] = img[1024 + 0x60]! | 0x04; // INCOMPAT_RECOVER
  const warnings: string[] = [];
  const tree = await (await openExt4(bufferSource(img, 'j.ext4'), { warn: (m) => warnings.push(m) })).tree();
  assert.deepEqual(warnings, []);
  assert.equal(tree.get('hello.txt')?.kind, 'file');
});

test('a journal on another device that needs recovery: one warning after the tree, or one error line that says so', async () => {
  const img = fixture('nocsum');
  img[1024 + 0x60] = img[1024 + 0x60]! | 0x04; // INCOMPAT_RECOVER
  img[1024 + 0x5c] = img[1024 + 0x5c]! | 0x04; // COMPAT_HAS_JOURNAL, s_journal_inum stays 0
  const warnings: string[] = [];
  const tree = await (await openExt4(bufferSource(img, 'j.ext4'), { warn: (m) => warnings.push(m) })).tree();
  assert.deepEqual(warnings, ['j.ext4: the ext4 journal on another device holds changes not yet replayed; read the file system as it is on disk']);
  assert.equal(tree.get('hello.txt')?.kind, 'file');
  // the root inode's mode zeroed: the error is the only line, and names the journal
  const bad = Uint8Array.from(img);
  const root = await inodeOffset(bad, INO.root);
  bad[root] = 0;
  bad[root + 1] = 0;
  warnings.length = 0;
  const opened = await openExt4(bufferSource(bad, 'j.ext4'), { warn: (m) => warnings.push(m) });
  await assert.rejects(opened.tree(), (e: Error) => {
    assert.match(e.message, /^j\.ext4: .*\(the ext4 journal on another device holds changes not yet replayed\)$/);
    return true;
  });
  assert.deepEqual(warnings, []);
});
