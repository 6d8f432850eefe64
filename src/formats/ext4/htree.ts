/**
 * Directory name hashes of hashed (htree) directories: half-MD4 (the default of mke2fs) and
 * TEA, keyed by the superblock's hash seed, in the signed and unsigned character variants
 * (s_flags says which one a file system uses). Restated from the description of ext4_dirhash
 * in the kernel's ext4 disk-layout documentation; results are checked in the tests against
 * `debugfs -R "dx_hash …"`.
 */
import { HASH } from './layout.js';

/** The major hash (low bit cleared, as stored in dx entries) and the minor hash. */
export interface DirHash {
  hash: number;
  minor: number;
}

const DEFAULT_SEED = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/** The 16-byte s_hash_seed as four little-endian words; an all-zero seed means the default. */
export function seedWords(seed: Uint8Array): number[] {
  const words = [0, 1, 2, 3].map((i) => (seed[4 * i]! | (seed[4 * i + 1]! << 8) | (seed[4 * i + 2]! << 16) | (seed[4 * i + 3]! << 24)) >>> 0);
  return words.some((w) => w !== 0) ? words : [...DEFAULT_SEED];
}

/**
 * Packs up to `num` words of the name (from `at`) as the kernel's str2hashbuf does: bytes are
 * shifted into each word big-end first, and the unfilled words carry the length pattern.
 */
function nameToWords(name: Uint8Array, at: number, len: number, num: number, signed: boolean): number[] {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  const out: number[] = [];
  let val = pad;
  const n = Math.min(len, num * 4);
  for (let i = 0; i < n; i++) {
    let c = name[at + i]!;
    if (signed && c >= 0x80) c -= 0x100;
    val = (c + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) {
      out.push(val);
      val = pad;
    }
  }
  if (out.length < num) out.push(val);
  while (out.length < num) out.push(pad);
  return out;
}

function rol(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;

/** The half-MD4 transform (three rounds of eight steps over eight input words). */
function halfMd4(buf: number[], w: number[]): void {
  let [a, b, c, d] = buf as [number, number, number, number];
  const F = (x: number, y: number, z: number) => (z ^ (x & (y ^ z))) >>> 0;
  const G = (x: number, y: number, z: number) => ((x & y) + ((x ^ y) & z)) >>> 0;
  const H = (x: number, y: number, z: number) => (x ^ y ^ z) >>> 0;
  const round = (f: typeof F, order: number[], shifts: number[], k: number) => {
    for (let i = 0; i < 8; i++) {
      const x = (w[order[i]!]! + k) >>> 0;
      const s = shifts[i % 4]!;
      switch (i % 4) {
        case 0: a = rol((a + f(b, c, d) + x) >>> 0, s); break;
        case 1: d = rol((d + f(a, b, c) + x) >>> 0, s); break;
        case 2: c = rol((c + f(d, a, b) + x) >>> 0, s); break;
        default: b = rol((b + f(c, d, a) + x) >>> 0, s); break;
      }
    }
  };
  round(F, [0, 1, 2, 3, 4, 5, 6, 7], [3, 7, 11, 19], 0);
  round(G, [1, 3, 5, 7, 0, 2, 4, 6], [3, 5, 9, 13], K2);
  round(H, [3, 7, 2, 6, 1, 5, 0, 4], [3, 9, 11, 15], K3);
  buf[0] = (buf[0]! + a) >>> 0;
  buf[1] = (buf[1]! + b) >>> 0;
  buf[2] = (buf[2]! + c) >>> 0;
  buf[3] = (buf[3]! + d) >>> 0;
}

/** Sixteen rounds of TEA over the first two words of `buf`. */
function tea(buf: number[], w: number[]): void {
  let sum = 0;
  let b0 = buf[0]!;
  let b1 = buf[1]!;
  const [a, b, c, d] = w as [number, number, number, number];
  for (let n = 0; n < 16; n++) {
    sum = (sum + 0x9e3779b9) >>> 0;
    b0 = (b0 + ((((b1 << 4) >>> 0) + a) ^ (b1 + sum) ^ ((b1 >>> 5) + b))) >>> 0;
    b1 = (b1 + ((((b0 << 4) >>> 0) + c) ^ (b0 + sum) ^ ((b0 >>> 5) + d))) >>> 0;
  }
  buf[0] = (buf[0]! + b0) >>> 0;
  buf[1] = (buf[1]! + b1) >>> 0;
}

/**
 * The hash of `name` with `version` (HASH.halfMd4 or HASH.tea; +3 for the unsigned variants)
 * and the seed words. The major hash has its low bit cleared, and 0xfffffffe (the end marker
 * of 32-bit hash iteration) becomes 0xfffffffc.
 */
export function dirHash(name: Uint8Array, version: number, seed: readonly number[]): DirHash {
  const buf = [...seed];
  let hash: number;
  let minor: number;
  const signed = version < HASH.legacyUnsigned;
  switch (version) {
    case HASH.halfMd4:
    case HASH.halfMd4Unsigned:
      for (let at = 0, len = name.length; len > 0; at += 32, len -= 32) halfMd4(buf, nameToWords(name, at, len, 8, signed));
      hash = buf[1]!;
      minor = buf[2]!;
      break;
    case HASH.tea:
    case HASH.teaUnsigned:
      for (let at = 0, len = name.length; len > 0; at += 16, len -= 16) tea(buf, nameToWords(name, at, len, 4, signed));
      hash = buf[0]!;
      minor = buf[1]!;
      break;
    default:
      throw new RangeError(`directory hash version ${version} is not supported`);
  }
  hash = (hash & ~1) >>> 0;
  if (hash === 0xfffffffe) hash = 0xfffffffc;
  return { hash, minor };
}
