/**
 * Identifiers derived from a seed (docs/design.md rule 4), the approach of `systemd-repart --seed`:
 * the same seed and purpose always give the same identifier, and different purposes give
 * unrelated ones, so an image has stable UUIDs, serials and hash seeds without any randomness.
 *
 * Block 0 is HMAC-SHA-256(key = UTF-8 seed, message = UTF-8 purpose). When more than 32 bytes
 * are asked for, block i (i = 1, 2, …, 255) is HMAC-SHA-256(seed, purpose || 0x00 || i) and the
 * blocks are concatenated. docs/metadata-policy.md documents this; test vectors are pinned in
 * test/unit/tree-identifiers.test.ts. Changing it changes every published image hash.
 */
import { createHmac } from 'node:crypto';
import { ReprimageError } from '../errors.js';

/** The most bytes `deriveBytes` gives: 256 blocks of 32 bytes (the counter is one byte). */
export const MAX_DERIVED_BYTES = 256 * 32;

/** `length` bytes derived from (seed, purpose) as described above; 0 <= length <= 8192. */
export function deriveBytes(seed: string, purpose: string, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_DERIVED_BYTES) {
    throw new ReprimageError('USAGE', 'deriveBytes', `length must be a whole number from 0 to ${MAX_DERIVED_BYTES}, got ${length}`);
  }
  const out = new Uint8Array(length);
  const message = Buffer.from(purpose, 'utf8');
  for (let block = 0; block * 32 < length; block++) {
    const input = block === 0 ? message : Buffer.concat([message, Buffer.from([0, block])]);
    const digest = createHmac('sha256', Buffer.from(seed, 'utf8')).update(input).digest();
    out.set(digest.subarray(0, Math.min(32, length - block * 32)), block * 32);
  }
  return out;
}

/**
 * An RFC 4122 UUID string (lower-case, dashed) from the first 16 derived bytes, with the
 * version set to 4 and the variant to 10xx, as systemd-repart makes its seeded UUIDs.
 */
export function deriveUuid(seed: string, purpose: string): string {
  const b = deriveBytes(seed, purpose, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The first 4 derived bytes read big-endian: volume serials, MBR disk signatures. */
export function deriveU32(seed: string, purpose: string): number {
  return Buffer.from(deriveBytes(seed, purpose, 4)).readUInt32BE(0);
}
