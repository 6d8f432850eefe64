// fzstd moves its whole window at every block and misreads matches over 64 MiB back (docs in
// src/compress/zstd-window.ts). A frame's window is lowered to what its blocks can give when the
// frame ends within the look-ahead; blocks far smaller than a window that stays large are
// refused; a window over 64 MiB is refused once the frame could have given more than 64 MiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decompressChunks } from '../../src/compress/decompress.js';
import { ZstdFrameGuard, windowDescriptorFor, zstdWindowSize } from '../../src/compress/zstd-window.js';
import { ReprimageError } from '../../src/errors.js';

/** A frame (no checksum, window descriptor `descriptor`) of the given blocks: raw ones hold their bytes, RLE ones one byte. */
function frame(descriptor: number, blocks: { type: 'raw' | 'rle'; size: number; byte: number }[]): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, descriptor];
  blocks.forEach((b, i) => {
    const header = (i === blocks.length - 1 ? 1 : 0) | ((b.type === 'raw' ? 0 : 1) << 1) | (b.size << 3);
    parts.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff);
    if (b.type === 'raw') for (let j = 0; j < b.size; j++) parts.push(b.byte);
    else parts.push(b.byte);
  });
  return Uint8Array.from(parts);
}

async function decompress(bytes: Uint8Array, chunk = 65536): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const chunks = (async function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  })();
  for await (const part of decompressChunks(chunks, 'zstd', 'x.zst')) parts.push(part);
  return Buffer.concat(parts);
}

const WINDOW_128M = 17 << 3;

test('window descriptors: the smallest window that holds a size', () => {
  for (const bytes of [0, 1, 1024, 1025, 300, 5000, 2 ** 20 + 1, 2 ** 26, 3 * 2 ** 25]) {
    const window = zstdWindowSize(0, Uint8Array.of(windowDescriptorFor(bytes)));
    assert.ok(window >= Math.max(bytes, 1024), `${bytes} fits in ${window}`);
    assert.ok(window <= Math.max(1024, bytes * 1.125), `${window} is the smallest for ${bytes}`);
  }
});

test('a 1 KB frame of one-byte blocks declaring 128 MiB is decoded in a 1 KiB window, bytes unchanged', async () => {
  const blocks = Array.from({ length: 300 }, (_, i) => ({ type: 'raw' as const, size: 1, byte: 65 + (i % 26) }));
  const input = frame(WINDOW_128M, blocks);
  const guard = new ZstdFrameGuard('x.zst');
  guard.push(input);
  assert.deepEqual(guard.takeWindowPatches(), [{ at: 5, descriptor: 0 }], 'lowered to 1 KiB at the window byte');
  for (const chunk of [1, 7, 65536]) {
    const out = await decompress(input, chunk);
    assert.equal(out.toString(), blocks.map((b) => String.fromCharCode(b.byte)).join(''), `chunks of ${chunk}`);
  }
});

test('tiny blocks in a frame too long to wait for, under a large window, are refused, not decoded for minutes', async () => {
  // 280,000 one-byte raw blocks: 1.1 MB, past the 1 MiB look-ahead, so the 8 MiB window stays
  const input = frame(13 << 3, Array.from({ length: 280_000 }, () => ({ type: 'raw' as const, size: 1, byte: 0x61 })));
  await assert.rejects(decompress(input), (e: unknown) => {
    assert.ok(e instanceof ReprimageError);
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /^x\.zst: zstd data of \d+ bytes in blocks far smaller than their 8388608-byte window: too slow to decode here; decompress it with zstd -d first$/);
    return true;
  });
});

test('a frame with a 128 MiB window is refused once its blocks could pass 64 MiB, before fzstd misreads a match', async () => {
  // 513 RLE blocks of 128 KiB: 64 MiB + 128 KiB of output
  const input = frame(WINDOW_128M, Array.from({ length: 513 }, () => ({ type: 'rle' as const, size: 131072, byte: 0 })));
  await assert.rejects(decompress(input), /^ReprimageError: x\.zst: zstd frame at byte 0 needs a 128 MiB window; the decoder here \(fzstd\) misreads matches over 64 MiB back, so decompress it with zstd -d --long=27 first$/);
  // one that gives less decodes: no match can reach further back than its output
  const fits = frame(WINDOW_128M, Array.from({ length: 16 }, () => ({ type: 'rle' as const, size: 131072, byte: 7 })));
  const out = await decompress(fits);
  assert.equal(out.length, 16 * 131072);
  assert.ok(out.every((b) => b === 7));
});

test('a block larger than 128 KiB or than its window is corrupt (fzstd decoded it)', async () => {
  await assert.rejects(decompress(frame(WINDOW_128M, [{ type: 'rle', size: 131073, byte: 1 }])), /corrupt zstd data: block of 131073 bytes \(at most 131072\) at byte 6/);
  await assert.rejects(decompress(frame(0, [{ type: 'raw', size: 1025, byte: 1 }])), /corrupt zstd data: block of 1025 bytes \(at most 1024\) at byte 6/);
});

test('a frame cut short is still decoded in the window its blocks fill, and reported truncated', async () => {
  // an 80 MiB window, one RLE block of 35,076 bytes, then a raw block cut short (not the last)
  const input = frame((16 << 3) | 2, [{ type: 'rle', size: 35076, byte: 0x41 }, { type: 'raw', size: 49416, byte: 0x42 }, { type: 'rle', size: 1, byte: 0 }]).subarray(0, 200);
  const guard = new ZstdFrameGuard('x.zst');
  guard.push(input);
  assert.deepEqual(guard.takeWindowPatches(), [], 'not lowered while the frame may go on');
  guard.endOfInput();
  const [patch] = guard.takeWindowPatches();
  assert.equal(patch?.at, 5);
  assert.ok(zstdWindowSize(0, Uint8Array.of(patch.descriptor)) >= 35076 + 49416 && zstdWindowSize(0, Uint8Array.of(patch.descriptor)) < 2 ** 17);
  await assert.rejects(decompress(input), /^ReprimageError: x\.zst: truncated zstd data/);
});
