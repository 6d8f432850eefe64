/**
 * The 96-byte SquashFS 4.0 superblock at offset 0 of the image: one offset table and a pure
 * decode/encode pair. `decodeSuperblock` checks only what it needs to interpret the fields;
 * `validateSuperblock` checks that the fields are consistent with an image of a given size.
 */
import { ReprimageError, corruptError, truncatedError } from '../../../errors.js';
import {
  SQUASHFS_MAGIC,
  SQUASHFS_MAX_BLOCK_LOG,
  SQUASHFS_MIN_BLOCK_LOG,
  SQUASHFS_VERSION_MAJOR,
  SQUASHFS_VERSION_MINOR,
  SQUASHFS_INVALID_TABLE,
} from '../constants.js';

export const SUPERBLOCK_SIZE = 96;

/** Byte offsets of the superblock fields. */
export const SUPERBLOCK_FIELDS = {
  magic: 0,
  inodeCount: 4,
  modTime: 8,
  blockSize: 12,
  fragmentCount: 16,
  compressor: 20,
  blockLog: 22,
  flags: 24,
  idCount: 26,
  versionMajor: 28,
  versionMinor: 30,
  rootInode: 32,
  bytesUsed: 40,
  idTable: 48,
  xattrTable: 56,
  inodeTable: 64,
  dirTable: 72,
  fragmentTable: 80,
  exportTable: 88,
} as const;

export interface Superblock {
  inodeCount: number;
  /** mkfs time, seconds since the epoch (unsigned). */
  modTime: number;
  blockSize: number;
  fragmentCount: number;
  compressor: number;
  blockLog: number;
  flags: number;
  idCount: number;
  /** Reference of the root directory inode: (metadata block offset << 16) | offset in block. */
  rootInode: bigint;
  bytesUsed: bigint;
  idTable: bigint;
  /** SQUASHFS_INVALID_TABLE when there are no xattrs. */
  xattrTable: bigint;
  inodeTable: bigint;
  dirTable: bigint;
  fragmentTable: bigint;
  /** SQUASHFS_INVALID_TABLE when the image is not exportable. */
  exportTable: bigint;
}

const F = SUPERBLOCK_FIELDS;

export function decodeSuperblock(bytes: Uint8Array, subject: string): Superblock {
  if (bytes.length < SUPERBLOCK_SIZE) throw truncatedError(subject, 'squashfs superblock', 0, SUPERBLOCK_SIZE - bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, SUPERBLOCK_SIZE);
  const magic = v.getUint32(F.magic, true);
  if (magic !== SQUASHFS_MAGIC) throw corruptError(subject, 'squashfs superblock', F.magic, `bad magic 0x${magic.toString(16)}`);
  const major = v.getUint16(F.versionMajor, true);
  const minor = v.getUint16(F.versionMinor, true);
  if (major !== SQUASHFS_VERSION_MAJOR || minor !== SQUASHFS_VERSION_MINOR) {
    throw new ReprimageError('UNSUPPORTED', subject, `squashfs version ${major}.${minor} (only 4.0 is supported)`);
  }
  return {
    inodeCount: v.getUint32(F.inodeCount, true),
    modTime: v.getUint32(F.modTime, true),
    blockSize: v.getUint32(F.blockSize, true),
    fragmentCount: v.getUint32(F.fragmentCount, true),
    compressor: v.getUint16(F.compressor, true),
    blockLog: v.getUint16(F.blockLog, true),
    flags: v.getUint16(F.flags, true),
    idCount: v.getUint16(F.idCount, true),
    rootInode: v.getBigUint64(F.rootInode, true),
    bytesUsed: v.getBigUint64(F.bytesUsed, true),
    idTable: v.getBigUint64(F.idTable, true),
    xattrTable: v.getBigUint64(F.xattrTable, true),
    inodeTable: v.getBigUint64(F.inodeTable, true),
    dirTable: v.getBigUint64(F.dirTable, true),
    fragmentTable: v.getBigUint64(F.fragmentTable, true),
    exportTable: v.getBigUint64(F.exportTable, true),
  };
}

export function encodeSuperblock(sb: Superblock): Uint8Array {
  const out = new Uint8Array(SUPERBLOCK_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(F.magic, SQUASHFS_MAGIC, true);
  v.setUint32(F.inodeCount, sb.inodeCount, true);
  v.setUint32(F.modTime, sb.modTime, true);
  v.setUint32(F.blockSize, sb.blockSize, true);
  v.setUint32(F.fragmentCount, sb.fragmentCount, true);
  v.setUint16(F.compressor, sb.compressor, true);
  v.setUint16(F.blockLog, sb.blockLog, true);
  v.setUint16(F.flags, sb.flags, true);
  v.setUint16(F.idCount, sb.idCount, true);
  v.setUint16(F.versionMajor, SQUASHFS_VERSION_MAJOR, true);
  v.setUint16(F.versionMinor, SQUASHFS_VERSION_MINOR, true);
  v.setBigUint64(F.rootInode, sb.rootInode, true);
  v.setBigUint64(F.bytesUsed, sb.bytesUsed, true);
  v.setBigUint64(F.idTable, sb.idTable, true);
  v.setBigUint64(F.xattrTable, sb.xattrTable, true);
  v.setBigUint64(F.inodeTable, sb.inodeTable, true);
  v.setBigUint64(F.dirTable, sb.dirTable, true);
  v.setBigUint64(F.fragmentTable, sb.fragmentTable, true);
  v.setBigUint64(F.exportTable, sb.exportTable, true);
  return out;
}

/**
 * Checks that the block size is legal and every table lies inside the image, in the order the
 * format requires (inodes < directories < fragment/export/id/xattr tables <= bytes used).
 * Throws CORRUPT_IMAGE or OUT_OF_BOUNDS naming the field.
 */
export function validateSuperblock(sb: Superblock, imageSize: number, subject: string): void {
  const log = sb.blockLog;
  if (log < SQUASHFS_MIN_BLOCK_LOG || log > SQUASHFS_MAX_BLOCK_LOG || sb.blockSize !== 2 ** log) {
    throw corruptError(subject, 'squashfs superblock', F.blockSize, `block size ${sb.blockSize} with block log ${log}`);
  }
  if (sb.bytesUsed > BigInt(imageSize)) {
    throw new ReprimageError('OUT_OF_BOUNDS', subject, `squashfs superblock says ${sb.bytesUsed} bytes used but the image has ${imageSize}`);
  }
  if (sb.bytesUsed < BigInt(SUPERBLOCK_SIZE)) throw corruptError(subject, 'squashfs superblock', F.bytesUsed, `bytes used ${sb.bytesUsed}`);
  const end = sb.bytesUsed;
  const inside = (name: string, at: bigint, optional: boolean) => {
    if (optional && at === SQUASHFS_INVALID_TABLE) return;
    if (at < BigInt(SUPERBLOCK_SIZE) || at > end) {
      throw new ReprimageError('OUT_OF_BOUNDS', subject, `squashfs ${name} table at ${at} is outside the image (${end} bytes)`);
    }
  };
  inside('inode', sb.inodeTable, false);
  inside('directory', sb.dirTable, false);
  inside('id', sb.idTable, false);
  inside('fragment', sb.fragmentTable, sb.fragmentCount === 0);
  inside('export', sb.exportTable, true);
  inside('xattr', sb.xattrTable, true);
  if (sb.dirTable < sb.inodeTable) throw corruptError(subject, 'squashfs superblock', F.dirTable, 'directory table before the inode table');
  if (sb.inodeCount === 0) throw corruptError(subject, 'squashfs superblock', F.inodeCount, 'no inodes');
  if (sb.idCount === 0) throw corruptError(subject, 'squashfs superblock', F.idCount, 'no ids');
}
