/**
 * Directory blocks: linear entries, and hashed (htree) directories read the way e2fsprogs reads
 * them, as the linear list of their leaf blocks (the index blocks hide inside entries with inode 0
 * or inside the rec_len of ".."; their structure and checksum are still verified). With
 * metadata_csum every leaf block ends in a checksum tail, which is verified. Inline directories
 * (inline_data) keep their entries in i_block and the `system.data` xattr.
 */
import { corruptError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import {
  DIR_NAME_MAX, DIR_TAIL, DIR_TAIL_FT, DIR_TAIL_SIZE, DIRENT, DIRENT_HEADER_SIZE, DX_COUNTLIMIT, DX_ENTRY_SIZE, DX_NODE_ENTRIES,
  DX_ROOT, DX_ROOT_INFO_LENGTH, DX_TAIL_SIZE, INCOMPAT, getU16, getU32,
} from './layout.js';
import type { Inode } from './read-inode.js';
import { hex32, type Ext4Superblock } from './read-superblock.js';

export interface DirEntry {
  readonly name: Uint8Array;
  readonly ino: number;
}

export interface DirBlockContext {
  readonly sb: Ext4Superblock;
  readonly inode: Inode;
  readonly name: string;
  /** Whether the directory is hashed (EXT4_INDEX_FL). */
  readonly htree: boolean;
}

/** Entries of directory block `index` (logical), stored at image byte `offset`; "." and ".." included. */
export function parseDirBlock(ctx: DirBlockContext, block: Uint8Array, index: number, offset: number): DirEntry[] {
  const { sb, inode } = ctx;
  const what = `ext4 directory block ${index} of inode ${inode.ino}`;
  const bs = block.length;
  if (ctx.htree) {
    const countOffset = dxCountOffset(block, index, bs);
    if (countOffset !== undefined) {
      // without metadata_csum an empty leaf looks like an index block: check only the root then
      if (index === 0 || sb.metadataCsum) checkDx(ctx, block, index, offset, countOffset);
      // the root also holds "." and "..", which the caller skips anyway
      return [];
    }
  }
  let end = bs;
  if (sb.metadataCsum) {
    const tail = bs - DIR_TAIL_SIZE;
    if (
      getU32(block, tail + DIR_TAIL.inode) !== 0 || getU16(block, tail + DIR_TAIL.recLen) !== DIR_TAIL_SIZE ||
      block[tail + DIR_TAIL.nameLen] !== 0 || block[tail + DIR_TAIL.fileType] !== DIR_TAIL_FT
    ) {
      throw corruptError(ctx.name, what, offset + tail, 'no checksum tail (metadata_csum)');
    }
    const want = getU32(block, tail + DIR_TAIL.checksum);
    const got = crc32cUpdate(inode.csumSeed, block.subarray(0, tail));
    if (want !== got) throw corruptError(ctx.name, what, offset, `checksum mismatch (stored 0x${hex32(want)}, computed 0x${hex32(got)})`);
    end = tail;
  }
  return parseEntries(ctx, block, 0, end, what, offset);
}

/** Entries of an inline directory: i_block after the parent's inode number, then the system.data value. */
export function parseInlineDir(ctx: DirBlockContext, data: Uint8Array | undefined): DirEntry[] {
  const what = `ext4 inline directory of inode ${ctx.inode.ino}`;
  const out = parseEntries(ctx, ctx.inode.block, 4, ctx.inode.block.length, what, ctx.inode.offset + 0x28);
  if (data && data.length > 0) out.push(...parseEntries(ctx, data, 0, data.length, `${what} (system.data)`, undefined));
  return out;
}

function recLenOf(raw: number, bs: number): number {
  if (bs < 65536) return raw;
  return raw === 65535 || raw === 0 ? bs : (raw & 65532) | ((raw & 3) << 16);
}

function parseEntries(ctx: DirBlockContext, buf: Uint8Array, start: number, end: number, what: string, offset: number | undefined): DirEntry[] {
  const out: DirEntry[] = [];
  const filetype = (ctx.sb.featureIncompat & INCOMPAT.filetype) !== 0;
  let at = start;
  while (at < end) {
    const bad = (detail: string) => corruptError(ctx.name, what, offset === undefined ? undefined : offset + at, detail);
    if (at + DIRENT_HEADER_SIZE > end) throw bad(`entry header runs past the end (${end - at} bytes left)`);
    const ino = getU32(buf, at + DIRENT.inode);
    const recLen = recLenOf(getU16(buf, at + DIRENT.recLen), buf.length);
    const nameLen = filetype ? buf[at + DIRENT.nameLen]! : getU16(buf, at + DIRENT.nameLen);
    if (recLen < DIRENT_HEADER_SIZE || recLen % 4 !== 0 || at + recLen > end) throw bad(`bad record length ${recLen}`);
    if (nameLen > DIR_NAME_MAX || DIRENT_HEADER_SIZE + nameLen > recLen) throw bad(`name of ${nameLen} bytes does not fit a ${recLen}-byte record`);
    if (ino !== 0) {
      if (nameLen === 0) throw bad(`entry for inode ${ino} has an empty name`);
      out.push({ name: buf.slice(at + DIRENT.name, at + DIRENT.name + nameLen), ino });
    }
    at += recLen;
  }
  return out;
}

/** Where dx_countlimit sits if this block of a hashed directory is an index block, else undefined. */
function dxCountOffset(block: Uint8Array, index: number, bs: number): number | undefined {
  if (index === 0) return DX_ROOT.entries;
  const first = recLenOf(getU16(block, DIRENT.recLen), bs);
  if (getU32(block, DIRENT.inode) === 0 && first === bs && block[DIRENT.nameLen] === 0) return DX_NODE_ENTRIES;
  return undefined;
}

function checkDx(ctx: DirBlockContext, block: Uint8Array, index: number, offset: number, countOffset: number): void {
  const { sb, inode } = ctx;
  const what = `ext4 htree ${index === 0 ? 'root' : 'index block ' + index} of directory inode ${inode.ino}`;
  const bad = (at: number, detail: string) => corruptError(ctx.name, what, offset + at, detail);
  if (index === 0) {
    if (block[DX_ROOT.infoLength] !== DX_ROOT_INFO_LENGTH) throw bad(DX_ROOT.infoLength, `root info length ${block[DX_ROOT.infoLength]} is not 8`);
    const levels = block[DX_ROOT.infoIndirectLevels]!;
    const maxLevels = sb.featureIncompat & INCOMPAT.largedir ? 3 : 2;
    if (levels >= maxLevels) throw bad(DX_ROOT.infoIndirectLevels, `${levels} indirect levels (at most ${maxLevels - 1})`);
  }
  const limit = getU16(block, countOffset + DX_COUNTLIMIT.limit);
  const count = getU16(block, countOffset + DX_COUNTLIMIT.count);
  const room = Math.floor((block.length - countOffset - (sb.metadataCsum ? DX_TAIL_SIZE : 0)) / DX_ENTRY_SIZE);
  if (limit === 0 || limit > room) throw bad(countOffset, `limit ${limit} exceeds the ${room} entries that fit`);
  if (count === 0 || count > limit) throw bad(countOffset, `count ${count} with limit ${limit}`);
  if (!sb.metadataCsum) return;
  const tail = countOffset + limit * DX_ENTRY_SIZE;
  let c = crc32cUpdate(inode.csumSeed, block.subarray(0, countOffset + count * DX_ENTRY_SIZE));
  c = crc32cUpdate(c, block.subarray(tail, tail + 4));
  c = crc32cUpdate(c, ZERO4);
  const want = getU32(block, tail + 4);
  if (want !== c) throw bad(tail, `checksum mismatch (stored 0x${hex32(want)}, computed 0x${hex32(c)})`);
}

const ZERO4 = new Uint8Array(4);
