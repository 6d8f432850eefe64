import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate } from '../../src/compress/crc32c.js';

test('CRC-32C check values (RFC 3720 B.4 and the standard "123456789")', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.equal(crc32c(ascending), 0x46dd794e);
});

test('CRC-32C raw updates compose across any split, sliced or bytewise', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
  const whole = crc32cUpdate(0x12345678, data);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32cUpdate(crc32cUpdate(0x12345678, data.subarray(0, cut)), data.subarray(cut)), whole, `split at ${cut}`);
  }
  let bytewise = 0x12345678;
  for (const b of data) bytewise = crc32cUpdate(bytewise, Uint8Array.of(b));
  assert.equal(bytewise, whole);
});
