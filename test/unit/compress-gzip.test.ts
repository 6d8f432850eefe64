// gzip bytes must depend only on pako's version (docs/design.md rule 6): a fixed input pinned by hash,
// identical output however the input is split, the fixed header, and the refused operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GzipSink, gzipBytes } from '../../src/compress/gzip.js';
import { MemorySink } from '../../src/io/sink.js';

/** 3 MiB of mixed text and pseudo-random bytes from a fixed linear congruential generator. */
function fixedInput(): Uint8Array {
  const out = new Uint8Array(3 << 20);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 4096 < 2048 ? 97 + ((x >>> 16) % 26) : (x >>> 24) & (i % 3 === 0 ? 0xff : 0x0f);
  }
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PINNED_LEVEL9 = 'cd5b1bb121f5df1deb68e854b3311fc3860dfae853c32f8532e10d754057326b';
const PINNED_LEVEL6 = '65d210bd55bf1c3cf18c73a374afec09143f4fc9c7a761b3f6ae4d09bc519357';

test('gzip of a fixed input has a pinned hash at levels 9 and 6, and a fixed header', () => {
  const input = fixedInput();
  const nine = gzipBytes(input, 9);
  assert.equal(Buffer.from(nine.subarray(0, 10)).toString('hex'), '1f8b0800000000000203');
  assert.equal(sha(nine), PINNED_LEVEL9);
  assert.equal(sha(gzipBytes(input, 6)), PINNED_LEVEL6);
  assert.deepEqual(new Uint8Array(gunzipSync(nine)), input);
});

test('GzipSink gives the same bytes however the writes are split', async () => {
  const input = fixedInput();
  const outputs: string[] = [];
  for (const step of [1, 4096, 65535, 1 << 20, input.length]) {
    const inner = new MemorySink();
    const gz = new GzipSink(inner, { level: 9 });
    for (let at = 0; at < input.length; at += step) await gz.write(input.subarray(at, at + step));
    await gz.close();
    outputs.push(sha(inner.bytes()));
  }
  assert.equal(new Set(outputs).size, 1);
  assert.equal(outputs[0], PINNED_LEVEL9);
});

test('gzip header: XFL follows the level as zlib sets it; empty input; bad levels and writeAt refused', async () => {
  assert.equal(gzipBytes(new Uint8Array(0), 9).length, 20);
  assert.deepEqual(new Uint8Array(gunzipSync(gzipBytes(new Uint8Array(0)))), new Uint8Array(0));
  const xfl = (level: number) => gzipBytes(Buffer.from('abc'), level)[8];
  assert.deepEqual([xfl(1), xfl(6), xfl(9)], [4, 0, 2]);
  assert.throws(() => gzipBytes(new Uint8Array(1), 0), { code: 'USAGE' });
  assert.throws(() => new GzipSink(new MemorySink(), { level: 10 }), { code: 'USAGE' });
  const gz = new GzipSink(new MemorySink());
  await assert.rejects(gz.writeAt(), { code: 'UNSUPPORTED' });
});

test('GzipSink and gzipBytes agree on an input of exactly one 64 KiB piece', async () => {
  const input = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);
  const inner = new MemorySink();
  const gz = new GzipSink(inner);
  await gz.write(input);
  await gz.close();
  assert.equal(sha(inner.bytes()), sha(gzipBytes(input)));
  assert.equal(gz.position, input.length);
});
