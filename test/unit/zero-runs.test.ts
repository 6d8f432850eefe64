// The raw-image reading helpers of the virtual-disk writers (src/io/zero-runs.ts): chunks read
// ahead into a ring of buffers come out in order with the source's bytes, the last unit
// zero-padded; a failed read ahead surfaces at its turn; zero tests at any offset and length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, type RandomAccessSource } from '../../src/io/source.js';
import { isAllZero, readChunks, readUnits } from '../../src/io/zero-runs.js';

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) % 251;
  return b;
}

test('readChunks: every chunk in order with the source bytes, also through readInto with reads in flight', async () => {
  const bytes = pattern(10_000);
  const plain = bufferSource(bytes, 'p');
  let inFlight = 0;
  let most = 0;
  const slow: RandomAccessSource = {
    ...plain,
    async readInto(offset, target) {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, (offset / 1000) % 3));
      target.set(bytes.subarray(offset, offset + target.length));
      inFlight--;
    },
  };
  for (const source of [plain, slow]) {
    const got: number[] = [];
    for await (const { offset, bytes: chunk } of readChunks(source, 1000, 4)) {
      assert.equal(offset, got.length);
      got.push(...chunk);
    }
    assert.deepEqual(Uint8Array.from(got), bytes);
  }
  assert.ok(most > 1, 'reads overlapped');
});

test('readUnits pads the last unit with zeros, not with an earlier chunk', async () => {
  const bytes = pattern(4096 * 5 + 100);
  const units: Uint8Array[] = [];
  for await (const { index, bytes: u } of readUnits(bufferSource(bytes, 'p'), 4096, 2)) {
    assert.equal(index, units.length);
    units.push(u.slice());
  }
  assert.equal(units.length, 6);
  assert.deepEqual(units[5]!.subarray(0, 100), bytes.subarray(4096 * 5));
  assert.ok(isAllZero(units[5]!, 100));
});

test('a read ahead that fails is reported at its turn', async () => {
  const source: RandomAccessSource = {
    ...bufferSource(pattern(8000), 'bad'),
    readInto: (offset) => (offset === 3000 ? Promise.reject(new Error('boom at 3000')) : Promise.resolve()),
  };
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const { offset } of readChunks(source, 1000, 4)) seen.push(offset);
  }, /boom at 3000/);
  assert.deepEqual(seen, [0, 1000, 2000]);
});

test('isAllZero at any offset and length, beyond its 64 KiB comparison block', () => {
  const b = new Uint8Array(200_000);
  assert.equal(isAllZero(b), true);
  assert.equal(isAllZero(b, 5, 5), true);
  b[150_001] = 1;
  assert.equal(isAllZero(b), false);
  assert.equal(isAllZero(b, 0, 150_001), true);
  assert.equal(isAllZero(b, 150_001, 150_002), false);
  assert.equal(isAllZero(b.subarray(150_002)), true);
});
