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
/**
 * The export table being filled: entry i holds the inode reference (metadata block start << 16
 * | offset) of inode number i + 1. Kept as bytes from the start: a BigInt per inode was tens of
 * thousands of heap objects on a large tree.
 */
export class ExportTable {
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  constructor(inodeCount: number) {
    this.bytes = new Uint8Array(inodeCount * EXPORT_ENTRY_SIZE);
    this.#view = new DataView(this.bytes.buffer);
  }

  set(inodeNumber: number, block: number, offset: number): void {
    const at = (inodeNumber - 1) * EXPORT_ENTRY_SIZE;
    // block < 2^48 and offset < 2^16, so the 64-bit value splits into these two words
    this.#view.setUint32(at, ((block % 0x10000) * 0x10000 + offset) >>> 0, true);
    this.#view.setUint32(at + 4, Math.floor(block / 0x10000), true);
  }
}

/** How many metadata blocks (and so pointers) a table of `bytes` uncompressed bytes needs. */
export function lookupBlockCount(bytes: number): number {
  return Math.ceil(bytes / SQUASHFS_METADATA_SIZE);
}
