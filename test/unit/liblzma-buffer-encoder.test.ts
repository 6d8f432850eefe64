import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { xzBufferEncoder } from '../../src/compress/liblzma/buffer-encoder.js';
import { pattern } from '../helpers/sample-tree.js';
import { SQUASHFS_CODEC_IMPLEMENTATIONS, createSquashfsCodec, createSquashfsDecompressor } from '../../src/compress/squashfs-codecs.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const unxz = createSquashfsDecompressor(4, 'test');

/** Text-like bytes that compress well, the same on every run. */
function textLike(size: number, seed: number): Uint8Array {
  const words = ['squashfs', 'block', 'inode', ' ', 'fragment', '\n', 'xz', 'lzma2', '0123', 'reprimage'];
  const out = new Uint8Array(size);
  let x = seed;
  for (let at = 0; at < size; ) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    for (const c of words[x % words.length]!) if (at < size) out[at++] = c.charCodeAt(0);
  }
  return out;
}

/** The LZMA2 dictionary-size byte from the block header's filter flags (id 0x21, 1 byte of properties). */
function lzma2DictByte(stream: Uint8Array): number {
  const headerSize = (stream[12]! + 1) * 4;
  const header = stream.subarray(12, 12 + headerSize);
  for (let i = 2; i + 2 < header.length; i++) if (header[i] === 0x21 && header[i + 1] === 0x01) return header[i + 2]!;
  throw new Error('no LZMA2 filter flags in the block header');
}

test('the WebAssembly liblzma is the version the implementation string names', async () => {
  const encoder = await xzBufferEncoder();
  assert.equal(encoder.liblzmaVersion, '5.8.2');
  assert.ok(SQUASHFS_CODEC_IMPLEMENTATIONS.xz.includes(`liblzma ${encoder.liblzmaVersion}`));
});

test('xz streams: CRC32 check, the asked dictionary in the header, and they decode to the input', async () => {
  const encoder = await xzBufferEncoder();
  const input = textLike(131072, 7);
  const block = encoder.encode(input, { dictSize: 131072, x86: false });
  const meta = encoder.encode(input.subarray(0, 8192), { dictSize: 8192, x86: false });
  assert.deepEqual([...block.subarray(0, 6)], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  assert.deepEqual([block[6], block[7]], [0x00, 0x01], 'stream flags: CRC32');
  // LZMA2 dictionary byte b means (2 | b & 1) << (b / 2 + 11): 10 is 128 KiB, 2 is 8 KiB.
  assert.equal(lzma2DictByte(block), 10);
  assert.equal(lzma2DictByte(meta), 2);
  assert.ok(block.length < input.length / 4, `compresses (${block.length} bytes)`);
  assert.equal(sha256(await unxz(block, 131072)), sha256(input));
  assert.equal(sha256(await unxz(meta, 8192)), sha256(input.subarray(0, 8192)));
});

test('x86 BCJ chain output is pinned, and the codec keeps the smaller of the two chains', async () => {
  const encoder = await xzBufferEncoder();
  const input = textLike(65536, 3);
  const x86 = encoder.encode(input, { dictSize: 131072, x86: true });
  assert.deepEqual([x86.length, sha256(x86)], [7180, '0bfac0b249f6478e105f884a850d4339bc8767f6596d3ea3ad276e4fbf9e647e']);
  assert.equal(sha256(await unxz(x86, 65536)), sha256(input));
  const plain = encoder.encode(input, { dictSize: 131072, x86: false });
  const codec = await createSquashfsCodec({ compressor: 'xz', blockSize: 131072, xzBcj: 'x86' });
  const chosen = await codec.compress(input, false);
  assert.equal(sha256(chosen), sha256(x86.length < plain.length ? x86 : plain));
});

test("an input's bytes do not depend on what the thread's encoder compressed before", async () => {
  const encoder = await xzBufferEncoder();
  const inputs = [131072, 1, 0, 1 << 20, 4096, 131072].map((size, i) => ({
    data: i % 2 === 0 ? textLike(size, i) : pattern(size, i + 1),
    chain: { dictSize: Math.max(size, 4096), x86: i === 3 },
  }));
  const forward = inputs.map(({ data, chain }) => sha256(encoder.encode(data, chain)));
  const backward = [...inputs].reverse().map(({ data, chain }) => sha256(encoder.encode(data, chain))).reverse();
  assert.deepEqual(backward, forward);
  for (const [i, { data, chain }] of inputs.entries()) {
    assert.equal(sha256(await unxz(encoder.encode(data, chain), Math.max(data.length, 1))), sha256(data), `input ${i} round trip`);
  }
});

test('incompressible input still gives a valid stream (stored chunks), a little larger than the input', async () => {
  const encoder = await xzBufferEncoder();
  const input = pattern(131072, 99);
  const out = encoder.encode(input, { dictSize: 131072, x86: false });
  assert.ok(out.length > input.length && out.length < input.length + 128, `${out.length} bytes`);
  assert.equal(sha256(await unxz(out, 131072)), sha256(input));
});
