/**
 * System Use Sharing Protocol (SUSP 1.12): the entries in the system use area of a directory
 * record and in continuation areas. An entry is a 2-byte signature, a length byte (of the whole
 * entry, at most 255), a version byte and data.
 */
import { corruptError } from '../../errors.js';
import { getBoth32, putBoth32 } from './numbers.js';

export const SUSP_HEADER_SIZE = 4;
export const SUSP_MAX_ENTRY_SIZE = 255;
/** Size of a CE (continuation area) entry. */
export const SUSP_CE_SIZE = 28;
/** Size of the SP entry that marks SUSP in the root's "." record. */
export const SUSP_SP_SIZE = 7;

export interface SuspEntry {
  /** Two ASCII characters, e.g. "PX". */
  signature: string;
  version: number;
  data: Uint8Array;
}

/** Encodes an entry: header plus data (a writer bug if longer than 255 bytes). */
export function encodeSuspEntry(signature: string, data: Uint8Array, version = 1): Uint8Array {
  const size = SUSP_HEADER_SIZE + data.length;
  if (size > SUSP_MAX_ENTRY_SIZE) throw new RangeError(`SUSP ${signature} entry of ${size} bytes`);
  const out = new Uint8Array(size);
  out[0] = signature.charCodeAt(0);
  out[1] = signature.charCodeAt(1);
  out[2] = size;
  out[3] = version;
  out.set(data, SUSP_HEADER_SIZE);
  return out;
}

/** SP: "SUSP is used"; `skip` bytes at the start of every later system use area are not entries. */
export function encodeSp(skip = 0): Uint8Array {
  return encodeSuspEntry('SP', Uint8Array.of(0xbe, 0xef, skip));
}

/** CE: the entries continue at `length` bytes at byte `offset` of sector `sector`. */
export function encodeCe(sector: number, offset: number, length: number): Uint8Array {
  const data = new Uint8Array(24);
  putBoth32(data, 0, sector);
  putBoth32(data, 8, offset);
  putBoth32(data, 16, length);
  return encodeSuspEntry('CE', data);
}

export interface Continuation {
  sector: number;
  offset: number;
  length: number;
}

export function decodeCe(entry: SuspEntry): Continuation | undefined {
  if (entry.data.length < 24) return undefined;
  return { sector: getBoth32(entry.data, 0), offset: getBoth32(entry.data, 8), length: getBoth32(entry.data, 16) };
}

/** ER: the extension reference naming a protocol (Rock Ridge) in the root's "." record. */
export function encodeEr(id: string, descriptor: string, source: string, version: number): Uint8Array {
  const data = new Uint8Array(4 + id.length + descriptor.length + source.length);
  data[0] = id.length;
  data[1] = descriptor.length;
  data[2] = source.length;
  data[3] = version;
  let at = 4;
  for (const s of [id, descriptor, source]) {
    for (let i = 0; i < s.length; i++) data[at + i] = s.charCodeAt(i);
    at += s.length;
  }
  return encodeSuspEntry('ER', data);
}

export function decodeErId(entry: SuspEntry): string {
  const n = entry.data[0] ?? 0;
  let s = '';
  for (let i = 0; i < n && 4 + i < entry.data.length; i++) s += String.fromCharCode(entry.data[4 + i]!);
  return s;
}

/**
 * Splits a system use area into entries. Stops at an ST entry, at the end, or at bytes too short
 * to be an entry (padding). An entry whose length runs past the area is CORRUPT_IMAGE.
 */
export function decodeSuspEntries(area: Uint8Array, subject: string, offset: number): SuspEntry[] {
  const entries: SuspEntry[] = [];
  let at = 0;
  while (at + SUSP_HEADER_SIZE <= area.length) {
    const size = area[at + 2]!;
    if (area[at] === 0 && area[at + 1] === 0) break; // zero padding
    if (size < SUSP_HEADER_SIZE || at + size > area.length) {
      throw corruptError(subject, 'SUSP entry', offset + at, `length ${size} does not fit in the system use area`);
    }
    const signature = String.fromCharCode(area[at]!, area[at + 1]!);
    if (signature === 'ST') break;
    entries.push({ signature, version: area[at + 3]!, data: area.subarray(at + SUSP_HEADER_SIZE, at + size) });
    at += size;
  }
  return entries;
}

/**
 * How a record's entries are laid out: those that fit in the record, then continuation areas
 * (each at most one sector) linked by CE entries whose locations the writer fills in later.
 */
export interface SuspLayout {
  /** Entries kept in the record; when `areas` is not empty a CE entry follows them. */
  inRecord: Uint8Array[];
  /** Continuation areas; each but the last ends with a CE to the next. */
  areas: Uint8Array[][];
}

/**
 * Places `entries` in a record with `space` bytes of system use area, spilling into
 * continuation areas of at most `areaSize` bytes. Deterministic: entries keep their order.
 */
export function layoutSusp(entries: readonly Uint8Array[], space: number, areaSize: number): SuspLayout {
  const total = entries.reduce((n, e) => n + e.length, 0);
  if (total <= space) return { inRecord: [...entries], areas: [] };
  const inRecord: Uint8Array[] = [];
  let used = 0;
  let i = 0;
  while (i < entries.length && used + entries[i]!.length + SUSP_CE_SIZE <= space) {
    used += entries[i]!.length;
    inRecord.push(entries[i++]!);
  }
  const areas: Uint8Array[][] = [];
  while (i < entries.length) {
    const area: Uint8Array[] = [];
    let size = 0;
    const rest = entries.slice(i).reduce((n, e) => n + e.length, 0);
    const limit = rest <= areaSize ? areaSize : areaSize - SUSP_CE_SIZE;
    while (i < entries.length && size + entries[i]!.length <= limit) {
      size += entries[i]!.length;
      area.push(entries[i++]!);
    }
    if (area.length === 0) throw new RangeError('SUSP entry larger than a continuation area');
    areas.push(area);
  }
  return { inRecord, areas };
}
