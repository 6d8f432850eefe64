// A compressed zstd block whose Huffman weights are FSE-coded with states that read no bits made
// fzstd spin forever (a 198-byte cpio found by fuzzing: test/fixtures/fuzz/cpio). The weights
// are now decoded first and more than 255 of them is CORRUPT_IMAGE, as zstd says; real zstd
// output at every level still passes the check and decodes unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decompressChunks } from '../../src/compress/decompress.js';
import { createSquashfsDecompressor } from '../../src/compress/squashfs-codecs.js';
import { ZstdFrameGuard } from '../../src/compress/zstd-window.js';
import { createZstdCompressor } from '../../src/compress/zstd/compressor.js';
import { ReprimageError } from '../../src/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// the zstd segment at the start of the fuzz finding (the cpio header follows at byte 155)
const spinning = new Uint8Array(readFileSync(join(root, 'test/fixtures/fuzz/cpio/zstd-huffman-weights-spin.cpio'))).subarray(0, 155);

async function decompress(bytes: Uint8Array, chunk: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const chunks = (async function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  })();
  for await (const part of decompressChunks(chunks, 'zstd', 'x.zst')) parts.push(part);
  return Buffer.concat(parts);
}

const corrupt = (e: unknown) => {
  assert.ok(e instanceof ReprimageError, String(e));
  assert.equal(e.code, 'CORRUPT_IMAGE');
  assert.match(e.message, /^x\.zst: corrupt zstd data: more than 255 Huffman weights in the block at byte 9$/);
  return true;
};

test('a block whose Huffman weights never end is corrupt, streamed in any chunking', async () => {
  for (const chunk of [1, 10, 155]) await assert.rejects(decompress(spinning, chunk), corrupt);
});

test('the same frame as a SquashFS zstd block is corrupt, not decoded forever', async () => {
  // SquashFS frames declare their content size: single-segment, one size byte (where the window byte was)
  const frame = spinning.slice();
  frame[4] = 0x20;
  frame[5] = 255;
  const decode = createSquashfsDecompressor(6, 'x.zst');
  await assert.rejects(decode(frame, 131072), corrupt);
});

test('zstd output at levels 1 to 19 passes the check (FSE-coded weights among it) and decodes unchanged', async () => {
  // text and structured binary: both give compressed literals with FSE-coded Huffman weights
  const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i} of ${(i * 7919) % 1000} words\n`).join(''));
  const binary = readFileSync(process.execPath).subarray(0, 1 << 20);
  let checked = 0;
  for (const level of [1, 3, 9, 19]) {
    const compress = await createZstdCompressor(level);
    for (const data of [text, binary]) {
      const frame = compress(data);
      const guard = new ZstdFrameGuard('x.zst');
      for (let i = 0; i < frame.length; i += 4093) guard.push(frame.subarray(i, i + 4093));
      checked += guard.descriptionsChecked;
      assert.ok((await decompress(frame, 65536)).equals(data), `level ${level} round trip`);
    }
  }
  assert.ok(checked >= 8, `FSE-coded Huffman descriptions checked: ${checked}`);
});
