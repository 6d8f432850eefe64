/**
 * Number, date and string codecs of ECMA-119 §7 and §8.4.26.1 / §9.1.5: both-endian integers
 * (a little-endian copy followed by a big-endian copy), the 17-byte "dec-datetime" of volume
 * descriptors and the 7-byte date of directory records. We always write times in UTC (offset 0),
 * so the time zone of the build machine cannot reach the image.
 */

/** §7.2.3: 16-bit number recorded little-endian then big-endian (4 bytes). */
export function putBoth16(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** §7.3.3: 32-bit number recorded little-endian then big-endian (8 bytes). */
export function putBoth32(out: Uint8Array, at: number, value: number): void {
  putLe32(out, at, value);
  putBe32(out, at + 4, value);
}

export function putLe16(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
}

export function putBe16(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 8) & 0xff;
  out[at + 1] = value & 0xff;
}

export function putLe32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
}

export function putBe32(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

export function putLe64(out: Uint8Array, at: number, value: number): void {
  putLe32(out, at, value % 0x100000000);
  putLe32(out, at + 4, Math.floor(value / 0x100000000));
}

export function getLe16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

export function getBe16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function getLe32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function getBe32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function getLe64(b: Uint8Array, at: number): number {
  return getLe32(b, at) + getLe32(b, at + 4) * 0x100000000;
}

/** Both-endian 16-bit number; the little-endian half is authoritative (as Linux and libisofs read it). */
export function getBoth16(b: Uint8Array, at: number): number {
  return getLe16(b, at);
}

/** Both-endian 32-bit number; the little-endian half is authoritative. */
export function getBoth32(b: Uint8Array, at: number): number {
  return getLe32(b, at);
}

export const DEC_DATETIME_SIZE = 17;
export const DIR_DATETIME_SIZE = 7;

/** Oldest and newest instants a 7-byte directory record date can hold (1900-01-01 … 2155-12-31, UTC). */
export const DIR_DATETIME_MIN = Date.UTC(1900, 0, 1) / 1000;
export const DIR_DATETIME_MAX = Date.UTC(2155, 11, 31, 23, 59, 59) / 1000;
const DEC_DATETIME_MIN = dateUtcSeconds(1, 1, 1, 0, 0, 0);
const DEC_DATETIME_MAX = dateUtcSeconds(9999, 12, 31, 23, 59, 59);

function dateUtcSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setUTCHours(h, mi, s, 0);
  return dt.getTime() / 1000;
}

function utcParts(sec: number): [number, number, number, number, number, number] {
  const d = new Date(sec * 1000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}

/** §9.1.5: seconds since the epoch → 7 bytes in UTC; clamped to the range the field can hold. */
export function encodeDirDateTime(sec: number, out: Uint8Array = new Uint8Array(DIR_DATETIME_SIZE), at = 0): Uint8Array {
  const t = Math.min(Math.max(Math.floor(sec), DIR_DATETIME_MIN), DIR_DATETIME_MAX);
  let bytes = dirDateCache.get(t);
  if (!bytes) {
    const [y, mo, d, h, mi, s] = utcParts(t);
    bytes = Uint8Array.of(y - 1900, mo, d, h, mi, s, 0);
    // Clamped trees share a few mtimes; a small cache spares a Date per record.
    if (dirDateCache.size >= 4096) dirDateCache.clear();
    dirDateCache.set(t, bytes);
  }
  out.set(bytes, at);
  return out;
}
const dirDateCache = new Map<number, Uint8Array>();

/**
 * §9.1.5: 7 bytes → seconds since the epoch, honouring the GMT offset (signed, in 15-minute
 * units). Returns undefined for an all-zero (unrecorded) date.
 */
export function decodeDirDateTime(b: Uint8Array, at = 0): number | undefined {
  if (b.length < at + DIR_DATETIME_SIZE) return undefined;
  let zero = true;
  for (let i = 0; i < 6; i++) if (b[at + i] !== 0) zero = false;
  if (zero) return undefined;
  const offset = (b[at + 6]! << 24) >> 24;
  const sec = dateUtcSeconds(1900 + b[at]!, clampInt(b[at + 1]!, 1, 12), clampInt(b[at + 2]!, 1, 31), clampInt(b[at + 3]!, 0, 23), clampInt(b[at + 4]!, 0, 59), clampInt(b[at + 5]!, 0, 59));
  return sec - offset * 15 * 60;
}

/** §8.4.26.1: seconds → "YYYYMMDDHHMMSScc" + offset byte; undefined gives the "not specified" form. */
export function encodeDecDateTime(sec: number | undefined, out: Uint8Array = new Uint8Array(DEC_DATETIME_SIZE), at = 0): Uint8Array {
  if (sec === undefined) {
    out.fill(0x30, at, at + 16);
    out[at + 16] = 0;
    return out;
  }
  const t = Math.min(Math.max(Math.floor(sec), DEC_DATETIME_MIN), DEC_DATETIME_MAX);
  const [y, mo, d, h, mi, s] = utcParts(t);
  const text = `${pad(y, 4)}${pad(mo, 2)}${pad(d, 2)}${pad(h, 2)}${pad(mi, 2)}${pad(s, 2)}00`;
  for (let i = 0; i < 16; i++) out[at + i] = text.charCodeAt(i);
  out[at + 16] = 0;
  return out;
}

/** §8.4.26.1: 17 bytes → seconds since the epoch; undefined when unset or not digits. */
export function decodeDecDateTime(b: Uint8Array, at = 0): number | undefined {
  if (b.length < at + DEC_DATETIME_SIZE) return undefined;
  let text = '';
  for (let i = 0; i < 16; i++) {
    const c = b[at + i]!;
    if (c < 0x30 || c > 0x39) return undefined;
    text += String.fromCharCode(c);
  }
  if (/^0+$/.test(text)) return undefined;
  const n = (from: number, len: number) => Number(text.slice(from, from + len));
  const offset = (b[at + 16]! << 24) >> 24;
  const sec = dateUtcSeconds(n(0, 4), clampInt(n(4, 2), 1, 12), clampInt(n(6, 2), 1, 31), clampInt(n(8, 2), 0, 23), clampInt(n(10, 2), 0, 59), clampInt(n(12, 2), 0, 59));
  return sec - offset * 15 * 60;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function clampInt(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(n, lo), hi);
}

/** Writes ASCII `text` into a fixed field, padded with spaces (a-/d-character fields, §7.4). */
export function putPadded(out: Uint8Array, at: number, length: number, text: string): void {
  for (let i = 0; i < length; i++) out[at + i] = i < text.length ? text.charCodeAt(i) & 0xff : 0x20;
}

/** Reads a space-padded ASCII field, trailing spaces and NULs removed. */
export function getPadded(b: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = 0; i < length && at + i < b.length; i++) s += String.fromCharCode(b[at + i]!);
  return s.replace(/[\s\0]+$/, '');
}

/** Writes `text` as UCS-2 big-endian into a fixed field, padded with UCS-2 spaces (Joliet §2). */
export function putPaddedUcs2(out: Uint8Array, at: number, length: number, text: string): void {
  for (let i = 0; i + 1 < length; i += 2) {
    const c = i / 2 < text.length ? text.charCodeAt(i / 2) : 0x20;
    out[at + i] = c >>> 8;
    out[at + i + 1] = c & 0xff;
  }
  if (length % 2 === 1) out[at + length - 1] = 0;
}

/** Reads a UCS-2BE field, trailing spaces and NULs removed. */
export function getPaddedUcs2(b: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = 0; i + 1 < length && at + i + 1 < b.length; i += 2) s += String.fromCharCode((b[at + i]! << 8) | b[at + i + 1]!);
  return s.replace(/[\s\0]+$/, '');
}
