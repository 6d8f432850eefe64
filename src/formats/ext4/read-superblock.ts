/**
 * Reading the ext2/3/4 superblock: every field the reader relies on is checked against the
 * others and against the image size before anything else is read, so later code can trust the
 * geometry (block size, group count, inode size) and only has to check block numbers.
 */
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import {
  CHECKSUM_TYPE_CRC32C, COMPAT, EXT4_MAGIC, GOOD_OLD_FIRST_INO, GOOD_OLD_INODE_SIZE, GROUP_DESC_SIZE_32, INCOMPAT, RO_COMPAT,
  SB, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, getU16, getU32, getU8,
} from './layout.js';

export interface Ext4Superblock {
  readonly raw: Uint8Array;
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly inodesCount: number;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly groupCount: number;
  readonly inodeSize: number;
  /** Group descriptor size: 32, or s_desc_size with 64bit. */
  readonly descSize: number;
  readonly revLevel: number;
  readonly firstIno: number;
  readonly featureCompat: number;
  readonly featureIncompat: number;
  readonly featureRoCompat: number;
  readonly firstMetaBg: number;
  readonly backupBgs: readonly [number, number];
  readonly uuid: Uint8Array;
  readonly label: string;
  readonly hashSeed: Uint8Array;
  readonly defHashVersion: number;
  readonly mkfsTime: number;
  readonly wtime: number;
  /** metadata_csum: crc32c over every metadata structure. */
  readonly metadataCsum: boolean;
  /** uninit_bg without metadata_csum: crc16 over the group descriptors only. */
  readonly gdtCsum: boolean;
  /** The crc32c seed of metadata_csum (s_checksum_seed, or crc32c of the UUID). */
  readonly csumSeed: number;
}

/** Incompatible features this reader understands; anything else is refused as UNSUPPORTED. */
const KNOWN_INCOMPAT =
  INCOMPAT.filetype | INCOMPAT.recover | INCOMPAT.metaBg | INCOMPAT.extents | INCOMPAT.bit64 | INCOMPAT.mmp |
  INCOMPAT.flexBg | INCOMPAT.eaInode | INCOMPAT.csumSeed | INCOMPAT.largedir | INCOMPAT.inlineData |
  INCOMPAT.encrypt | INCOMPAT.casefold;

/** Whether the first bytes of a file (at least 2 KiB) hold an ext2/3/4 superblock. */
export function sniffExt4(head: Uint8Array): boolean {
  if (head.length < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) return false;
  const sb = head.subarray(SUPERBLOCK_OFFSET, SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE);
  return (
    getU16(sb, SB.magic) === EXT4_MAGIC && getU32(sb, SB.logBlockSize) <= 6 && getU32(sb, SB.revLevel) <= 1 &&
    getU32(sb, SB.blocksPerGroup) > 0 && getU32(sb, SB.inodesPerGroup) > 0
  );
}

const FEATURE_NAMES: Array<[keyof Ext4Superblock & ('featureCompat' | 'featureIncompat' | 'featureRoCompat'), Record<string, number>]> = [
  ['featureCompat', COMPAT],
  ['featureIncompat', INCOMPAT],
  ['featureRoCompat', RO_COMPAT],
];

/** The feature flags as names (`extents`, `bit64`, `metadataCsum`, …), unknown ones as hex. */
export function featureNames(sb: Ext4Superblock): string[] {
  const out: string[] = [];
  for (const [field, table] of FEATURE_NAMES) {
    let rest = sb[field];
    for (const [name, bit] of Object.entries(table)) {
      if (rest & bit) out.push(name);
      rest &= ~bit;
    }
    if (rest !== 0) out.push(`${field}:0x${rest.toString(16)}`);
  }
  return out;
}

export async function readSuperblock(source: RandomAccessSource): Promise<Ext4Superblock> {
  const name = source.name;
  if (source.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
    throw truncatedError(name, 'ext4 superblock', Math.min(source.size, SUPERBLOCK_OFFSET), SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE - source.size);
  }
  const raw = await source.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE);
  const bad = (field: keyof typeof SB, detail: string): ReprimageError =>
    corruptError(name, `ext4 superblock (${field})`, SUPERBLOCK_OFFSET + SB[field], detail);
  const u32 = (f: keyof typeof SB): number => getU32(raw, SB[f]);
  const u16 = (f: keyof typeof SB): number => getU16(raw, SB[f]);

  if (u16('magic') !== EXT4_MAGIC) throw bad('magic', `0x${u16('magic').toString(16)} is not the ext2/3/4 magic 0xef53`);
  const featureCompat = u32('featureCompat');
  const featureIncompat = u32('featureIncompat');
  const featureRoCompat = u32('featureRoCompat');
  const metadataCsum = (featureRoCompat & RO_COMPAT.metadataCsum) !== 0;
  // the checksum first: if it fails, the other fields' errors would mislead
  if (metadataCsum) {
    if (getU8(raw, SB.checksumType) !== CHECKSUM_TYPE_CRC32C) throw bad('checksumType', `checksum type ${getU8(raw, SB.checksumType)} is not crc32c (1)`);
    const want = u32('checksum');
    const got = crc32cUpdate(0xffffffff, raw.subarray(0, SB.checksum));
    if (want !== got) throw bad('checksum', `checksum mismatch (stored 0x${hex32(want)}, computed 0x${hex32(got)})`);
  }
  const revLevel = u32('revLevel');
  if (revLevel > 1) throw bad('revLevel', `revision ${revLevel} is unknown`);
  const logBlockSize = u32('logBlockSize');
  if (logBlockSize > 6) throw bad('logBlockSize', `block size 1024 << ${logBlockSize} exceeds 64 KiB`);
  const blockSize = 1024 << logBlockSize;

  if (featureIncompat & INCOMPAT.journalDev) throw new ReprimageError('UNSUPPORTED', name, 'an external ext3/ext4 journal device, not a file system');
  const unknown = featureIncompat & ~KNOWN_INCOMPAT;
  if (unknown !== 0) {
    const names = featureNames({ featureCompat: 0, featureIncompat: unknown, featureRoCompat: 0 } as Ext4Superblock);
    throw new ReprimageError('UNSUPPORTED', name, `ext4 incompatible feature(s) ${names.join(', ')} not supported`);
  }

  let inodeSize = GOOD_OLD_INODE_SIZE;
  let firstIno = GOOD_OLD_FIRST_INO;
  if (revLevel === 1) {
    inodeSize = u16('inodeSize');
    firstIno = u32('firstIno');
    if (inodeSize < GOOD_OLD_INODE_SIZE || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
      throw bad('inodeSize', `inode size ${inodeSize} is not a power of two from 128 to the block size ${blockSize}`);
    }
  }
  const bit64 = (featureIncompat & INCOMPAT.bit64) !== 0;
  let descSize = GROUP_DESC_SIZE_32;
  if (bit64) {
    descSize = u16('descSize');
    if (descSize < 64 || descSize > 1024 || (descSize & (descSize - 1)) !== 0) throw bad('descSize', `group descriptor size ${descSize} is not a power of two from 64 to 1024`);
  }
  const blocksCount = u32('blocksCountLo') + (bit64 ? u32('blocksCountHi') * 0x1_0000_0000 : 0);
  const inodesCount = u32('inodesCount');
  const firstDataBlock = u32('firstDataBlock');
  const blocksPerGroup = u32('blocksPerGroup');
  const inodesPerGroup = u32('inodesPerGroup');
  const clusterRatio = (featureRoCompat & RO_COMPAT.bigalloc) !== 0 ? 2 ** Math.max(0, u32('logClusterSize') - logBlockSize) : 1;
  if (clusterRatio > 2 ** 16) throw bad('logClusterSize', `cluster size ${u32('logClusterSize')} is impossible`);

  if (firstDataBlock > 1 || (blockSize > 1024 && firstDataBlock !== 0)) throw bad('firstDataBlock', `first data block ${firstDataBlock} with ${blockSize}-byte blocks`);
  if (blocksCount <= firstDataBlock) throw bad('blocksCountLo', `${blocksCount} blocks leave no room for any group`);
  if (blocksPerGroup === 0 || blocksPerGroup > 8 * blockSize * clusterRatio) throw bad('blocksPerGroup', `${blocksPerGroup} blocks per group do not fit one bitmap block`);
  if (inodesPerGroup === 0 || inodesPerGroup > 8 * blockSize) throw bad('inodesPerGroup', `${inodesPerGroup} inodes per group do not fit one bitmap block`);
  const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  if (inodesCount === 0 || inodesCount > groupCount * inodesPerGroup) {
    throw bad('inodesCount', `${inodesCount} inodes but ${groupCount} groups of ${inodesPerGroup}`);
  }
  if (firstIno < GOOD_OLD_FIRST_INO || firstIno > inodesCount) throw bad('firstIno', `first inode ${firstIno} out of range`);
  const fsBytes = blocksCount * blockSize;
  if (!Number.isSafeInteger(fsBytes)) throw bad('blocksCountHi', `${blocksCount} blocks are beyond what this reader addresses`);
  if (source.size < fsBytes) {
    throw new ReprimageError('TRUNCATED', name, `truncated ext4 image: the file system declares ${fsBytes} bytes (${blocksCount} blocks of ${blockSize}) but the image holds ${source.size}`);
  }
  let csumSeed = 0;
  const uuid = raw.slice(SB.uuid, SB.uuid + 16);
  if (metadataCsum) {
    csumSeed = featureIncompat & INCOMPAT.csumSeed ? u32('checksumSeed') : crc32cUpdate(0xffffffff, uuid);
  }
  const labelBytes = raw.subarray(SB.volumeName, SB.volumeName + 16);
  const labelEnd = labelBytes.indexOf(0);
  return {
    raw,
    blockSize,
    blocksCount,
    inodesCount,
    firstDataBlock,
    blocksPerGroup,
    inodesPerGroup,
    groupCount,
    inodeSize,
    descSize,
    revLevel,
    firstIno,
    featureCompat,
    featureIncompat,
    featureRoCompat,
    firstMetaBg: u32('firstMetaBg'),
    backupBgs: [u32('backupBgs'), getU32(raw, SB.backupBgs + 4)],
    uuid,
    label: Buffer.from(labelEnd < 0 ? labelBytes : labelBytes.subarray(0, labelEnd)).toString('utf8'),
    hashSeed: raw.slice(SB.hashSeed, SB.hashSeed + 16),
    defHashVersion: getU8(raw, SB.defHashVersion),
    mkfsTime: u32('mkfsTime') + getU8(raw, SB.mkfsTimeHi) * 0x1_0000_0000,
    wtime: u32('wtime') + getU8(raw, SB.wtimeHi) * 0x1_0000_0000,
    metadataCsum,
    gdtCsum: !metadataCsum && (featureRoCompat & RO_COMPAT.gdtCsum) !== 0,
    csumSeed,
  };
}

export function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** The UUID in its usual 8-4-4-4-12 form. */
export function formatUuid(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
