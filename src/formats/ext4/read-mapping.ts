/**
 * Where a file's blocks are: its extent tree (ext4) or block map (ext2/3 direct and indirect
 * blocks), turned into runs of logical → physical blocks. Hostile maps cannot hang or blow up:
 * every block number is checked against the file system, extents must ascend without
 * overlapping, an extent or indirect block used twice within one file is an error, extent trees
 * are at most 5 levels deep, and all files together may not claim more blocks than exist.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import {
  EE, EH, EI, EXTENT_ENTRY_SIZE, EXTENT_HEADER_SIZE, EXTENT_MAGIC, EXTENT_MAX_LEN, EXTENTS_IN_INODE, IFLAG, extentsPerBlock,
  getU16, getU32,
} from './layout.js';
import type { BlockCache } from './read-cache.js';
import type { Inode } from './read-inode.js';
import { hex32, type Ext4Superblock } from './read-superblock.js';

/** `length` blocks of the file from logical block `logical` lie at `physical`. */
export interface Run {
  logical: number;
  physical: number;
  length: number;
  /** An unwritten (preallocated) extent: reads as zeros. */
  unwritten: boolean;
}

/** The deepest extent tree the kernel builds (EXT4_MAX_EXTENT_DEPTH). */
const MAX_EXTENT_DEPTH = 5;
const BLOCKS_PER_LOGICAL_SPACE = 2 ** 32;

/** Shared by all files of one image: how many blocks they have claimed so far. */
export class BlockBudget {
  used = 0;
  constructor(
    readonly sb: Ext4Superblock,
    readonly name: string,
  ) {}

  claim(n: number, ino: number): void {
    this.used += n;
    if (this.used > this.sb.blocksCount) {
      throw corruptError(this.name, `ext4 inode ${ino}`, undefined, `files claim more than the ${this.sb.blocksCount} blocks of the file system (blocks shared between files?)`);
    }
  }
}

export interface MappingContext {
  readonly sb: Ext4Superblock;
  readonly cache: BlockCache;
  readonly budget: BlockBudget;
}

/** The runs of `inode`, ascending and merged where contiguous; only blocks below `limitBlocks` for block maps. */
export async function readMapping(ctx: MappingContext, inode: Inode): Promise<Run[]> {
  const runs: Run[] = [];
  if (inode.flags & IFLAG.extents) await walkExtents(ctx, inode, runs);
  else await walkBlockMap(ctx, inode, runs);
  return runs;
}

function checkRange(ctx: MappingContext, inode: Inode, what: string, start: number, length: number): void {
  const { sb } = ctx;
  if (start < sb.firstDataBlock || start + length > sb.blocksCount) {
    const range = length === 1 ? `block ${start}` : `blocks ${start}..${start + length - 1}`;
    throw new ReprimageError('OUT_OF_BOUNDS', ctx.cache.source.name, `ext4 inode ${inode.ino}: ${what} points to ${range}, outside the file system (blocks ${sb.firstDataBlock}..${sb.blocksCount - 1})`);
  }
}

function push(runs: Run[], logical: number, physical: number, length: number, unwritten: boolean): void {
  const last = runs[runs.length - 1];
  if (last && last.unwritten === unwritten && last.logical + last.length === logical && last.physical + last.length === physical) {
    last.length += length;
  } else {
    runs.push({ logical, physical, length, unwritten });
  }
}

async function walkExtents(ctx: MappingContext, inode: Inode, runs: Run[]): Promise<void> {
  const name = ctx.cache.source.name;
  const { sb } = ctx;
  const visited = new Set<number>();
  let nextLogical = 0;

  const header = (node: Uint8Array, where: string, offset: number | undefined, maxAllowed: number, wantDepth: number | undefined) => {
    const bad = (detail: string) => corruptError(name, `ext4 extent header of inode ${inode.ino} (${where})`, offset, detail);
    const magic = getU16(node, EH.magic);
    if (magic !== EXTENT_MAGIC) throw bad(`magic 0x${magic.toString(16)} is not 0xf30a`);
    const entries = getU16(node, EH.entries);
    const max = getU16(node, EH.max);
    const depth = getU16(node, EH.depth);
    if (max === 0 || max > maxAllowed) throw bad(`room for ${max} entries, at most ${maxAllowed} fit`);
    if (entries > max) throw bad(`${entries} entries but room for ${max}`);
    if (depth > MAX_EXTENT_DEPTH) throw bad(`depth ${depth} exceeds ${MAX_EXTENT_DEPTH}`);
    if (wantDepth !== undefined && depth !== wantDepth) throw bad(`depth ${depth} under a node of depth ${wantDepth + 1}`);
    return { entries, max, depth };
  };

  const walk = async (node: Uint8Array, where: string, offset: number | undefined, maxAllowed: number, wantDepth: number | undefined): Promise<void> => {
    const { entries, depth } = header(node, where, offset, maxAllowed, wantDepth);
    for (let i = 0; i < entries; i++) {
      const at = EXTENT_HEADER_SIZE + i * EXTENT_ENTRY_SIZE;
      if (depth === 0) {
        const logical = getU32(node, at + EE.block);
        const rawLen = getU16(node, at + EE.len);
        const unwritten = rawLen > EXTENT_MAX_LEN;
        const length = unwritten ? rawLen - EXTENT_MAX_LEN : rawLen;
        const physical = getU32(node, at + EE.startLo) + getU16(node, at + EE.startHi) * 0x1_0000_0000;
        const bad = (detail: string) => corruptError(name, `ext4 extent of inode ${inode.ino} (${where}, entry ${i})`, offset === undefined ? undefined : offset + at, detail);
        if (length === 0) throw bad('zero length');
        if (logical < nextLogical) throw bad(`logical block ${logical} overlaps or precedes the previous extent (ends at ${nextLogical})`);
        if (logical + length > BLOCKS_PER_LOGICAL_SPACE) throw bad(`logical blocks ${logical}+${length} exceed 2^32`);
        checkRange(ctx, inode, `extent ${i} (${where})`, physical, length);
        ctx.budget.claim(length, inode.ino);
        nextLogical = logical + length;
        push(runs, logical, physical, length, unwritten);
      } else {
        const child = getU32(node, at + EI.leafLo) + getU16(node, at + EI.leafHi) * 0x1_0000_0000;
        const childWhere = `block ${child}`;
        checkRange(ctx, inode, `extent index ${i} (${where})`, child, 1);
        if (visited.has(child)) throw corruptError(name, `ext4 extent tree of inode ${inode.ino}`, undefined, `block ${child} is referenced twice`);
        visited.add(child);
        ctx.budget.claim(1, inode.ino);
        const block = await ctx.cache.block(child);
        const childOffset = child * sb.blockSize;
        if (sb.metadataCsum) verifyExtentTail(block, inode, child, childOffset, name);
        await walk(block, childWhere, childOffset, extentsPerBlock(sb.blockSize), depth - 1);
      }
    }
  };
  await walk(inode.block, 'in the inode', inode.offset + 0x28, EXTENTS_IN_INODE, undefined);
}

function verifyExtentTail(block: Uint8Array, inode: Inode, blockNr: number, offset: number, name: string): void {
  const max = getU16(block, EH.max);
  const tail = EXTENT_HEADER_SIZE + max * EXTENT_ENTRY_SIZE;
  if (tail + 4 > block.length) throw corruptError(name, `ext4 extent block ${blockNr} of inode ${inode.ino}`, offset, `no room for the checksum after ${max} entries`);
  const want = getU32(block, tail);
  const got = crc32cUpdate(inode.csumSeed, block.subarray(0, tail));
  if (want !== got) throw corruptError(name, `ext4 extent block ${blockNr} of inode ${inode.ino}`, offset, `checksum mismatch (stored 0x${hex32(want)}, computed 0x${hex32(got)})`);
}

/** ext2/3 block maps: 12 direct pointers, then single, double and triple indirect blocks. */
async function walkBlockMap(ctx: MappingContext, inode: Inode, runs: Run[]): Promise<void> {
  const { sb } = ctx;
  const perBlock = sb.blockSize / 4;
  const limit = Math.ceil(inode.size / sb.blockSize);
  const visited = new Set<number>();
  const data = (logical: number, physical: number) => {
    checkRange(ctx, inode, `block map entry for logical block ${logical}`, physical, 1);
    ctx.budget.claim(1, inode.ino);
    push(runs, logical, physical, 1, false);
  };
  // level 0: a data block; level n: a block of pointers covering perBlock^n logical blocks
  const walk = async (pointer: number, level: number, firstLogical: number): Promise<void> => {
    if (pointer === 0 || firstLogical >= limit) return;
    if (level === 0) return data(firstLogical, pointer);
    checkRange(ctx, inode, `indirect block (level ${level})`, pointer, 1);
    if (visited.has(pointer)) throw corruptError(ctx.cache.source.name, `ext4 block map of inode ${inode.ino}`, undefined, `indirect block ${pointer} is referenced twice`);
    visited.add(pointer);
    ctx.budget.claim(1, inode.ino);
    const block = (await ctx.cache.block(pointer)).slice();
    const span = perBlock ** (level - 1);
    for (let i = 0; i < perBlock && firstLogical + i * span < limit; i++) {
      const p = getU32(block, i * 4);
      if (p === 0) continue;
      // data pointers directly: one await per indirect block, not per data block
      if (level === 1) data(firstLogical + i, p);
      else await walk(p, level - 1, firstLogical + i * span);
    }
  };
  for (let i = 0; i < 12; i++) await walk(getU32(inode.block, i * 4), 0, i);
  let first = 12;
  for (let level = 1; level <= 3; level++) {
    await walk(getU32(inode.block, (11 + level) * 4), level, first);
    first += perBlock ** level;
  }
}
