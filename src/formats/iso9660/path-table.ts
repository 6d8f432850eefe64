/**
 * Path tables (ECMA-119 §9.4): every directory once, ordered by level, then by the number of its
 * parent, then by identifier; the root is number 1 and its own parent. The type L table holds
 * little-endian numbers, the type M table big-endian ones; both describe the same directories.
 */
import { corruptError } from '../../errors.js';
import { getBe16, getBe32, getLe16, getLe32, putBe16, putBe32, putLe16, putLe32 } from './numbers.js';

export interface PathTableEntry {
  /** Identifier bytes (0x00 for the root). */
  id: Uint8Array;
  extent: number;
  /** 1-based number of the parent directory in the table. */
  parent: number;
}

function entrySize(idLength: number): number {
  return 8 + idLength + (idLength % 2);
}

/** Size in bytes of the table (the value of the descriptor's path table size field). */
export function pathTableSize(entries: readonly PathTableEntry[]): number {
  let n = 0;
  for (const e of entries) n += entrySize(e.id.length);
  return n;
}

/** Encodes the table with little-endian (`'L'`) or big-endian (`'M'`) numbers. */
export function encodePathTable(entries: readonly PathTableEntry[], kind: 'L' | 'M'): Uint8Array {
  const out = new Uint8Array(pathTableSize(entries));
  let at = 0;
  for (const e of entries) {
    out[at] = e.id.length;
    out[at + 1] = 0;
    if (kind === 'L') {
      putLe32(out, at + 2, e.extent);
      putLe16(out, at + 6, e.parent);
    } else {
      putBe32(out, at + 2, e.extent);
      putBe16(out, at + 6, e.parent);
    }
    out.set(e.id, at + 8);
    at += entrySize(e.id.length);
  }
  return out;
}

/** Decodes a whole table; a record running past the end is CORRUPT_IMAGE. */
export function decodePathTable(bytes: Uint8Array, kind: 'L' | 'M', subject: string, offset: number): PathTableEntry[] {
  const entries: PathTableEntry[] = [];
  let at = 0;
  while (at < bytes.length) {
    const idLength = bytes[at]!;
    if (idLength === 0 || at + entrySize(idLength) > bytes.length) {
      throw corruptError(subject, 'path table record', offset + at, `identifier length ${idLength} does not fit`);
    }
    const extent = kind === 'L' ? getLe32(bytes, at + 2) : getBe32(bytes, at + 2);
    const parent = kind === 'L' ? getLe16(bytes, at + 6) : getBe16(bytes, at + 6);
    entries.push({ id: bytes.slice(at + 8, at + 8 + idLength), extent, parent });
    at += entrySize(idLength);
  }
  return entries;
}
