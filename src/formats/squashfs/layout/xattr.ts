/**
 * The xattr table. Key/value lists live in a metadata stream; each list is a run of
 * `{ type u16 (prefix id | 0x100 if out of line), name size u16, name without prefix }`
 * `{ value size u32, value }` pairs, where an out-of-line value is a u64 reference to a
 * `{ size u32, value }` stored earlier. An xattr id table maps an inode's xattr index to
 * `{ list reference u64, count u32, size u32 }`; it is a lookup table whose header is
 * `{ xattr stream start u64, id count u32, unused u32 }`.
 */
import { XATTR_PREFIXES } from '../constants.js';

export const XATTR_ID_ENTRY_SIZE = 16;
export const XATTR_TABLE_HEADER_SIZE = 16;

export interface XattrIdEntry {
  /** Reference of the key/value list: (block start << 16) | offset. */
  ref: bigint;
  count: number;
  /** Total uncompressed size of names (with prefix) and values, as mksquashfs counts it. */
  size: number;
}

/** Splits a full name into its prefix id and the rest; undefined for unknown prefixes. */
export function splitXattrName(name: string): { prefix: number; rest: string } | undefined {
  for (let i = 0; i < XATTR_PREFIXES.length; i++) {
    const p = XATTR_PREFIXES[i]!;
    if (name.startsWith(p)) return { prefix: i, rest: name.slice(p.length) };
  }
  return undefined;
}

export function encodeXattrIdEntries(entries: readonly XattrIdEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * XATTR_ID_ENTRY_SIZE);
  const v = new DataView(out.buffer);
  entries.forEach((e, i) => {
    v.setBigUint64(i * 16, e.ref, true);
    v.setUint32(i * 16 + 8, e.count, true);
    v.setUint32(i * 16 + 12, e.size, true);
  });
  return out;
}

export function decodeXattrIdEntry(bytes: Uint8Array, at: number): XattrIdEntry {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, XATTR_ID_ENTRY_SIZE);
  return { ref: v.getBigUint64(0, true), count: v.getUint32(8, true), size: v.getUint32(12, true) };
}

export function encodeXattrTableHeader(streamStart: number, ids: number): Uint8Array {
  const out = new Uint8Array(XATTR_TABLE_HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(streamStart), true);
  v.setUint32(8, ids, true);
  return out;
}
