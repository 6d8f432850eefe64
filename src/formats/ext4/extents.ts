/**
 * Extent trees. A file's runs of blocks become leaf extents (at most 32768 blocks each); up to
 * four fit in the inode's i_block, more go into leaf blocks under index entries, level upon
 * level until the top level fits in the inode. Tree blocks carry a crc32c tail (metadata_csum).
 */
import { crc32cUpdate } from '../../compress/crc32c.js';
import {
  EE, EH, EI, EXTENT_ENTRY_SIZE, EXTENT_HEADER_SIZE, EXTENT_MAGIC, EXTENT_MAX_LEN, EXTENTS_IN_INODE, I_BLOCK_SIZE,
  extentsPerBlock, putU16, putU32,
} from './layout.js';

/** A run of `length` blocks of a file from logical block `logical`, stored at `physical`. */
export interface Extent {
  logical: number;
  physical: number;
  length: number;
}

/** Splits runs longer than an extent can describe. */
export function splitLongRuns(runs: Extent[]): Extent[] {
  const out: Extent[] = [];
  for (const r of runs) {
    for (let done = 0; done < r.length; done += EXTENT_MAX_LEN) {
      out.push({ logical: r.logical + done, physical: r.physical + done, length: Math.min(EXTENT_MAX_LEN, r.length - done) });
    }
  }
  return out;
}

/** How many tree blocks `count` leaf extents need (0 when they fit in the inode). */
export function extentTreeBlocks(count: number, blockSize: number): number {
  const per = extentsPerBlock(blockSize);
  let total = 0;
  let level = count;
  while (level > EXTENTS_IN_INODE) {
    level = Math.ceil(level / per);
    total += level;
  }
  return total;
}

export interface EncodedExtentTree {
  /** The 60 bytes of i_block. */
  iBlock: Uint8Array;
  /** Tree blocks with their block numbers. */
  blocks: Array<{ nr: number; bytes: Uint8Array }>;
}

interface Entry {
  first: number;
  /** A leaf extent, or a child tree block. */
  extent?: Extent;
  child?: number;
}

function header(b: Uint8Array, at: number, entries: number, max: number, depth: number): void {
  putU16(b, at + EH.magic, EXTENT_MAGIC);
  putU16(b, at + EH.entries, entries);
  putU16(b, at + EH.max, max);
  putU16(b, at + EH.depth, depth);
  putU32(b, at + EH.generation, 0);
}

function putEntry(b: Uint8Array, at: number, e: Entry): void {
  if (e.extent) {
    putU32(b, at + EE.block, e.extent.logical);
    putU16(b, at + EE.len, e.extent.length);
    putU16(b, at + EE.startHi, Math.floor(e.extent.physical / 0x1_0000_0000));
    putU32(b, at + EE.startLo, e.extent.physical >>> 0);
  } else {
    putU32(b, at + EI.block, e.first);
    putU32(b, at + EI.leafLo, e.child! >>> 0);
    putU16(b, at + EI.leafHi, Math.floor(e.child! / 0x1_0000_0000));
    putU16(b, at + EI.unused, 0);
  }
}

/**
 * Encodes the tree of `extents` (ascending, each ≤ 32768 blocks) into i_block and the blocks
 * numbered `treeBlocks` (as many as `extentTreeBlocks` says), checksummed with `inodeSeed`.
 */
export function encodeExtentTree(extents: Extent[], treeBlocks: number[], blockSize: number, inodeSeed: number | undefined): EncodedExtentTree {
  const per = extentsPerBlock(blockSize);
  const blocks: Array<{ nr: number; bytes: Uint8Array }> = [];
  let level: Entry[] = extents.map((e) => ({ first: e.logical, extent: e }));
  let depth = 0;
  let next = 0;
  while (level.length > EXTENTS_IN_INODE) {
    const up: Entry[] = [];
    for (let i = 0; i < level.length; i += per) {
      const slice = level.slice(i, i + per);
      const bytes = new Uint8Array(blockSize);
      header(bytes, 0, slice.length, per, depth);
      slice.forEach((e, k) => putEntry(bytes, EXTENT_HEADER_SIZE + k * EXTENT_ENTRY_SIZE, e));
      if (inodeSeed !== undefined) {
        const tail = EXTENT_HEADER_SIZE + per * EXTENT_ENTRY_SIZE;
        putU32(bytes, tail, crc32cUpdate(inodeSeed, bytes.subarray(0, tail)));
      }
      const nr = treeBlocks[next++];
      if (nr === undefined) throw new RangeError('extent tree: fewer tree blocks than needed');
      blocks.push({ nr, bytes });
      up.push({ first: slice[0]!.first, child: nr });
    }
    level = up;
    depth++;
  }
  const iBlock = new Uint8Array(I_BLOCK_SIZE);
  header(iBlock, 0, level.length, EXTENTS_IN_INODE, depth);
  level.forEach((e, k) => putEntry(iBlock, EXTENT_HEADER_SIZE + k * EXTENT_ENTRY_SIZE, e));
  return { iBlock, blocks };
}
