/**
 * The tar header block: field offsets and widths in one table, and the number codecs.
 *
 *   field     offset width  ustar/pax            GNU
 *   name         0   100    name (+ prefix)      name, longer ones in ././@LongLink 'L'
 *   mode       100     8    7 octal digits NUL   same
 *   uid, gid   108/116 8    7 octal digits NUL   base-256 when too large
 *   size       124    12    11 octal digits NUL  base-256 when too large (> 8 GiB)
 *   mtime      136    12    11 octal digits NUL  base-256 when negative or too large
 *   chksum     148     8    6 octal digits NUL SPACE
 *   typeflag   156     1
 *   linkname   157   100                          longer ones in 'K'
 *   magic      257     6    "ustar\0"            "ustar " (with version " \0")
 *   version    263     2    "00"
 *   uname      265    32, gname 297 32 (empty: numeric owners only)
 *   devmajor   329     8, devminor 337 8
 *   prefix     345   155    ustar/pax only; GNU keeps atime/ctime/sparse data here
 */
import { corruptError } from '../../errors.js';

export const BLOCK = 512;
/** GNU tar's default record: 20 blocks. Archives are padded to a whole record. */
export const RECORD = 20 * BLOCK;

/** Every header field as [offset, width], ustar's and GNU's, in header order. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
  // GNU old-style sparse map inside the header: 4 × (offset, numbytes) at 386, isextended at 482, realsize at 483
  gnuSparse: [386, 96],
  gnuIsExtended: [482, 1],
  gnuRealSize: [483, 12],
} as const satisfies Record<string, readonly [number, number]>;

/** The name of a header field. */
export type Field = keyof typeof F;

/** Type flags (byte 156) of ustar, pax and GNU. */
export const TYPE = {
  file: '0',
  oldFile: '\0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  contiguous: '7',
  paxLocal: 'x',
  paxGlobal: 'g',
  solarisPax: 'X',
  gnuLongName: 'L',
  gnuLongLink: 'K',
  gnuSparse: 'S',
  gnuDumpDir: 'D',
  gnuVolume: 'V',
  gnuMultiVolume: 'M',
} as const;

/** Magic and version (bytes 257..264) of ustar/pax headers. */
export const MAGIC_USTAR = 'ustar\x0000';
/** Magic and version of GNU headers: "ustar", two spaces, NUL. */
export const MAGIC_GNU = 'ustar  \0';

/** The bytes of field `f` of a header (a view, not a copy). */
export function field(header: Uint8Array, f: Field): Uint8Array {
  const [at, len] = F[f];
  return header.subarray(at, at + len);
}

/** Writes `value` as zero-padded octal with a NUL terminator, or base-256 if it does not fit. */
export function putNumber(header: Uint8Array, f: Field, value: number, allowBase256: boolean): boolean {
  const [at, len] = F[f];
  const digits = len - 1;
  if (value >= 0 && value < 8 ** digits) {
    putOctal(header, at, digits, value);
    header[at + digits] = 0;
    return true;
  }
  if (!allowBase256) return false;
  // base-256: the first byte's high bit marks it, two's complement big-endian for negatives
  let v = BigInt(value);
  for (let i = len - 1; i >= 1; i--) {
    header[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  header[at] = value < 0 ? 0xff : 0x80;
  return true;
}

/** Writes bytes of `text` (latin1-safe: callers pass octal digits or pre-encoded names). */
export function putString(header: Uint8Array, f: Field, text: string): void {
  const [at, len] = F[f];
  // byte by byte: a Buffer per field was a good part of the writer's time per entry
  for (let i = 0; i < len && i < text.length; i++) header[at + i] = text.charCodeAt(i) & 0xff;
}

/** `value` (0 <= value < 8 ** digits) as `digits` zero-padded octal digits at `at`. */
function putOctal(header: Uint8Array, at: number, digits: number, value: number): void {
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    const digit = v % 8; // not `& 7`: sizes and times pass 2 ** 32
    header[i] = 0x30 + digit;
    v = (v - digit) / 8;
  }
}

/** Copies `bytes` into field `f`, cut to the field's width. */
export function putBytes(header: Uint8Array, f: Field, bytes: Uint8Array): void {
  const [at, len] = F[f];
  header.set(bytes.subarray(0, len), at);
}

/** Stores the header checksum: the byte sum with the checksum field as spaces, "%06o\0 ". */
export function sealChecksum(header: Uint8Array): void {
  header.fill(0x20, 148, 156);
  putOctal(header, 148, 6, unsignedSum(header));
  header[154] = 0;
  header[155] = 0x20;
}

/**
 * The unsigned byte sum of a header, four bytes per step (two 16-bit lanes per accumulator, which
 * cannot carry into each other for 512 bytes): the writer seals a header per entry, and this loop
 * is most of its time when the optimizing compiler is off (src/cli/pack.ts).
 */
function unsignedSum(header: Uint8Array): number {
  if (header.length !== BLOCK || header.byteOffset % 4 !== 0) return checksumOf(header).unsigned;
  const words = new Uint32Array(header.buffer, header.byteOffset, BLOCK / 4);
  let even = 0;
  let odd = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    even += w & 0x00ff00ff;
    odd += (w >>> 8) & 0x00ff00ff;
  }
  return (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16);
}

/** Both the unsigned sum (POSIX) and the signed sum (some old tars) of a header. */
export function checksumOf(header: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return { unsigned, signed };
}

/** A NUL-terminated (or full-width) string field as bytes. */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** Parses an octal (space/NUL padded) or base-256 number field; `subject`/`at` name it in errors. */
export function parseNumber(bytes: Uint8Array, subject: string, at: number, what: string): number {
  if (bytes.length > 0 && bytes[0]! & 0x80) {
    const negative = bytes[0] === 0xff;
    let v = BigInt(bytes[0]! & 0x7f) - (negative ? 0x80n : 0n);
    for (let i = 1; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw corruptError(subject, `tar ${what} field`, at, 'number too large');
    }
    return Number(v);
  }
  let text = Buffer.from(cString(bytes)).toString('latin1').trim();
  if (text === '') return 0;
  text = text.replace(/^0+(?=.)/, '');
  if (!/^[0-7]+$/.test(text)) throw corruptError(subject, `tar ${what} field`, at, `not an octal number: ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}
