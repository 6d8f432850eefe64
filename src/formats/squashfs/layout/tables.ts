/**
 * The fixed-size entries of the lookup tables: fragment table (16 bytes per fragment block),
 * id table (u32 per uid/gid), export table (u64 inode reference per inode number). Each table
 * is stored as metadata blocks indexed by a list of u64 pointers (see `encodeLookupTable`).
 */
import { SQUASHFS_METADATA_SIZE } from '../constants.js';

export const FRAGMENT_ENTRY_SIZE = 16;
export const ID_ENTRY_SIZE = 4;
export const EXPORT_ENTRY_SIZE = 8;

export interface FragmentEntry {
  /** Absolute offset of the fragment block. */
  start: number;
  /** On-disk size word (bit 24 = stored raw). */
  size: number;
}

export function encodeFragmentTable(entries: readonly FragmentEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * FRAGMENT_ENTRY_SIZE);
  const v = new DataView(out.buffer);
  entries.forEach((e, i) => {
    v.setBigUint64(i * 16, BigInt(e.start), true);
    v.setUint32(i * 16 + 8, e.size, true);
    v.setUint32(i * 16 + 12, 0, true);
  });
  return out;
}

export function decodeFragmentEntry(bytes: Uint8Array, index: number): FragmentEntry {
  const v = new DataView(bytes.buffer, bytes.byteOffset + index * FRAGMENT_ENTRY_SIZE, FRAGMENT_ENTRY_SIZE);
  const start = v.getBigUint64(0, true);
  return { start: start > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(start), size: v.getUint32(8, true) };
}

export function encodeIdTable(ids: readonly number[]): Uint8Array {
  const out = new Uint8Array(ids.length * ID_ENTRY_SIZE);
  const v = new DataView(out.buffer);
  ids.forEach((id, i) => v.setUint32(i * 4, id, true));
  return out;
}

export function decodeIdTable(bytes: Uint8Array, count: number): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(v.getUint32(i * 4, true));
  return ids;
}

/** Inode references indexed by inode number - 1. */
export function encodeExportTable(refs: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(refs.length * EXPORT_ENTRY_SIZE);
  const v = new DataView(out.buffer);
  refs.forEach((r, i) => v.setBigUint64(i * 8, r, true));
  return out;
}

/** How many metadata blocks (and so pointers) a table of `bytes` uncompressed bytes needs. */
export function lookupBlockCount(bytes: number): number {
  return Math.ceil(bytes / SQUASHFS_METADATA_SIZE);
}
