/**
 * Reading the group descriptor table: where each group's inode table lies. Every descriptor's
 * checksum is verified (crc32c with metadata_csum, crc16 with uninit_bg/gdt_csum) and every inode
 * table must lie inside the file system. Only the inode table locations are kept (8 bytes per
 * group), so a file system of millions of groups costs little memory.
 */
import { corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import { COMPAT, GD, INCOMPAT, RO_COMPAT, getU16, getU32, groupHasSuperblock } from './layout.js';
import type { Ext4Superblock } from './read-superblock.js';

export interface GroupTable {
  /** The first block of group `g`'s inode table. */
  inodeTable(group: number): number;
}

/** Descriptor blocks read per request, so a large table is read in few calls. */
const READ_BLOCKS = 64;

export async function readGroupTable(source: RandomAccessSource, sb: Ext4Superblock): Promise<GroupTable> {
  const { blockSize, descSize, groupCount } = sb;
  const perBlock = blockSize / descSize;
  const descBlocks = Math.ceil(groupCount / perBlock);
  const inodeTables = new Float64Array(groupCount);
  const tableBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / blockSize);
  const bit64 = (sb.featureIncompat & INCOMPAT.bit64) !== 0;
  const leGroup = new Uint8Array(4);

  let b = 0;
  while (b < descBlocks) {
    // consecutive descriptor blocks (all of them without meta_bg) are read together
    const first = descriptorBlock(sb, b);
    let n = 1;
    while (b + n < descBlocks && n < READ_BLOCKS && descriptorBlock(sb, b + n) === first + n) n++;
    if (first + n > sb.blocksCount) throw corruptError(source.name, 'ext4 group descriptor table', undefined, `descriptor block ${first + n - 1} is outside the ${sb.blocksCount} blocks`);
    const bytes = await source.read(first * blockSize, n * blockSize);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < perBlock; j++) {
        const group = (b + i) * perBlock + j;
        if (group >= groupCount) break;
        const at = i * blockSize + j * descSize;
        const desc = bytes.subarray(at, at + descSize);
        const offset = (first + i) * blockSize + j * descSize;
        const bad = (detail: string) => corruptError(source.name, `ext4 group descriptor ${group}`, offset, detail);
        if (sb.metadataCsum || sb.gdtCsum) {
          leGroup[0] = group & 0xff;
          leGroup[1] = (group >>> 8) & 0xff;
          leGroup[2] = (group >>> 16) & 0xff;
          leGroup[3] = (group >>> 24) & 0xff;
          const want = getU16(desc, GD.checksum);
          const got = sb.metadataCsum ? crc32cDesc(sb.csumSeed, leGroup, desc) : crc16Desc(sb.uuid, leGroup, desc);
          if (want !== got) throw bad(`checksum mismatch (stored 0x${want.toString(16).padStart(4, '0')}, computed 0x${got.toString(16).padStart(4, '0')})`);
        }
        const table = getU32(desc, GD.inodeTableLo) + (bit64 && descSize >= 64 ? getU32(desc, GD.inodeTableHi) * 0x1_0000_0000 : 0);
        if (table < sb.firstDataBlock || table + tableBlocks > sb.blocksCount) {
          throw bad(`inode table at block ${table} (${tableBlocks} blocks) is outside the ${sb.blocksCount} blocks`);
        }
        inodeTables[group] = table;
      }
    }
    b += n;
  }
  return { inodeTable: (group) => inodeTables[group]! };
}

/** The block holding descriptor block `i`: after the superblock, or per meta group with meta_bg. */
function descriptorBlock(sb: Ext4Superblock, i: number): number {
  // the superblock's own block: with bigalloc and 1 KiB blocks the first data block is 0, yet
  // the superblock still sits in block 1 (byte 1024), and the descriptors follow it
  const sbBlock = sb.firstDataBlock === 0 && sb.blockSize === 1024 ? 1 : sb.firstDataBlock;
  if (!(sb.featureIncompat & INCOMPAT.metaBg) || i < sb.firstMetaBg) return sbBlock + 1 + i;
  const group = i * (sb.blockSize / sb.descSize);
  const groupStart = sb.firstDataBlock + group * sb.blocksPerGroup;
  // (group 0's superblock is in block 1, like the table's first block above)
  return (group === 0 ? sbBlock : groupStart) + (hasSuperblock(sb, group) ? 1 : 0);
}

function hasSuperblock(sb: Ext4Superblock, group: number): boolean {
  if (group === 0) return true;
  if (sb.featureCompat & COMPAT.sparseSuper2) return group === sb.backupBgs[0] || group === sb.backupBgs[1];
  return groupHasSuperblock(group, (sb.featureRoCompat & RO_COMPAT.sparseSuper) !== 0);
}

function crc32cDesc(seed: number, leGroup: Uint8Array, desc: Uint8Array): number {
  let c = crc32cUpdate(seed, leGroup);
  c = crc32cUpdate(c, desc.subarray(0, GD.checksum));
  c = crc32cUpdate(c, ZERO2);
  c = crc32cUpdate(c, desc.subarray(GD.checksum + 2));
  return c & 0xffff;
}

const ZERO2 = new Uint8Array(2);

/** The crc16 (reflected 0x8005, as the kernel's crc16) of uninit_bg group descriptors. */
function crc16Desc(uuid: Uint8Array, leGroup: Uint8Array, desc: Uint8Array): number {
  let c = crc16(0xffff, uuid);
  c = crc16(c, leGroup);
  c = crc16(c, desc.subarray(0, GD.checksum));
  return crc16(c, desc.subarray(GD.checksum + 2));
}

function crc16(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  }
  return c;
}
