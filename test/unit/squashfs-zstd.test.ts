// The SquashFS zstd codec keeps one @bokuweb/zstd-wasm context per thread (src/compress/zstd/)
// instead of calling the package's compress() with its heap restored before every block. This
// checks that both ways give the same bytes on varied blocks, and a reused context a fresh one's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createZstdCompressor } from '../../src/compress/zstd/compressor.js';
import { pseudoRandom, textBytes } from '../oracle/squashfs-support.js';

const require = createRequire(import.meta.url);

function blocks(): Uint8Array[] {
  const node = readFileSync(process.execPath);
  const out: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) out.push(node.subarray(i * 1_000_000, i * 1_000_000 + 131072));
  for (let i = 0; i < 6; i++) out.push(textBytes(131072 - i * 9000, i + 1), pseudoRandom(20_000 + i * 7000, i + 9));
  out.push(new Uint8Array(131072), textBytes(8192, 3), textBytes(1 << 20, 4), new Uint8Array([1]));
  return out;
}

test('a reused context gives what the package\'s compress() gives from a pristine heap, at levels 15, 1, 5 and 19', async () => {
  const old = (await import('@bokuweb/zstd-wasm')) as unknown as { init(): Promise<void>; compress(d: Uint8Array, l: number): Uint8Array };
  await old.init();
  const { Module } = require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')) as { Module: { HEAPU8: Uint8Array } };
  const pristine = Module.HEAPU8.slice();
  const oldCompress = (d: Uint8Array, level: number) => {
    Module.HEAPU8.set(pristine);
    if (Module.HEAPU8.length > pristine.length) Module.HEAPU8.fill(0, pristine.length);
    return new Uint8Array(old.compress(d, level));
  };
  // Every expected frame first: restoring the heap would also wipe the context ours keeps in it.
  const levels = [15, 1, 5, 19, 15];
  const expected = levels.map((level) => blocks().map((b) => oldCompress(b, level)));
  // levels interleave on the thread's one context, as the repacked initramfs and SquashFS do
  for (const [l, level] of levels.entries()) {
    const ours = await createZstdCompressor(level);
    for (const [i, b] of blocks().entries()) assert.deepEqual(ours(b), expected[l]![i], `block ${i} at level ${level}`);
  }
});
