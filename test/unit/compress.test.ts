// The compression layer without external tools: magic detection, streaming decompression of
// every codec we read (inputs from test/fixtures/cpio, made by the real tools, and from the
// pinned writers), segment ends, corrupt and truncated data, checksums, the spool file, and the
// codec registry's versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectCompression, decompressChunks, decompressSegment, spoolToTempSource, type Compression } from '../../src/compress/decompress.js';
import { gzipBytes } from '../../src/compress/gzip.js';
import { crc32 } from '../../src/compress/crc32.js';
import { xxh32, Xxh32 } from '../../src/compress/xxh32.js';
import { codecVersions, installedVersion, PINNED_CODEC_PACKAGES } from '../../src/compress/registry.js';
import { LIBDEFLATE_PACKAGE, LIBLZMA_PACKAGE, ZSTD_PACKAGE } from '../../src/compress/codec-implementations.js';
import { bufferSource } from '../../src/io/source.js';
import { tempDir } from '../helpers/tools.js';

const FIXTURES = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'test', 'fixtures', 'cpio', 'make-fixtures.sh'))) return join(dir, 'test', 'fixtures', 'cpio');
  }
  return join(process.cwd(), 'test', 'fixtures', 'cpio');
})();
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The main archive every initramfs fixture compresses (its early cpio is 2048 bytes). */
const MAIN = fixture('gnu-newc.cpio');
const compressedMain = (name: string) => fixture(name).subarray(2048);

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

async function* pieces(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** The host's xz (xz-utils, installed wherever the tests run): encoders for inputs only. */
function xzCli(args: string[], data: Uint8Array): Promise<Buffer> {
  const r = spawnSync('xz', args, { input: data, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`xz ${args.join(' ')}: ${String(r.stderr)}`);
  return Promise.resolve(r.stdout);
}

const xzEncode = (data: Uint8Array) => xzCli(['-0', '--check=crc32', '-c'], data);
const lzmaAlone = (data: Uint8Array) => xzCli(['--format=lzma', '-6', '-c'], data);

test('detectCompression knows each codec by its magic number only', async () => {
  const cases: Array<[Compression | undefined, Uint8Array]> = [
    ['gzip', gzipBytes(Buffer.from('x'))],
    ['xz', compressedMain('initramfs-xz.img')],
    ['zstd', compressedMain('initramfs-zstd.img')],
    ['lz4', compressedMain('initramfs-lz4legacy.img')],
    ['lz4', compressedMain('initramfs-lz4frame.img')],
    ['bzip2', Buffer.from('BZh91AY&SY')],
    ['lzop', Buffer.from([0x89, 0x4c, 0x5a, 0x4f, 0, 0xd, 0xa, 0x1a, 0xa])],
    ['lzma', await lzmaAlone(Buffer.from('hello'))],
    [undefined, Buffer.from('070701')],
    [undefined, Buffer.from([0x1f])],
    [undefined, new Uint8Array(0)],
  ];
  for (const [want, head] of cases) assert.equal(detectCompression(head.subarray(0, 16)), want, Buffer.from(head.subarray(0, 8)).toString('hex'));
});

for (const [kind, name] of [['gzip', 'initramfs-gzip.img'], ['xz', 'initramfs-xz.img'], ['zstd', 'initramfs-zstd.img'], ['lz4', 'initramfs-lz4legacy.img'], ['lz4', 'initramfs-lz4frame.img']] as const) {
  test(`decompressChunks reads ${name}'s ${kind} data, however it is chunked`, async () => {
    for (const size of [1, 7, 4096, 1 << 20]) {
      const out = await collect(decompressChunks(pieces(compressedMain(name), size), kind, name));
      assert.equal(sha(out), sha(MAIN), `chunks of ${size}`);
    }
  });
}

test('lz4 frames: linked 64 KiB blocks, block and content checksums, content size, two frames', async () => {
  const out = await collect(decompressChunks(pieces(fixture('seq-linked.lz4'), 1000), 'lz4', 'seq-linked.lz4'));
  const want = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('') + 'tail\n';
  assert.equal(out.toString(), want);
});

test('lzma (lzma-alone) and multi-member gzip decompress', async () => {
  const text = Buffer.from('lzma alone '.repeat(1000));
  assert.deepEqual(await collect(decompressChunks(pieces(await lzmaAlone(text), 100), 'lzma', 'x.lzma')), text);
  const two = Buffer.concat([gzipBytes(Buffer.from('one ')), gzipBytes(Buffer.from('two'))]);
  assert.equal((await collect(decompressChunks(pieces(two, 3), 'gzip', 'two.gz'))).toString(), 'one two');
});

test('corrupt and truncated data of every codec is a ReprimageError naming the subject and codec', async () => {
  const streams: Array<[Compression, Uint8Array]> = [
    ['gzip', compressedMain('initramfs-gzip.img')],
    ['xz', compressedMain('initramfs-xz.img')],
    ['zstd', compressedMain('initramfs-zstd.img')],
    ['lz4', compressedMain('initramfs-lz4legacy.img')],
    ['lz4', compressedMain('initramfs-lz4frame.img')],
    ['lz4', fixture('seq-linked.lz4')],
    ['lzma', await lzmaAlone(Buffer.from('some text to squeeze '.repeat(50)))],
  ];
  for (const [kind, good] of streams) {
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    await assert.rejects(collect(decompressChunks(pieces(truncated, 64), kind, 'half.bin')), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'ReprimageError', `${kind}: ${e.stack}`);
      assert.ok(['TRUNCATED', 'CORRUPT_IMAGE'].includes(e.code!), `${kind}: ${e.code} ${e.message}`);
      assert.match(e.message, new RegExp(`^half\\.bin: .*${kind}`));
      return true;
    });
    const corrupt = Buffer.from(good);
    for (let i = 20; i < corrupt.length - 20; i += 37) corrupt[i] = corrupt[i]! ^ 0xa5;
    await assert.rejects(collect(decompressChunks(pieces(corrupt, 64), kind, 'bad.bin')), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'ReprimageError', `${kind}: ${e.stack}`);
      assert.match(e.message, new RegExp(`^bad\\.bin: .*${kind}`));
      return true;
    });
  }
  await assert.rejects(collect(decompressChunks(pieces(Buffer.from('BZh9'), 4), 'bzip2', 'x.bz2')), { code: 'UNSUPPORTED' });
  await assert.rejects(collect(decompressChunks(pieces(new Uint8Array(0), 4), 'zstd', 'empty.zst')), { code: 'TRUNCATED' });
});

test('the lz4 content checksum catches a flipped literal the block decoder cannot see', async () => {
  // a raw (stored) block: its bytes pass straight through, so only the checksums can tell
  const hc = (xxh32(Buffer.from([0x64, 0x40])) >>> 8) & 0xff; // FLG: version 1, independent blocks, content checksum
  const frame = Buffer.concat([Buffer.from('04224d186440', 'hex'), Buffer.from([hc]), Buffer.from('05000080' + '68656c6c6f' + '00000000', 'hex')]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(xxh32(Buffer.from('hello')));
  assert.equal((await collect(decompressChunks(pieces(Buffer.concat([frame, sum]), 3), 'lz4', 'ok.lz4'))).toString(), 'hello');
  const flipped = Buffer.concat([frame, sum]);
  flipped[11] = flipped[11]! ^ 1;
  await assert.rejects(collect(decompressChunks(pieces(flipped, 3), 'lz4', 'flip.lz4')), /content checksum mismatch/);
});

test('decompressSegment stops where the compressed data ends and says how long it was', async () => {
  const tail = Buffer.from('070701 the next archive');
  for (const [kind, name] of [['gzip', 'initramfs-gzip.img'], ['zstd', 'initramfs-zstd.img'], ['xz', 'initramfs-xz.img'], ['lz4', 'initramfs-lz4frame.img'], ['lz4', 'initramfs-lz4legacy.img']] as const) {
    const compressed = compressedMain(name);
    const file = Buffer.concat([Buffer.alloc(100, 0x41), compressed, tail]);
    const seg = await decompressSegment(bufferSource(file, name), 100, kind, name);
    try {
      assert.equal(seg.compressedLength, compressed.length, name);
      assert.equal(sha(await seg.source.read(0, seg.source.size)), sha(MAIN), name);
    } finally {
      await seg.source.close();
    }
  }
  // two gzip members are one segment; a gzip member then an xz stream are two
  const gzxz = fixture('initramfs-gzip-xz.img');
  const first = await decompressSegment(bufferSource(gzxz, 'gzxz'), 0, 'gzip', 'gzxz');
  await first.source.close();
  assert.equal(detectCompression(gzxz.subarray(first.compressedLength, first.compressedLength + 16)), 'xz');
  const members = Buffer.concat([gzipBytes(Buffer.from('a')), gzipBytes(Buffer.from('b')), tail]);
  const both = await decompressSegment(bufferSource(members, 'ab'), 0, 'gzip', 'ab');
  assert.equal(Buffer.from(await both.source.read(0, both.source.size)).toString(), 'ab');
  assert.equal(both.compressedLength, members.length - tail.length);
  await both.source.close();
});

test('an xz segment ends at its footer even when its stored bytes are full of "YZ" at every alignment', async () => {
  // xorshift bytes do not compress, so LZMA2 keeps them as they are, "YZ" pairs included
  const data = Buffer.alloc(200_000);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = i % 7 < 2 ? 0x59 + (i % 7) : x & 0xff;
  }
  const xz = await xzEncode(data);
  const tail = Buffer.concat([Buffer.alloc(4), Buffer.from('070701 the next archive')]);
  const seg = await decompressSegment(bufferSource(Buffer.concat([xz, tail]), 'yz.xz'), 0, 'xz', 'yz.xz');
  try {
    assert.equal(seg.compressedLength, xz.length);
    assert.equal(sha(await seg.source.read(0, seg.source.size)), sha(data));
  } finally {
    await seg.source.close();
  }
  // an xz stream without its footer: TRUNCATED, one line
  await assert.rejects(decompressSegment(bufferSource(xz.subarray(0, xz.length - 12), 'cut.xz'), 0, 'xz', 'cut.xz'), { code: 'TRUNCATED', message: /^cut\.xz: truncated xz data: the stream starting at byte 0 has no end/ });
  // liblzma's return codes are given in words
  await assert.rejects(collect(decompressChunks(pieces(Buffer.concat([xz, Buffer.from('junk after the stream')]), 4096), 'xz', 'junk.xz')), (e: Error) => {
    assert.doesNotMatch(e.message, /returned \d/);
    assert.match(e.message, /^junk\.xz: corrupt xz data \((not an xz stream|the compressed data or its integrity check is damaged)[^)]*\)$/);
    return true;
  });
});

test('zstd skippable frames: detected as zstd, stepped over before, between and after frames', async () => {
  const frame = compressedMain('initramfs-zstd.img');
  const skippable = (nibble: number, size: number) => {
    const b = Buffer.alloc(8 + size, 0xee);
    b.writeUInt32LE(0x184d2a50 + nibble, 0);
    b.writeUInt32LE(size, 4);
    return b;
  };
  const stream = Buffer.concat([skippable(0, 4), frame, skippable(0xf, 100), frame, skippable(3, 0)]);
  assert.equal(detectCompression(stream.subarray(0, 16)), 'zstd');
  for (const size of [1, 7, 4096]) {
    assert.equal(sha(await collect(decompressChunks(pieces(stream, size), 'zstd', 'skip.zst'))), sha(Buffer.concat([MAIN, MAIN])), `pieces of ${size}`);
  }
  const tail = Buffer.from('070701 the next archive');
  const seg = await decompressSegment(bufferSource(Buffer.concat([stream, tail]), 'skip.zst'), 0, 'zstd', 'skip.zst');
  assert.equal(seg.compressedLength, stream.length);
  await seg.source.close();
  // a skippable magic with another top nibble is not zstd
  assert.equal(detectCompression(Buffer.from('402a4d1800000000', 'hex')), undefined);
});

test('a gzip member with a wrong CRC-32 or size is CORRUPT_IMAGE', async () => {
  const good = gzipBytes(Buffer.from('payload'));
  for (const at of [good.length - 8, good.length - 2]) {
    const bad = Buffer.from(good);
    bad[at] = bad[at]! ^ 1;
    await assert.rejects(decompressSegment(bufferSource(bad, 'crc.gz'), 0, 'gzip', 'crc.gz'), (e: Error & { code?: string }) => e.code === 'CORRUPT_IMAGE' && /mismatch/.test(e.message));
  }
});

test('spoolToTempSource leaves no file behind, reads back exactly, and cleans up after a failing stream', async (t) => {
  // a private TMPDIR: other tests and processes spool into the shared one at the same time
  const privateTmp = tempDir(t);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = privateTmp;
  t.after(() => (saved === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = saved)));
  assert.equal(tmpdir(), privateTmp);
  const spoolDirs = () => readdirSync(privateTmp).filter((n) => n.startsWith('reprimage-spool-')).sort();
  const before = spoolDirs();
  const data = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff);
  const src = await spoolToTempSource(pieces(data, 65536), 'spooled');
  assert.deepEqual(spoolDirs(), before, 'unlinked while open');
  assert.equal(src.size, data.length);
  assert.equal(sha(await src.read(0, src.size)), sha(data));
  assert.deepEqual(await src.read(1_000_000, 5), data.subarray(1_000_000, 1_000_005));
  await src.close();
  async function* failing(): AsyncIterable<Uint8Array> {
    yield new Uint8Array(10);
    throw new Error('boom');
  }
  await assert.rejects(spoolToTempSource(failing(), 'failing'), /boom/);
  assert.deepEqual(spoolDirs(), before);
});

test('checksums: CRC-32 and xxHash32 reference vectors, incremental xxh32 equals one-shot', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('6789'), crc32(Buffer.from('12345'))), 0xcbf43926);
  assert.equal(xxh32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
  const data = new Uint8Array(1000).map((_, i) => (i * 13) & 0xff);
  const h = new Xxh32();
  for (let at = 0; at < data.length; at += 7) h.update(data.subarray(at, at + 7));
  assert.equal(h.digest(), xxh32(data));
});

test('codec registry: installed versions equal the pinned ones, and --version lists them', () => {
  const pkg = JSON.parse(readFileSync(join(FIXTURES, '..', '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const [name, version] of Object.entries(PINNED_CODEC_PACKAGES)) {
    assert.equal(installedVersion(name), version, `${name} installed`);
    assert.equal(pkg.dependencies[name], version, `${name} pinned exactly in package.json`);
  }
  const versions = codecVersions();
  assert.deepEqual(versions[0], { codec: 'gzip', implementation: 'pako 2.1.0' });
  assert.ok(versions.some((v) => v.codec === 'squashfs xz' && v.implementation.startsWith('node-liblzma 4.0.2')));
  assert.equal(installedVersion('no-such-package-here'), undefined);
  // the constant names --version prints without loading a codec are the pinned packages
  assert.equal(LIBDEFLATE_PACKAGE, `libdeflate@${PINNED_CODEC_PACKAGES.libdeflate}`);
  assert.equal(ZSTD_PACKAGE, `@hpcc-js/wasm-zstd@${PINNED_CODEC_PACKAGES['@hpcc-js/wasm-zstd']}`);
  assert.equal(LIBLZMA_PACKAGE, `node-liblzma ${PINNED_CODEC_PACKAGES['node-liblzma']}`);
});
