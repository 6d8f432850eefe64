/**
 * Inodes: 256 bytes, the 128 of the original layout then i_extra_isize (32) bytes of
 * nanosecond and creation times, then in-inode extended attributes. Every time of an inode is
 * the node's (policy-clamped) mtime: atime, ctime and crtime carry nothing of the build host.
 */
import { crc32cUpdate } from '../../compress/crc32c.js';
import type { Time } from '../../tree/tree.js';
import { EXTRA_ISIZE, GOOD_OLD_INODE_SIZE, INODE, encodeExtraTime, putU16, putU32 } from './layout.js';

export interface InodeFields {
  /** i_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  time: Time;
  flags: number;
  /** The 60 bytes of i_block. */
  iBlock: Uint8Array;
  /** Blocks used (data, extent tree, xattr block), in file system blocks. */
  blocks: number;
  /** The xattr block, or 0. */
  xattrBlock: number;
  /** The bytes after i_extra_isize (in-inode xattrs), or undefined. */
  ibody?: Uint8Array;
}

/** The per-inode checksum seed: crc32c(fs seed, inode number, generation). */
export function inodeChecksumSeed(fsSeed: number, ino: number, generation = 0): number {
  const b = new Uint8Array(8);
  putU32(b, 0, ino);
  putU32(b, 4, generation);
  return crc32cUpdate(fsSeed, b);
}

export function encodeInode(f: InodeFields, ino: number, inodeSize: number, blockSize: number, fsSeed: number): Uint8Array {
  const b = new Uint8Array(inodeSize);
  putU16(b, INODE.mode, f.mode);
  putU16(b, INODE.uid, f.uid & 0xffff);
  putU16(b, INODE.uidHigh, f.uid >>> 16);
  putU16(b, INODE.gid, f.gid & 0xffff);
  putU16(b, INODE.gidHigh, f.gid >>> 16);
  putU32(b, INODE.sizeLo, f.size % 0x1_0000_0000);
  putU32(b, INODE.sizeHigh, Math.floor(f.size / 0x1_0000_0000));
  const t = encodeExtraTime(f.time.sec, f.time.nsec);
  for (const [low, extra] of [[INODE.atime, INODE.atimeExtra], [INODE.ctime, INODE.ctimeExtra], [INODE.mtime, INODE.mtimeExtra], [INODE.crtime, INODE.crtimeExtra]] as const) {
    putU32(b, low, t.low);
    putU32(b, extra, t.extra);
  }
  putU16(b, INODE.linksCount, f.links);
  const sectors = f.blocks * (blockSize / 512);
  putU32(b, INODE.blocksLo, sectors % 0x1_0000_0000);
  putU16(b, INODE.blocksHigh, Math.floor(sectors / 0x1_0000_0000));
  putU32(b, INODE.flags, f.flags);
  b.set(f.iBlock, INODE.block);
  putU32(b, INODE.fileAclLo, f.xattrBlock % 0x1_0000_0000);
  putU16(b, INODE.fileAclHigh, Math.floor(f.xattrBlock / 0x1_0000_0000));
  putU16(b, INODE.extraIsize, EXTRA_ISIZE);
  if (f.ibody) b.set(f.ibody, GOOD_OLD_INODE_SIZE + EXTRA_ISIZE);
  const crc = crc32cUpdate(inodeChecksumSeed(fsSeed, ino), b);
  putU16(b, INODE.checksumLo, crc & 0xffff);
  putU16(b, INODE.checksumHi, crc >>> 16);
  return b;
}
