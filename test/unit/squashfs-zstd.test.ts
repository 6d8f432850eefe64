// The zstd codec (src/compress/zstd/) is @hpcc-js/wasm-zstd since 2026-12-07; before, it was
// @bokuweb/zstd-wasm 0.0.27 (now a dev dependency, kept for this test). This checks that the new
// one gives the old one's bytes on varied blocks at several levels: the stored hashes of zstd
// images and of the live ISO's zstd initramfs hold.
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

test('the zstd codec gives what @bokuweb/zstd-wasm 0.0.27 gave from a pristine heap, at levels 15, 1, 5 and 19', async () => {
  const old = (await import('@bokuweb/zstd-wasm')) as unknown as { init(): Promise<void>; compress(d: Uint8Array, l: number): Uint8Array };
  await old.init();
  const { Module } = require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')) as { Module: { HEAPU8: Uint8Array } };
  const pristine = Module.HEAPU8.slice();
  const oldCompress = (d: Uint8Array, level: number) => {
    Module.HEAPU8.set(pristine);
    if (Module.HEAPU8.length > pristine.length) Module.HEAPU8.fill(0, pristine.length);
    return new Uint8Array(old.compress(d, level));
  };
  const levels = [15, 1, 5, 19, 15];
  const expected = levels.map((level) => blocks().map((b) => oldCompress(b, level)));
  // levels interleave, as the repacked initramfs and SquashFS do
  for (const [l, level] of levels.entries()) {
    const ours = await createZstdCompressor(level);
    for (const [i, b] of blocks().entries()) assert.deepEqual(ours(b), expected[l]![i], `block ${i} at level ${level}`);
  }
});
