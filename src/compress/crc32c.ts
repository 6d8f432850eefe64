/**
 * CRC-32C (Castagnoli), as ext4 metadata_csum, btrfs and iSCSI use it: reflected polynomial
 * 0x82F63B78. ext4 feeds the raw register along (seeded with ~0 or the checksum seed and never
 * inverted at the end), so this exposes the raw update; `crc32c` is the conventional form.
 * Slicing-by-8 tables, because ext4 checksums every metadata block it writes.
 */
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let s = 1; s < 8; s++) {
      const prev = t[(s - 1) * 256 + n]!;
      t[s * 256 + n] = (t[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/** Updates the raw CRC-32C register `crc` over `bytes` (no initial or final inversion). */
export function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  let c = crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      TABLES[7 * 256 + (lo & 0xff)]! ^
      TABLES[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      TABLES[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      TABLES[4 * 256 + (lo >>> 24)]! ^
      TABLES[3 * 256 + bytes[i + 4]!]! ^
      TABLES[2 * 256 + bytes[i + 5]!]! ^
      TABLES[1 * 256 + bytes[i + 6]!]! ^
      TABLES[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = TABLES[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** The conventional CRC-32C of `bytes` (initial value and final XOR 0xFFFFFFFF). */
export function crc32c(bytes: Uint8Array): number {
  return (crc32cUpdate(0xffffffff, bytes) ^ 0xffffffff) >>> 0;
}
