/**
 * A raw LZ4 block compressor (the format of lz4's `LZ4_compress_default`, which SquashFS
 * stores). Greedy matching over a 64 Ki-entry hash table, honouring the block format's end
 * rules (the last match starts at least 12 bytes before the end; the last 5 bytes are
 * literals), which the kernel's and liblz4's safe decoders enforce. Pure TypeScript: its output
 * depends on nothing but its input.
 */
const MIN_MATCH = 4;
const MF_LIMIT = 12;
const LAST_LITERALS = 5;
const HASH_LOG = 16;

export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

export function lz4CompressBlock(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out = new Uint8Array(lz4CompressBound(n));
  let o = 0;
  const writeLength = (len: number) => {
    for (; len >= 255; len -= 255) out[o++] = 255;
    out[o++] = len;
  };
  const emit = (anchor: number, literals: number, offset: number, matchLength: number) => {
    const ml = matchLength - MIN_MATCH;
    out[o++] = (Math.min(literals, 15) << 4) | (offset > 0 ? Math.min(ml, 15) : 0);
    if (literals >= 15) writeLength(literals - 15);
    out.set(src.subarray(anchor, anchor + literals), o);
    o += literals;
    if (offset > 0) {
      out[o++] = offset & 0xff;
      out[o++] = offset >>> 8;
      if (ml >= 15) writeLength(ml - 15);
    }
  };
  let anchor = 0;
  if (n >= MF_LIMIT + 1) {
    const table = new Int32Array(1 << HASH_LOG).fill(-1);
    const read32 = (i: number) => (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0;
    const matchLimit = n - LAST_LITERALS;
    const lastStart = n - MF_LIMIT;
    let ip = 0;
    let misses = 0;
    while (ip <= lastStart) {
      const seq = read32(ip);
      const h = Math.imul(seq, 2654435761) >>> (32 - HASH_LOG);
      const ref = table[h]!;
      table[h] = ip;
      if (ref >= 0 && ip - ref <= 65535 && read32(ref) === seq) {
        let len = MIN_MATCH;
        while (ip + len < matchLimit && src[ip + len] === src[ref + len]) len++;
        emit(anchor, ip - anchor, ip - ref, len);
        ip += len;
        anchor = ip;
        misses = 0;
      } else {
        ip += 1 + (misses++ >> 6);
      }
    }
  }
  emit(anchor, n - anchor, 0, 0);
  return out.slice(0, o);
}
