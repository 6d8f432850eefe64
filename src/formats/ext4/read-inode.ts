/**
 * Reading one inode: its location from the group table, its checksum (metadata_csum), and the
 * fields the Tree needs, decoded and checked (extra_isize, 64-bit sizes, owners, nanosecond
 * times).
 */
import { ReprimageError, corruptError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import type { Time } from '../../tree/tree.js';
import { GOOD_OLD_INODE_SIZE, I_BLOCK_SIZE, INCOMPAT, INODE, RO_COMPAT, IFLAG, decodeExtraTime, getU16, getU32 } from './layout.js';
import type { BlockCache } from './read-cache.js';
import type { GroupTable } from './read-groups.js';
import { hex32, type Ext4Superblock } from './read-superblock.js';

export interface Inode {
  readonly ino: number;
  /** The inode's bytes (inode size long); do not modify. */
  readonly raw: Uint8Array;
  /** Byte offset of the inode in the image, for messages. */
  readonly offset: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly linksCount: number;
  readonly flags: number;
  readonly mtime: Time;
  /** i_block: the extent tree root, block map, inline data, fast symlink or device numbers. */
  readonly block: Uint8Array;
  /** The xattr block, 0 for none. */
  readonly fileAcl: number;
  /** i_blocks in 512-byte units. */
  readonly sectors: number;
  /** 128 + i_extra_isize: where the in-inode xattrs begin. */
  readonly bodyEnd: number;
  /** The per-inode crc32c seed of metadata_csum (inode number and generation folded in). */
  readonly csumSeed: number;
}

const ENCRYPT_FL = 0x800;

export async function readInode(cache: BlockCache, sb: Ext4Superblock, groups: GroupTable, ino: number): Promise<Inode> {
  const name = cache.source.name;
  if (!Number.isInteger(ino) || ino < 1 || ino > sb.inodesCount) {
    throw corruptError(name, 'ext4 inode reference', undefined, `inode ${ino} is outside 1..${sb.inodesCount}`);
  }
  const index = ino - 1;
  const group = Math.floor(index / sb.inodesPerGroup);
  const byteInTable = (index % sb.inodesPerGroup) * sb.inodeSize;
  const blockNr = groups.inodeTable(group) + Math.floor(byteInTable / sb.blockSize);
  const within = byteInTable % sb.blockSize;
  const raw = (await cache.block(blockNr)).subarray(within, within + sb.inodeSize);
  const offset = blockNr * sb.blockSize + within;
  const bad = (detail: string) => corruptError(name, `ext4 inode ${ino}`, offset, detail);

  let bodyEnd = GOOD_OLD_INODE_SIZE;
  if (sb.inodeSize > GOOD_OLD_INODE_SIZE) {
    const extra = getU16(raw, INODE.extraIsize);
    if (extra > sb.inodeSize - GOOD_OLD_INODE_SIZE || extra % 4 !== 0) throw bad(`extra_isize ${extra} does not fit a ${sb.inodeSize}-byte inode`);
    bodyEnd += extra;
  }
  const generation = getU32(raw, INODE.generation);
  let csumSeed = 0;
  if (sb.metadataCsum) {
    const le = new Uint8Array(8);
    new DataView(le.buffer).setUint32(0, ino, true);
    new DataView(le.buffer).setUint32(4, generation, true);
    csumSeed = crc32cUpdate(crc32cUpdate(sb.csumSeed, le.subarray(0, 4)), le.subarray(4));
    const hasHi = bodyEnd >= INODE.checksumHi + 2;
    const want = getU16(raw, INODE.checksumLo) + (hasHi ? getU16(raw, INODE.checksumHi) * 0x10000 : 0);
    const copy = raw.slice();
    copy[INODE.checksumLo] = copy[INODE.checksumLo + 1] = 0;
    if (hasHi) copy[INODE.checksumHi] = copy[INODE.checksumHi + 1] = 0;
    let got = crc32cUpdate(csumSeed, copy);
    if (!hasHi) got &= 0xffff;
    if (want !== got) throw bad(`checksum mismatch (stored 0x${hex32(want)}, computed 0x${hex32(got)})`);
  }

  const flags = getU32(raw, INODE.flags);
  if (flags & ENCRYPT_FL) throw new ReprimageError('UNSUPPORTED', name, `ext4 inode ${ino} is encrypted (fscrypt); its names and contents cannot be read`);
  const sizeHigh = getU32(raw, INODE.sizeHigh);
  const size = getU32(raw, INODE.sizeLo) + sizeHigh * 0x1_0000_0000;
  // logical block numbers are 32 bits wide: no file (or directory) can be larger
  if (size > 2 ** 32 * sb.blockSize) throw bad(`size ${size} exceeds the largest file of ${sb.blockSize}-byte blocks`);
  const hugeFile = (sb.featureRoCompat & RO_COMPAT.hugeFile) !== 0;
  let sectors = getU32(raw, INODE.blocksLo) + (hugeFile ? getU16(raw, INODE.blocksHigh) * 0x1_0000_0000 : 0);
  if (hugeFile && flags & IFLAG.hugeFile) sectors *= sb.blockSize / 512;
  const bit64 = (sb.featureIncompat & INCOMPAT.bit64) !== 0;
  const mtimeExtra = bodyEnd >= INODE.mtimeExtra + 4 ? getU32(raw, INODE.mtimeExtra) : 0;
  return {
    ino,
    raw,
    offset,
    mode: getU16(raw, INODE.mode),
    uid: getU16(raw, INODE.uid) + getU16(raw, INODE.uidHigh) * 0x10000,
    gid: getU16(raw, INODE.gid) + getU16(raw, INODE.gidHigh) * 0x10000,
    size,
    linksCount: getU16(raw, INODE.linksCount),
    flags,
    mtime: decodeExtraTime(getU32(raw, INODE.mtime), mtimeExtra),
    block: raw.subarray(INODE.block, INODE.block + I_BLOCK_SIZE),
    fileAcl: getU32(raw, INODE.fileAclLo) + (bit64 ? getU16(raw, INODE.fileAclHigh) * 0x1_0000_0000 : 0),
    sectors,
    bodyEnd,
    csumSeed,
  };
}
