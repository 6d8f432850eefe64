import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveBytes, deriveUuid, deriveU32, MAX_DERIVED_BYTES } from '../../src/tree/identifiers.js';
import { ReprimageError } from '../../src/errors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Every vector below was computed independently of this code, with OpenSSL 3:
//   printf PURPOSE | openssl dgst -sha256 -hmac SEED
//   (printf PURPOSE; printf '\x00\x01') | openssl dgst -sha256 -hmac SEED     (counter block 1)
const VECTORS = {
  fatSerial: '8da7fd6e46568bd0e2e147072c6c2ec51045cdb4c0a7c63f3565dcbfd0b651d7', // seed reprimage, 'fat serial'
  ext4Uuid: '0ad0fb174041c5c1520eec29a4e6cb90577099366f92c3135c921e7bf44dc1d7', // seed reprimage, 'ext4 uuid'
  isoGpt: '96623663fb0161dbdfa7361f91ba1ddf0dd8108ad93aa998db0966862993de3a', // seed reprimage:1700000000, 'iso gpt disk'
  long0: '7b1f6689a152a9652c5199c81afb82a8b1d6ca624af740c4be768613b3de1103', // seed seed, 'long'
  long1: '78576fb6240b668aa261030e38fe2e1149695f3e0037549fe23829ff1b4d34c1', // seed seed, 'long' 00 01
  long2: 'e4ae42a0cb438b3e6e6f1072210d09a900bc8c9bb88f4d82f4eb98d929189877', // seed seed, 'long' 00 02
  utf8: '1e49b5e62dfc807554d1c0f24f5f7e6436ce0814183084ef0d399ec79223730f', // seed 'sééd', 'ünï' (UTF-8 bytes)
};

test('deriveBytes is HMAC-SHA-256(seed, purpose), pinned against openssl', () => {
  assert.equal(hex(deriveBytes('reprimage', 'fat serial', 32)), VECTORS.fatSerial);
  assert.equal(hex(deriveBytes('reprimage:1700000000', 'iso gpt disk', 32)), VECTORS.isoGpt);
  assert.equal(hex(deriveBytes('sééd', 'ünï', 32)), VECTORS.utf8, 'seed and purpose are UTF-8');
  assert.equal(hex(deriveBytes('reprimage', 'fat serial', 5)), VECTORS.fatSerial.slice(0, 10), 'shorter lengths are prefixes');
  assert.equal(deriveBytes('reprimage', 'fat serial', 0).length, 0);
});

test('more than 32 bytes continue in counter mode: HMAC(seed, purpose || 0x00 || i)', () => {
  assert.equal(hex(deriveBytes('seed', 'long', 96)), VECTORS.long0 + VECTORS.long1 + VECTORS.long2);
  assert.equal(hex(deriveBytes('seed', 'long', 40)), VECTORS.long0 + VECTORS.long1.slice(0, 16));
  const max = deriveBytes('seed', 'long', MAX_DERIVED_BYTES);
  assert.equal(max.length, 8192);
  const blocks = new Set<string>();
  for (let i = 0; i < 256; i++) blocks.add(hex(max.subarray(i * 32, i * 32 + 32)));
  assert.equal(blocks.size, 256, 'no counter block repeats');
});

test('deriveBytes refuses lengths it cannot give', () => {
  for (const bad of [-1, 1.5, MAX_DERIVED_BYTES + 1, NaN]) {
    assert.throws(() => deriveBytes('s', 'p', bad), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE', String(bad));
  }
});

test('deriveUuid sets the RFC 4122 version 4 and variant bits on the first 16 bytes', () => {
  // bytes 0ad0fb17 4041 c5c1 520e ec29a4e6cb90: byte 6 c5 -> 45, byte 8 52 -> 92
  assert.equal(deriveUuid('reprimage', 'ext4 uuid'), '0ad0fb17-4041-45c1-920e-ec29a4e6cb90');
  assert.notEqual(deriveUuid('reprimage', 'ext4 uuid'), deriveUuid('reprimage', 'journal uuid'));
  assert.notEqual(deriveUuid('reprimage', 'ext4 uuid'), deriveUuid('reprimage2', 'ext4 uuid'));
  for (const purpose of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
    assert.match(deriveUuid('x', purpose), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
});

test('deriveU32 reads the first 4 bytes big-endian', () => {
  assert.equal(deriveU32('reprimage', 'fat serial'), 0x8da7fd6e);
  assert.equal(deriveU32('reprimage:1700000000', 'iso gpt disk'), 0x96623663);
});
