/** sealChecksum's four-bytes-at-a-time sum equals the plain byte sum, on any header bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BLOCK, checksumOf, sealChecksum } from '../../src/formats/tar/layout.js';

test('sealChecksum stores the plain unsigned byte sum, for random, all-0xff and unaligned headers', () => {
  const cases: Uint8Array[] = [new Uint8Array(BLOCK).fill(0xff), new Uint8Array(BLOCK)];
  for (let i = 0; i < 200; i++) cases.push(new Uint8Array(randomBytes(BLOCK)));
  const unaligned = new Uint8Array(BLOCK + 1).subarray(1);
  unaligned.set(randomBytes(BLOCK));
  cases.push(unaligned);
  for (const h of cases) {
    sealChecksum(h);
    const stored = parseInt(Buffer.from(h.subarray(148, 154)).toString('latin1'), 8);
    assert.equal(stored, checksumOf(h).unsigned);
    assert.deepEqual([h[154], h[155]], [0, 0x20]);
  }
});
