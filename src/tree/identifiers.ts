/**
 * Identifiers derived from a seed (DESIGN.md rule 4), the approach of `systemd-repart --seed`:
 * bytes = HMAC-SHA-256(key = seed, message = purpose), extended in counter mode
 * (HMAC(seed, purpose || 0x00 || counter)) when more than 32 bytes are needed. The same seed and
 * purpose always give the same identifier; different purposes give unrelated ones.
 */
import { createHmac } from 'node:crypto';

export function deriveBytes(seed: string, purpose: string, length: number): Uint8Array {
  const first = createHmac('sha256', seed).update(purpose).digest();
  if (length <= first.length) return new Uint8Array(first.subarray(0, length));
  const parts: Buffer[] = [first];
  for (let counter = 1; parts.length * 32 < length; counter++) {
    parts.push(createHmac('sha256', seed).update(Buffer.concat([Buffer.from(purpose), Buffer.from([0, counter])])).digest());
  }
  return new Uint8Array(Buffer.concat(parts).subarray(0, length));
}

/** An RFC 4122 UUID with the version 4 and variant bits set, as systemd-repart makes them. */
export function deriveUuid(seed: string, purpose: string): string {
  const b = deriveBytes(seed, purpose, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A 32-bit number (volume serials, MBR disk signatures). */
export function deriveU32(seed: string, purpose: string): number {
  return Buffer.from(deriveBytes(seed, purpose, 4)).readUInt32BE(0);
}
