/**
 * Where everything fixed goes: block groups of 8 × block size blocks, superblock and group
 * descriptor copies in groups 0, 1 and the powers of 3, 5 and 7 (sparse_super; no reserved GDT
 * blocks, as there is no resize inode), and per flex group of 16 groups the block bitmaps, then
 * the inode bitmaps, then the inode tables, packed at the start of the flex group's first group
 * (as mke2fs places them). What is left is handed out by `BlockAllocator` in increasing order.
 */
import { ReprimageError } from '../../errors.js';
import { GROUP_DESC_SIZE_64, groupHasSuperblock } from './layout.js';

export const LOG_GROUPS_PER_FLEX = 4;
export const INODE_SIZE = 256;

export interface GroupPlace {
  first: number;
  /** Blocks in the group (the last may be short). */
  blocks: number;
  hasSuper: boolean;
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
}

export interface Geometry {
  blockSize: number;
  blocksCount: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  groups: number;
  inodesPerGroup: number;
  inodesCount: number;
  inodeTableBlocks: number;
  gdtBlocks: number;
  groupPlaces: GroupPlace[];
  /** Taken blocks (superblock copies, descriptors, bitmaps, inode tables) as sorted [start, end) runs. */
  fixed: Array<[number, number]>;
}

export interface GeometryRequest {
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  subject: string;
}

/**
 * The geometry for a volume of `blocksCount` blocks and at least `inodesCount` inodes. A last
 * group too short for its own metadata and some data is dropped, as mke2fs drops it.
 */
export function computeGeometry(req: GeometryRequest): Geometry {
  const { blockSize, subject } = req;
  const firstDataBlock = blockSize === 1024 ? 1 : 0;
  const blocksPerGroup = 8 * blockSize;
  let blocksCount = req.blocksCount;
  let groups = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  const inodeAlign = Math.max(8, blockSize / INODE_SIZE);
  const perGroup = (g: number) => Math.ceil(req.inodesCount / g / inodeAlign) * inodeAlign;
  for (;;) {
    if (groups < 1) throw new ReprimageError('USAGE', subject, `an ext4 file system of ${blocksCount} blocks is too small`);
    const last = blocksCount - firstDataBlock - (groups - 1) * blocksPerGroup;
    const gdt = Math.ceil((groups * GROUP_DESC_SIZE_64) / blockSize);
    const lastOverhead = (groupHasSuperblock(groups - 1) ? 1 + gdt : 0) + 2 + (perGroup(groups) * INODE_SIZE) / blockSize;
    if (groups > 1 && last < lastOverhead + 50) {
      groups--;
      blocksCount = firstDataBlock + groups * blocksPerGroup;
      continue;
    }
    break;
  }
  const inodesPerGroup = Math.max(inodeAlign, perGroup(groups));
  if (inodesPerGroup > blocksPerGroup) throw new ReprimageError('USAGE', subject, `${req.inodesCount} inodes need more than ${blocksPerGroup} per block group; give a larger size`);
  if (inodesPerGroup * groups > 0xffffffff) throw new ReprimageError('USAGE', subject, 'too many inodes for ext4');
  const inodeTableBlocks = (inodesPerGroup * INODE_SIZE) / blockSize;
  const gdtBlocks = Math.ceil((groups * GROUP_DESC_SIZE_64) / blockSize);

  const groupPlaces: GroupPlace[] = [];
  const superRuns: Array<[number, number]> = [];
  for (let g = 0; g < groups; g++) {
    const first = firstDataBlock + g * blocksPerGroup;
    const hasSuper = groupHasSuperblock(g);
    if (hasSuper) superRuns.push([first, first + 1 + gdtBlocks]);
    groupPlaces.push({ first, blocks: Math.min(blocksPerGroup, blocksCount - first), hasSuper, blockBitmap: 0, inodeBitmap: 0, inodeTable: 0 });
  }
  // Flex group metadata, skipping the superblock copies.
  const metaRuns: Array<[number, number]> = [];
  let cursor = firstDataBlock;
  let s = 0;
  const take = (len: number): number => {
    for (;;) {
      while (s < superRuns.length && superRuns[s]![1] <= cursor) s++;
      const run = superRuns[s];
      if (run && run[0] < cursor + len) {
        cursor = run[1];
        continue;
      }
      const start = cursor;
      cursor += len;
      if (cursor > blocksCount) throw new ReprimageError('USAGE', subject, `${blocksCount} blocks cannot hold the ext4 metadata; give a larger size`);
      const lastRun = metaRuns[metaRuns.length - 1];
      if (lastRun && lastRun[1] === start) lastRun[1] = cursor;
      else metaRuns.push([start, cursor]);
      return start;
    }
  };
  const flex = 1 << LOG_GROUPS_PER_FLEX;
  for (let f = 0; f < groups; f += flex) {
    const members = groupPlaces.slice(f, f + flex);
    cursor = Math.max(cursor, members[0]!.first);
    for (const p of members) p.blockBitmap = take(1);
    for (const p of members) p.inodeBitmap = take(1);
    for (const p of members) p.inodeTable = take(inodeTableBlocks);
  }
  const fixed = [...superRuns, ...metaRuns].sort((a, b) => a[0] - b[0]);
  return {
    blockSize, blocksCount, firstDataBlock, blocksPerGroup, groups, inodesPerGroup, inodesCount: inodesPerGroup * groups,
    inodeTableBlocks, gdtBlocks, groupPlaces, fixed,
  };
}

/**
 * Hands out free blocks in increasing order, around the fixed runs. Everything below the
 * cursor is in use, so the block bitmaps follow from the fixed runs and the final cursor.
 */
export class BlockAllocator {
  #cursor: number;
  #next = 0;

  constructor(private readonly geometry: Geometry, private readonly subject: string) {
    this.#cursor = geometry.firstDataBlock;
  }

  get cursor(): number {
    return this.#cursor;
  }

  /** A run of at most `max` (≥ 1) free blocks starting at the cursor. */
  take(max: number): { start: number; length: number } {
    const fixed = this.geometry.fixed;
    for (;;) {
      while (this.#next < fixed.length && fixed[this.#next]![1] <= this.#cursor) this.#next++;
      const run = fixed[this.#next];
      if (run && run[0] <= this.#cursor) {
        this.#cursor = run[1];
        continue;
      }
      const limit = Math.min(run ? run[0] : Infinity, this.geometry.blocksCount);
      if (this.#cursor >= limit) throw new OutOfSpace(this.subject);
      const length = Math.min(max, limit - this.#cursor);
      const start = this.#cursor;
      this.#cursor += length;
      return { start, length };
    }
  }

  /** Runs covering exactly `count` blocks. */
  takeRuns(count: number): Array<{ start: number; length: number }> {
    const out: Array<{ start: number; length: number }> = [];
    let left = count;
    while (left > 0) {
      const r = this.take(left);
      out.push(r);
      left -= r.length;
    }
    return out;
  }
}

/** The image is full; the sizing loop catches this and tries a larger size. */
export class OutOfSpace extends ReprimageError {
  constructor(subject: string) {
    super('USAGE', subject, 'the tree does not fit in the ext4 file system; give a larger --size');
  }
}

/** The number of taken blocks of group `g`: fixed runs plus everything below `cursor`. */
export function usedBlocksInGroup(geometry: Geometry, g: number, cursor: number): number {
  const p = geometry.groupPlaces[g]!;
  const lo = p.first;
  const hi = p.first + p.blocks;
  let used = Math.max(0, Math.min(hi, cursor) - lo);
  for (const [a, b] of geometry.fixed) {
    const s = Math.max(a, lo, cursor);
    const e = Math.min(b, hi);
    if (e > s) used += e - s;
  }
  return used;
}
