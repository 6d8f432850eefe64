// zstd frames are held to the 128 MiB window `zstd -d` decodes without --long: a frame declaring
// more is refused before fzstd allocates it (it allocates the declared window up front, so a
// 14-byte input could take 2 GiB). The fixtures in test/fixtures/zstd were checked against
// zstd 1.5.4: it decodes zw-128m.zst and refuses the other zw-* files with "Window size larger
// than maximum".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { decompressChunks, decompressSegment } from '../../src/compress/decompress.js';
import { ZstdFrameGuard, zstdWindowSize } from '../../src/compress/zstd-window.js';
import { ReprimageError } from '../../src/errors.js';
import type { RandomAccessSource } from '../../src/io/source.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/zstd');
const fixture = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));

async function* chunksOf(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function decompress(bytes: Uint8Array, chunk = 1 << 16): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of decompressChunks(chunksOf(bytes, chunk), 'zstd', 'x.zst')) parts.push(part);
  return Buffer.concat(parts);
}

function memorySource(bytes: Uint8Array): RandomAccessSource {
  return { size: bytes.length, read: async (offset: number, length: number) => bytes.slice(offset, offset + length) } as RandomAccessSource;
}

test('window sizes decode as RFC 8878 gives them: descriptor exponent and mantissa, or the single segment content size', () => {
  assert.equal(zstdWindowSize(0x00, Uint8Array.of(17 << 3)), 128 * 2 ** 20);
  assert.equal(zstdWindowSize(0x00, Uint8Array.of((17 << 3) | 1)), 144 * 2 ** 20);
  assert.equal(zstdWindowSize(0x00, Uint8Array.of(0)), 1024);
  // single segment, 1-byte content size 200; 2-byte sizes are stored minus 256
  assert.equal(zstdWindowSize(0x20, Uint8Array.of(200)), 200);
  assert.equal(zstdWindowSize(0x60, Uint8Array.of(0x00, 0x01)), 512);
  // single segment with a 1-byte dictionary id before a 4-byte content size of 1 GiB
  assert.equal(zstdWindowSize(0xa1, Uint8Array.of(7, 0, 0, 0, 0x40)), 2 ** 30);
});

test('a frame at the 128 MiB limit decodes; one over it is refused as UNSUPPORTED naming the window', async () => {
  assert.equal(Buffer.from(await decompress(fixture('zw-128m.zst'))).toString(), 'hello');
  for (const [name, window] of [['zw-144m.zst', '144 MiB'], ['zw-2g.zst', '2 GiB'], ['zw-single-1g.zst', '1 GiB']] as const) {
    await assert.rejects(decompress(fixture(name)), (e: unknown) => {
      assert.ok(e instanceof ReprimageError, `${name}: ${String(e)}`);
      assert.equal(e.code, 'UNSUPPORTED');
      assert.match(e.message, new RegExp(`^x\\.zst: zstd frame at byte 0 needs a ${window} window, more than the 128 MiB`));
      return true;
    });
  }
});

test('the guard follows skippable frames, checksums and many frames fed a byte at a time, and the data is unchanged', async () => {
  const frames = fixture('frames.zst');
  const expected = '06ec92e8fc46a6b3e034e642d06e524db6c19b31f38e791bc7c8c92a00154c95'; // zstd -dc frames.zst | sha256sum
  for (const chunk of [1, 3, 4096, 1 << 20]) {
    const out = await decompress(frames, chunk);
    assert.equal(createHash('sha256').update(out).digest('hex'), expected, `chunks of ${chunk}`);
  }
  // a too-large frame after the good ones is still seen, at its own offset
  const bad = fixture('zw-2g.zst');
  const guard = new ZstdFrameGuard('y.zst');
  const joined = Buffer.concat([frames, bad]);
  assert.throws(() => {
    for (let i = 0; i < joined.length; i += 7) guard.push(joined.subarray(i, i + 7));
  }, new RegExp(`zstd frame at byte ${frames.length} needs a 2 GiB window`));
});

test('a segment of a larger file (initramfs) is held to the same limit when its end is found', async () => {
  const source = memorySource(Buffer.concat([fixture('zw-2g.zst'), new Uint8Array(16)]));
  await assert.rejects(decompressSegment(source, 0, 'zstd', 'initrd.img'), (e: unknown) => {
    assert.ok(e instanceof ReprimageError);
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /^initrd\.img: zstd frame at byte 0 needs a 2 GiB window/);
    return true;
  });
});
