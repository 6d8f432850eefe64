/**
 * The superblock, group descriptors and bitmaps the writer produces, with their metadata_csum
 * checksums. The feature set is Debian's ext4 default (mke2fs.conf) minus resize_inode.
 */
import { crc32cUpdate } from '../../compress/crc32c.js';
import type { Geometry } from './geometry.js';
import { INODE_SIZE, LOG_GROUPS_PER_FLEX } from './geometry.js';
import {
  CHECKSUM_TYPE_CRC32C, COMPAT, DEFM_ACL, DEFM_XATTR_USER, ERRORS_CONTINUE, EXT4_MAGIC, EXTRA_ISIZE,
  FLAG_SIGNED_HASH, GD, GOOD_OLD_FIRST_INO, GROUP_DESC_SIZE_64, HASH, INCOMPAT, JNL_BACKUP_BLOCKS, JOURNAL_INO, OS_LINUX,
  REV_DYNAMIC, RO_COMPAT, SB, STATE_VALID, SUPERBLOCK_SIZE, putU16, putU32,
} from './layout.js';

export const FEATURE_COMPAT = COMPAT.hasJournal | COMPAT.extAttr | COMPAT.dirIndex;
export const FEATURE_INCOMPAT = INCOMPAT.filetype | INCOMPAT.extents | INCOMPAT.bit64 | INCOMPAT.flexBg;
export const FEATURE_RO_COMPAT =
  RO_COMPAT.sparseSuper | RO_COMPAT.largeFile | RO_COMPAT.hugeFile | RO_COMPAT.dirNlink | RO_COMPAT.extraIsize | RO_COMPAT.metadataCsum;

export interface SuperblockFields {
  geometry: Geometry;
  freeBlocks: number;
  freeInodes: number;
  reservedBlocks: number;
  uuid: Uint8Array;
  hashSeed: Uint8Array;
  label: Uint8Array;
  mountOptions: Uint8Array;
  time: number;
  /** i_block, i_size_high and i_size of the journal inode (17 words). */
  journalBackup: Uint8Array;
}

/** The checksum seed of every metadata checksum but the superblock's: crc32c(~0, uuid). */
export function checksumSeed(uuid: Uint8Array): number {
  return crc32cUpdate(0xffffffff, uuid);
}

function putTime(b: Uint8Array, low: number, high: number, t: number): void {
  putU32(b, low, t % 0x1_0000_0000);
  b[high] = Math.floor(t / 0x1_0000_0000) & 0xff;
}

/** The 1024-byte superblock as stored in group `group` (its copy number). */
export function encodeSuperblock(f: SuperblockFields, group: number): Uint8Array {
  const g = f.geometry;
  const b = new Uint8Array(SUPERBLOCK_SIZE);
  putU32(b, SB.inodesCount, g.inodesCount);
  putU32(b, SB.blocksCountLo, g.blocksCount % 0x1_0000_0000);
  putU32(b, SB.blocksCountHi, Math.floor(g.blocksCount / 0x1_0000_0000));
  putU32(b, SB.rBlocksCountLo, f.reservedBlocks % 0x1_0000_0000);
  putU32(b, SB.rBlocksCountHi, Math.floor(f.reservedBlocks / 0x1_0000_0000));
  putU32(b, SB.freeBlocksCountLo, f.freeBlocks % 0x1_0000_0000);
  putU32(b, SB.freeBlocksCountHi, Math.floor(f.freeBlocks / 0x1_0000_0000));
  putU32(b, SB.freeInodesCount, f.freeInodes);
  putU32(b, SB.firstDataBlock, g.firstDataBlock);
  const log = Math.log2(g.blockSize) - 10;
  putU32(b, SB.logBlockSize, log);
  putU32(b, SB.logClusterSize, log);
  putU32(b, SB.blocksPerGroup, g.blocksPerGroup);
  putU32(b, SB.clustersPerGroup, g.blocksPerGroup);
  putU32(b, SB.inodesPerGroup, g.inodesPerGroup);
  putTime(b, SB.wtime, SB.wtimeHi, f.time);
  putU16(b, SB.maxMntCount, 0xffff);
  putU16(b, SB.magic, EXT4_MAGIC);
  putU16(b, SB.state, STATE_VALID);
  putU16(b, SB.errors, ERRORS_CONTINUE);
  putTime(b, SB.lastcheck, SB.lastcheckHi, f.time);
  putU32(b, SB.creatorOs, OS_LINUX);
  putU32(b, SB.revLevel, REV_DYNAMIC);
  putU32(b, SB.firstIno, GOOD_OLD_FIRST_INO);
  putU16(b, SB.inodeSize, INODE_SIZE);
  putU16(b, SB.blockGroupNr, group);
  putU32(b, SB.featureCompat, FEATURE_COMPAT);
  putU32(b, SB.featureIncompat, FEATURE_INCOMPAT);
  putU32(b, SB.featureRoCompat, FEATURE_RO_COMPAT);
  b.set(f.uuid, SB.uuid);
  b.set(f.label.subarray(0, 16), SB.volumeName);
  putU32(b, SB.journalInum, JOURNAL_INO);
  b.set(f.hashSeed, SB.hashSeed);
  b[SB.defHashVersion] = HASH.halfMd4;
  b[SB.jnlBackupType] = JNL_BACKUP_BLOCKS;
  putU16(b, SB.descSize, GROUP_DESC_SIZE_64);
  putU32(b, SB.defaultMountOpts, DEFM_XATTR_USER | DEFM_ACL);
  putTime(b, SB.mkfsTime, SB.mkfsTimeHi, f.time);
  b.set(f.journalBackup, SB.jnlBlocks);
  putU16(b, SB.minExtraIsize, EXTRA_ISIZE);
  putU16(b, SB.wantExtraIsize, EXTRA_ISIZE);
  putU32(b, SB.flags, FLAG_SIGNED_HASH);
  b[SB.logGroupsPerFlex] = LOG_GROUPS_PER_FLEX;
  b[SB.checksumType] = CHECKSUM_TYPE_CRC32C;
  b.set(f.mountOptions.subarray(0, 63), SB.mountOpts);
  putU32(b, SB.checksum, crc32cUpdate(0xffffffff, b.subarray(0, SB.checksum)));
  return b;
}

export interface GroupCounts {
  /** bg_flags (BG_INODE_ZEROED, BG_INODE_UNINIT, BG_BLOCK_UNINIT). */
  flags: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
  itableUnused: number;
}

/** One 64-byte group descriptor with the bitmap checksums and its own checksum. */
export function encodeGroupDescriptor(
  g: Geometry,
  group: number,
  counts: GroupCounts,
  blockBitmap: Uint8Array,
  inodeBitmap: Uint8Array,
  seed: number,
): Uint8Array {
  const p = g.groupPlaces[group]!;
  const b = new Uint8Array(GROUP_DESC_SIZE_64);
  const lohi32 = (lo: number, hi: number, v: number) => {
    putU32(b, lo, v % 0x1_0000_0000);
    putU32(b, hi, Math.floor(v / 0x1_0000_0000));
  };
  const lohi16 = (lo: number, hi: number, v: number) => {
    putU16(b, lo, v & 0xffff);
    putU16(b, hi, v >>> 16);
  };
  lohi32(GD.blockBitmapLo, GD.blockBitmapHi, p.blockBitmap);
  lohi32(GD.inodeBitmapLo, GD.inodeBitmapHi, p.inodeBitmap);
  lohi32(GD.inodeTableLo, GD.inodeTableHi, p.inodeTable);
  lohi16(GD.freeBlocksCountLo, GD.freeBlocksCountHi, counts.freeBlocks);
  lohi16(GD.freeInodesCountLo, GD.freeInodesCountHi, counts.freeInodes);
  lohi16(GD.usedDirsCountLo, GD.usedDirsCountHi, counts.usedDirs);
  lohi16(GD.itableUnusedLo, GD.itableUnusedHi, counts.itableUnused);
  putU16(b, GD.flags, counts.flags);
  lohi16(GD.blockBitmapCsumLo, GD.blockBitmapCsumHi, crc32cUpdate(seed, blockBitmap.subarray(0, g.blocksPerGroup / 8)));
  lohi16(GD.inodeBitmapCsumLo, GD.inodeBitmapCsumHi, crc32cUpdate(seed, inodeBitmap.subarray(0, g.inodesPerGroup / 8)));
  const nr = new Uint8Array(4);
  putU32(nr, 0, group);
  putU16(b, GD.checksum, crc32cUpdate(crc32cUpdate(seed, nr), b) & 0xffff);
  return b;
}

/** Sets bits [from, to) of a bitmap. */
export function setBits(bitmap: Uint8Array, from: number, to: number): void {
  let i = from;
  for (; i < to && i % 8 !== 0; i++) bitmap[i >>> 3]! |= 1 << (i & 7);
  for (; i + 8 <= to; i += 8) bitmap[i >>> 3] = 0xff;
  for (; i < to; i++) bitmap[i >>> 3]! |= 1 << (i & 7);
}
