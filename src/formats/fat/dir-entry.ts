/**
 * 32-byte directory entries (fatgen103 §6, §7): the short (8.3) entry, the VFAT long-name entry,
 * and FAT dates and times. Pure codecs.
 */
import {
  ATTR_LONG_NAME, FAT_DIR_ENTRY_SIZE, FAT_TIME_MAX, FAT_TIME_MIN, LFN_CHARS_PER_ENTRY, LFN_LAST_ENTRY,
} from './constants.js';

/** Offsets of a short entry's fields. */
const D = {
  name: 0, attr: 11, ntRes: 12, crtTimeTenth: 13, crtTime: 14, crtDate: 16, lstAccDate: 18,
  fstClusHi: 20, wrtTime: 22, wrtDate: 24, fstClusLo: 26, fileSize: 28,
} as const;
/** Offsets of a long-name entry's fields. */
const L = { ord: 0, name1: 1, attr: 11, type: 12, chksum: 13, name2: 14, fstClusLo: 26, name3: 28 } as const;
/** Where the 13 UTF-16 units of a long-name entry sit. */
const LFN_UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30] as const;

/** DIR_WrtDate/DIR_WrtTime (and the creation fields) of one instant. */
export interface FatDateTime {
  date: number;
  time: number;
  /** Tenths-of-seconds field of the creation time: 0–199 (units of 10 ms). */
  tenths: number;
}

/**
 * A FAT date and time for `sec` seconds since the epoch, read as UTC (FAT has no time zone; we
 * store UTC, so the bytes never depend on the build machine's TZ). Times outside FAT's range are
 * clamped to 1980-01-01 00:00:00 and 2107-12-31 23:59:58; odd seconds round down.
 */
export function encodeFatTime(sec: number): FatDateTime {
  const t = Math.min(Math.max(Math.floor(sec), FAT_TIME_MIN), FAT_TIME_MAX);
  const d = new Date(t * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time, tenths: (d.getUTCSeconds() & 1) * 100 };
}

/**
 * Seconds since the epoch of a FAT date and time read as UTC. Out-of-range fields (month 0,
 * day 0, hour 31) are taken as they come and roll over as in `Date.UTC`; never throws.
 */
export function decodeFatTime(date: number, time: number, tenths = 0): number {
  const year = 1980 + (date >> 9);
  const month = Math.max((date >> 5) & 0x0f, 1);
  const day = Math.max(date & 0x1f, 1);
  const ms = Date.UTC(year, month - 1, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
  return Math.floor(ms / 1000) + (tenths >= 100 && tenths < 200 ? 1 : 0);
}

/** A short (8.3) directory entry, field by field (fatgen103 §6). */
export interface ShortEntry {
  /** The 11 bytes of DIR_Name. */
  name: Uint8Array;
  attr: number;
  /** DIR_NTRes: the case bits. */
  ntRes: number;
  crtTimeTenth: number;
  crtTime: number;
  crtDate: number;
  lstAccDate: number;
  firstCluster: number;
  wrtTime: number;
  wrtDate: number;
  fileSize: number;
}

/** Writes a short entry into `out` at `at` (32 bytes). */
export function encodeShortEntry(e: ShortEntry, out: Uint8Array, at: number): void {
  const v = new DataView(out.buffer, out.byteOffset + at, FAT_DIR_ENTRY_SIZE);
  out.set(e.name.subarray(0, 11), at + D.name);
  v.setUint8(D.attr, e.attr);
  v.setUint8(D.ntRes, e.ntRes);
  v.setUint8(D.crtTimeTenth, e.crtTimeTenth);
  v.setUint16(D.crtTime, e.crtTime, true);
  v.setUint16(D.crtDate, e.crtDate, true);
  v.setUint16(D.lstAccDate, e.lstAccDate, true);
  v.setUint16(D.fstClusHi, e.firstCluster >>> 16, true);
  v.setUint16(D.wrtTime, e.wrtTime, true);
  v.setUint16(D.wrtDate, e.wrtDate, true);
  v.setUint16(D.fstClusLo, e.firstCluster & 0xffff, true);
  v.setUint32(D.fileSize, e.fileSize >>> 0, true);
}

/** Decodes the short entry at `at`; `fat32` decides whether DIR_FstClusHI counts. */
export function decodeShortEntry(bytes: Uint8Array, at: number, fat32: boolean): ShortEntry {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, FAT_DIR_ENTRY_SIZE);
  const hi = fat32 ? v.getUint16(D.fstClusHi, true) : 0;
  return {
    name: bytes.slice(at + D.name, at + D.name + 11),
    attr: v.getUint8(D.attr),
    ntRes: v.getUint8(D.ntRes),
    crtTimeTenth: v.getUint8(D.crtTimeTenth),
    crtTime: v.getUint16(D.crtTime, true),
    crtDate: v.getUint16(D.crtDate, true),
    lstAccDate: v.getUint16(D.lstAccDate, true),
    firstCluster: hi * 0x10000 + v.getUint16(D.fstClusLo, true),
    wrtTime: v.getUint16(D.wrtTime, true),
    wrtDate: v.getUint16(D.wrtDate, true),
    fileSize: v.getUint32(D.fileSize, true),
  };
}

/** How many long-name entries a name needs. */
export function longNameEntryCount(name: string): number {
  return Math.ceil(name.length / LFN_CHARS_PER_ENTRY);
}

/**
 * Writes the long-name entries of `name` at `at`, in on-disk order (the last part first, its
 * ordinal marked 0x40). The name is followed by one 0x0000 when it does not fill the last entry,
 * and the rest is 0xFFFF (fatgen103 §7).
 */
export function encodeLongNameEntries(name: string, checksum: number, out: Uint8Array, at: number): number {
  const count = longNameEntryCount(name);
  for (let k = 0; k < count; k++) {
    const ord = count - k; // 1-based part number stored at this position
    const base = at + k * FAT_DIR_ENTRY_SIZE;
    out[base + L.ord] = ord | (ord === count ? LFN_LAST_ENTRY : 0);
    out[base + L.attr] = ATTR_LONG_NAME;
    out[base + L.type] = 0;
    out[base + L.chksum] = checksum;
    out[base + L.fstClusLo] = 0;
    out[base + L.fstClusLo + 1] = 0;
    for (let j = 0; j < LFN_CHARS_PER_ENTRY; j++) {
      const i = (ord - 1) * LFN_CHARS_PER_ENTRY + j;
      const unit = i < name.length ? name.charCodeAt(i) : i === name.length ? 0 : 0xffff;
      const o = base + LFN_UNIT_OFFSETS[j]!;
      out[o] = unit & 0xff;
      out[o + 1] = unit >> 8;
    }
  }
  return count * FAT_DIR_ENTRY_SIZE;
}

/** A VFAT long-name entry: its part number, whether it is the last part, and its 13 units. */
export interface LongNameEntry {
  ord: number;
  last: boolean;
  checksum: number;
  /** The 13 UTF-16 units, padding included. */
  units: number[];
}

/** Decodes the long-name entry at `at`; the caller has checked the attribute byte. */
export function decodeLongNameEntry(bytes: Uint8Array, at: number): LongNameEntry {
  const ordByte = bytes[at + L.ord]!;
  const units: number[] = [];
  for (const o of LFN_UNIT_OFFSETS) units.push(bytes[at + o]! | (bytes[at + o + 1]! << 8));
  return { ord: ordByte & 0x1f, last: (ordByte & LFN_LAST_ENTRY) !== 0, checksum: bytes[at + L.chksum]!, units };
}
