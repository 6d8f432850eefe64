// The SquashFS zstd codec is zstd 1.5.6 compiled to WebAssembly by us (src/compress/zstd/). It
// replaced @bokuweb/zstd-wasm 0.0.27 (also zstd 1.5.6) without changing a byte at the default
// level 15 (nor at 1-2 and 11-22): this compares the two on varied blocks (the old one as the
// codec ran it, heap restored before each block), and a reused context with a fresh one.
// Levels 3-10 (zstd's dfast/greedy/lazy strategies) give other bytes than the old package's
// build did; ours are those of zstd's portable C code (docs/formats/squashfs.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createZstdCompressor } from '../../src/compress/zstd/compressor.js';
import { ZSTD_WASM_BASE64, ZSTD_WASM_SHA256 } from '../../src/compress/zstd/wasm-module.js';
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

test('our zstd 1.5.6 gives the bytes @bokuweb/zstd-wasm 0.0.27 gave, at levels 15, 1 and 19', async () => {
  assert.equal(createHash('sha256').update(Buffer.from(ZSTD_WASM_BASE64, 'base64')).digest('hex'), ZSTD_WASM_SHA256);
  const old = (await import('@bokuweb/zstd-wasm')) as unknown as { init(): Promise<void>; compress(d: Uint8Array, l: number): Uint8Array };
  await old.init();
  const { Module } = require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')) as { Module: { HEAPU8: Uint8Array } };
  const pristine = Module.HEAPU8.slice();
  const oldCompress = (d: Uint8Array, level: number) => {
    Module.HEAPU8.set(pristine);
    if (Module.HEAPU8.length > pristine.length) Module.HEAPU8.fill(0, pristine.length);
    return new Uint8Array(old.compress(d, level));
  };
  for (const level of [15, 1, 19]) {
    const ours = createZstdCompressor(level);
    for (const [i, b] of blocks().entries()) assert.deepEqual(ours(b), oldCompress(b, level), `block ${i} at level ${level}`);
  }
});

test('a reused zstd context gives what a fresh one gives', () => {
  const reused = createZstdCompressor(15);
  for (const [i, b] of blocks().entries()) assert.deepEqual(reused(b), createZstdCompressor(15)(b), `block ${i}`);
});
