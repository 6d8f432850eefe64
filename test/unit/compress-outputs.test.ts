// The whole-output codecs of `pack`'s .xz and .zst outputs (src/compress/xz-sink.ts,
// zstd-sink.ts): stored hashes of a fixed input, so the bytes are pinned on every Node.js
// version the unit tier runs under (DESIGN.md rule 6); the same bytes however the writes are
// split; several blocks and frames read back by our own decoders. GNU tar, cpio, xz and zstd read
// them in test/oracle/compressed-outputs.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decompressChunks, decompressSegment } from '../../src/compress/decompress.js';
import { XzSink } from '../../src/compress/xz-sink.js';
import { ZstdSink } from '../../src/compress/zstd-sink.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** 200 000 bytes of text-like data from a fixed linear congruential generator. */
function fixedInput(): Uint8Array {
  const words = ['usr', 'lib', 'share', 'doc', 'bin', 'etc', 'locale', 'x86_64-linux-gnu', 'README', '\n'];
  const out = new Uint8Array(200_000);
  let x = 12345;
  for (let i = 0; i < out.length; ) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = words[(x >>> 16) % words.length]!;
    for (let k = 0; k < w.length && i < out.length; k++) out[i++] = w.charCodeAt(k);
    if (i < out.length) out[i++] = 0x2f;
  }
  return out;
}

async function compress(make: (inner: MemorySink) => XzSink | ZstdSink, data: Uint8Array, pieces: number[] = [data.length]): Promise<Uint8Array> {
  const inner = new MemorySink();
  const sink = make(inner);
  let at = 0;
  for (const n of pieces) {
    await sink.write(data.subarray(at, at + n));
    at += n;
  }
  await sink.write(data.subarray(at));
  await sink.close();
  return inner.bytes();
}

async function roundTrip(bytes: Uint8Array, kind: 'xz' | 'zstd'): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of decompressChunks((async function* () { yield bytes; })(), kind, 'test')) parts.push(p);
  return Buffer.concat(parts);
}

/** Uneven writes: 1 byte, 7 bytes, 4093 bytes, … */
const uneven = (total: number) => {
  const out: number[] = [];
  for (let n = 1, sum = 0; sum + n < total; n = (n * 7 + 3) % 5003) {
    out.push(n);
    sum += n;
  }
  return out;
};

const PINNED = {
  xz: '9fc412e68f4cf5a5dfed0d64a0f402d4d1f753c28ba591cb569aa86baac04d77',
  xzBlocks: '3a360744e62ca05bc0ef38679ba38d2c3253be6907d0349ec4c316120e20fca2',
  zstd: 'ed9aa699bfb1947ecc8e56e472add6187bbe3e8f71abc53d5c78f1dbc33e836a',
  zstdFrames: '82c4aa5ec71623a5ce368f0795f59015d1e7092206187ee526999a301a816625',
};

test('xz output: pinned bytes, one stream of independent blocks whatever the write sizes, read back by our decoder', async () => {
  const data = fixedInput();
  const whole = await compress((s) => new XzSink(s), data);
  assert.equal(sha(whole), PINNED.xz);
  assert.equal(sha(await compress((s) => new XzSink(s), data, uneven(data.length))), PINNED.xz, 'write sizes do not matter');
  assert.deepEqual(await roundTrip(whole, 'xz'), Buffer.from(data));
  // 64 KiB blocks: four blocks in one stream, which the segment reader takes whole
  const blocks = await compress((s) => new XzSink(s, 65536), data, uneven(data.length));
  assert.equal(sha(blocks), PINNED.xzBlocks);
  assert.deepEqual(await roundTrip(blocks, 'xz'), Buffer.from(data));
  const segment = await decompressSegment(bufferSource(blocks, 'blocks.xz'), 0, 'xz', 'blocks.xz');
  assert.equal(segment.compressedLength, blocks.length, 'one stream: its footer ends the file');
  await segment.source.close();
  // an empty stream: header, empty index, footer (as `xz < /dev/null` writes it, with CRC32)
  const empty = await compress((s) => new XzSink(s), new Uint8Array(0));
  assert.equal(Buffer.from(empty).toString('hex'), 'fd377a585a0000016922de36000000001cdf44219042990d010000000001595a');
  assert.equal((await roundTrip(empty, 'xz')).length, 0);
});

test('zstd output: pinned bytes, frames of a fixed size whatever the write sizes, read back by our decoder', async () => {
  const data = fixedInput();
  const whole = await compress((s) => new ZstdSink(s), data);
  assert.equal(sha(whole), PINNED.zstd);
  assert.equal(sha(await compress((s) => new ZstdSink(s, Infinity), data, uneven(data.length))), PINNED.zstd, 'one frame either way');
  assert.deepEqual(await roundTrip(whole, 'zstd'), Buffer.from(data));
  const frames = await compress((s) => new ZstdSink(s, 65536), data, uneven(data.length));
  assert.equal(sha(frames), PINNED.zstdFrames);
  assert.deepEqual(await roundTrip(frames, 'zstd'), Buffer.from(data));
  const empty = await compress((s) => new ZstdSink(s), new Uint8Array(0));
  assert.equal((await roundTrip(empty, 'zstd')).length, 0);
});
