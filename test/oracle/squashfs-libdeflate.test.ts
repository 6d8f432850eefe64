// The SquashFS gzip codec runs libdeflate as WebAssembly from the npm package libdeflate 0.1.0.
// This checks that it computes what Debian's native libdeflate 1.14 computes (libdeflate-gzip from
// libdeflate-tools): the deflate body of its .gz output equals our raw deflate, byte for byte,
// at several levels and on text, binary and incompressible inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requireTool, run } from '../helpers/tools.js';
import { createDeflateCompressor } from '../../src/compress/libdeflate/compressor.js';
import { pseudoRandom, textBytes } from './squashfs-support.js';

/** The raw deflate data inside a one-member .gz (RFC 1952 header and 8-byte trailer removed). */
function gzipBody(gz: Buffer): Buffer {
  assert.equal(gz.readUInt16BE(0), 0x1f8b);
  const flags = gz[3]!;
  assert.equal(flags & ~0x08, 0, 'only FNAME may be set');
  let at = 10;
  if (flags & 0x08) at = gz.indexOf(0, at) + 1;
  return gz.subarray(at, gz.length - 8);
}

const INPUTS: Array<[string, () => Uint8Array]> = [
  ['text', () => textBytes(300_000, 5)],
  ['random', () => pseudoRandom(70_000, 9)],
  ['node binary (first 1 MiB)', () => readFileSync(process.execPath).subarray(0, 1 << 20)],
  ['empty', () => new Uint8Array(0)],
];

// Levels 1-9 (9 is the default); the near-optimal levels 10-12 changed after 1.14 and differ.
for (const level of [1, 6, 9]) {
  test(`libdeflate WebAssembly level ${level} gives native libdeflate 1.14's bytes`, async (t) => {
    if (!requireTool(t, 'libdeflate-gzip')) return;
    const ours = await createDeflateCompressor(level);
    for (const [name, make] of INPUTS) {
      const input = make();
      const native = gzipBody(run('libdeflate-gzip', [`-${level}`, '-c'], { input }).stdout);
      assert.equal(Buffer.compare(Buffer.from(ours.deflate(input)), native), 0, `${name} at level ${level}`);
    }
  });
}
