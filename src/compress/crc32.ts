/**
 * CRC-32 as gzip (RFC 1952 §8) and xz use it: reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF. Pure TypeScript, so it does not depend on the Node.js version
 * (`zlib.crc32` only exists from Node 20.15 on).
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC-32 over `bytes`; start with `crc32(bytes)` (previous = 0). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
