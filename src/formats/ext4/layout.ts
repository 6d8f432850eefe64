/**
 * The on-disk layout of ext2/3/4, shared by the writer and the reader: field offsets, sizes,
 * magic numbers, feature and inode flags, and little-endian get/put helpers. Everything on disk
 * is little-endian except the jbd2 journal, which is big-endian.
 *
 * Source: the kernel's Documentation/filesystems/ext4 (disk layout) and e2fsprogs' ext2_fs.h,
 * read to learn the layout; the names follow the kernel's field names without their prefixes.
 */

// ─── little-endian helpers (offsets within a block or structure) ─────────────────────────────

export function getU8(b: Uint8Array, at: number): number {
  return b[at]!;
}
export function getU16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
export function getU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
/** A 64-bit value as a number; exact up to 2^53, which covers every block count ext4 allows. */
export function getU64(b: Uint8Array, at: number): number {
  return getU32(b, at) + getU32(b, at + 4) * 0x1_0000_0000;
}
/** Two 32-bit halves (lo at one offset, hi at another) as one number. */
export function getLoHi(b: Uint8Array, lo: number, hi: number | undefined): number {
  return getU32(b, lo) + (hi === undefined ? 0 : getU32(b, hi) * 0x1_0000_0000);
}
export function putU8(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
}
export function putU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}
export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}
/** Writes a non-negative integer up to 2^53 as 64 bits. */
export function putU64(b: Uint8Array, at: number, v: number): void {
  putU32(b, at, v % 0x1_0000_0000);
  putU32(b, at + 4, Math.floor(v / 0x1_0000_0000));
}
export function getU32BE(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
export function putU32BE(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

// ─── superblock (1024 bytes at byte 1024 of the volume; backups at the start of some groups) ─

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const EXT4_MAGIC = 0xef53;

/** Byte offsets of superblock fields (`s_` prefix dropped). */
export const SB = {
  inodesCount: 0x00, // u32
  blocksCountLo: 0x04, // u32
  rBlocksCountLo: 0x08, // u32, reserved for root
  freeBlocksCountLo: 0x0c, // u32
  freeInodesCount: 0x10, // u32
  firstDataBlock: 0x14, // u32: 1 for 1 KiB blocks, else 0
  logBlockSize: 0x18, // u32: block size = 1024 << this
  logClusterSize: 0x1c, // u32
  blocksPerGroup: 0x20, // u32
  clustersPerGroup: 0x24, // u32
  inodesPerGroup: 0x28, // u32
  mtime: 0x2c, // u32 last mount
  wtime: 0x30, // u32 last write
  mntCount: 0x34, // u16
  maxMntCount: 0x36, // s16, -1 = no mount-count check
  magic: 0x38, // u16 0xEF53
  state: 0x3a, // u16
  errors: 0x3c, // u16
  minorRevLevel: 0x3e, // u16
  lastcheck: 0x40, // u32
  checkinterval: 0x44, // u32
  creatorOs: 0x48, // u32, 0 = Linux
  revLevel: 0x4c, // u32, 1 = dynamic
  defResuid: 0x50, // u16
  defResgid: 0x52, // u16
  firstIno: 0x54, // u32, first non-reserved inode (11)
  inodeSize: 0x58, // u16
  blockGroupNr: 0x5a, // u16, group holding this copy
  featureCompat: 0x5c, // u32
  featureIncompat: 0x60, // u32
  featureRoCompat: 0x64, // u32
  uuid: 0x68, // 16 bytes
  volumeName: 0x78, // 16 bytes
  lastMounted: 0x88, // 64 bytes
  algorithmUsageBitmap: 0xc8, // u32
  preallocBlocks: 0xcc, // u8
  preallocDirBlocks: 0xcd, // u8
  reservedGdtBlocks: 0xce, // u16
  journalUuid: 0xd0, // 16 bytes (external journal)
  journalInum: 0xe0, // u32
  journalDev: 0xe4, // u32
  lastOrphan: 0xe8, // u32
  hashSeed: 0xec, // 4 × u32 (16 bytes)
  defHashVersion: 0xfc, // u8
  jnlBackupType: 0xfd, // u8
  descSize: 0xfe, // u16, group descriptor size when 64bit
  defaultMountOpts: 0x100, // u32
  firstMetaBg: 0x104, // u32
  mkfsTime: 0x108, // u32
  jnlBlocks: 0x10c, // 17 × u32: copy of the journal inode's i_block[15], i_size_high, i_size
  blocksCountHi: 0x150, // u32
  rBlocksCountHi: 0x154, // u32
  freeBlocksCountHi: 0x158, // u32
  minExtraIsize: 0x15c, // u16
  wantExtraIsize: 0x15e, // u16
  flags: 0x160, // u32
  raidStride: 0x164, // u16
  mmpInterval: 0x166, // u16
  mmpBlock: 0x168, // u64
  raidStripeWidth: 0x170, // u32
  logGroupsPerFlex: 0x174, // u8
  checksumType: 0x175, // u8, 1 = crc32c
  encryptionLevel: 0x176, // u8
  kbytesWritten: 0x178, // u64
  snapshotInum: 0x180,
  snapshotId: 0x184,
  snapshotRBlocksCount: 0x188,
  snapshotList: 0x190,
  errorCount: 0x194,
  firstErrorTime: 0x198,
  firstErrorIno: 0x19c,
  firstErrorBlock: 0x1a0,
  firstErrorFunc: 0x1a8,
  firstErrorLine: 0x1c8,
  lastErrorTime: 0x1cc,
  lastErrorIno: 0x1d0,
  lastErrorLine: 0x1d4,
  lastErrorBlock: 0x1d8,
  lastErrorFunc: 0x1e0,
  mountOpts: 0x200, // 64 bytes
  usrQuotaInum: 0x240,
  grpQuotaInum: 0x244,
  overheadClusters: 0x248,
  backupBgs: 0x24c, // 2 × u32 (sparse_super2)
  encryptAlgos: 0x254, // 4 bytes
  encryptPwSalt: 0x258, // 16 bytes
  lpfIno: 0x268,
  prjQuotaInum: 0x26c,
  checksumSeed: 0x270, // u32 (only with INCOMPAT_CSUM_SEED)
  wtimeHi: 0x274, // u8
  mtimeHi: 0x275,
  mkfsTimeHi: 0x276,
  lastcheckHi: 0x277,
  firstErrorTimeHi: 0x278,
  lastErrorTimeHi: 0x279,
  firstErrorErrcode: 0x27a,
  lastErrorErrcode: 0x27b,
  encoding: 0x27c, // u16
  encodingFlags: 0x27e, // u16
  orphanFileInum: 0x280, // u32
  checksum: 0x3fc, // u32: crc32c(~0, superblock[0..0x3fc])
} as const;

export const STATE_VALID = 0x0001;
export const STATE_ERROR = 0x0002;
export const ERRORS_CONTINUE = 1;
export const ERRORS_RO = 2;
export const ERRORS_PANIC = 3;
export const OS_LINUX = 0;
export const REV_DYNAMIC = 1;
export const CHECKSUM_TYPE_CRC32C = 1;
export const JNL_BACKUP_BLOCKS = 1;

/** s_flags */
export const FLAG_SIGNED_HASH = 0x0001;
export const FLAG_UNSIGNED_HASH = 0x0002;
export const FLAG_TEST_FILESYS = 0x0004;

/** s_default_mount_opts */
export const DEFM_DEBUG = 0x0001;
export const DEFM_BSDGROUPS = 0x0002;
export const DEFM_XATTR_USER = 0x0004;
export const DEFM_ACL = 0x0008;
export const DEFM_UID16 = 0x0010;
export const DEFM_JMODE_DATA = 0x0020;
export const DEFM_JMODE_ORDERED = 0x0040;
export const DEFM_JMODE_WBACK = 0x0060;
export const DEFM_NOBARRIER = 0x0100;
export const DEFM_BLOCK_VALIDITY = 0x0200;
export const DEFM_DISCARD = 0x0400;
export const DEFM_NODELALLOC = 0x0800;

// ─── feature flags ──────────────────────────────────────────────────────────────────────────

export const COMPAT = {
  dirPrealloc: 0x0001,
  imagicInodes: 0x0002,
  hasJournal: 0x0004,
  extAttr: 0x0008,
  resizeInode: 0x0010,
  dirIndex: 0x0020,
  lazyBg: 0x0040,
  excludeBitmap: 0x0100,
  sparseSuper2: 0x0200,
  fastCommit: 0x0400,
  stableInodes: 0x0800,
  orphanFile: 0x1000,
} as const;

export const INCOMPAT = {
  compression: 0x0001,
  filetype: 0x0002,
  recover: 0x0004,
  journalDev: 0x0008,
  metaBg: 0x0010,
  extents: 0x0040,
  bit64: 0x0080,
  mmp: 0x0100,
  flexBg: 0x0200,
  eaInode: 0x0400,
  dirdata: 0x1000,
  csumSeed: 0x2000,
  largedir: 0x4000,
  inlineData: 0x8000,
  encrypt: 0x10000,
  casefold: 0x20000,
} as const;

export const RO_COMPAT = {
  sparseSuper: 0x0001,
  largeFile: 0x0002,
  btreeDir: 0x0004,
  hugeFile: 0x0008,
  gdtCsum: 0x0010,
  dirNlink: 0x0020,
  extraIsize: 0x0040,
  hasSnapshot: 0x0080,
  quota: 0x0100,
  bigalloc: 0x0200,
  metadataCsum: 0x0400,
  replica: 0x0800,
  readonly: 0x1000,
  project: 0x2000,
  sharedBlocks: 0x4000,
  verity: 0x8000,
  orphanPresent: 0x10000,
} as const;

// ─── group descriptors (32 bytes, or s_desc_size (64) with 64bit) ──────────────────────────

export const GROUP_DESC_SIZE_32 = 32;
export const GROUP_DESC_SIZE_64 = 64;

/** Byte offsets of group descriptor fields (`bg_` prefix dropped); `Hi` fields only when 64-byte. */
export const GD = {
  blockBitmapLo: 0x00, // u32
  inodeBitmapLo: 0x04, // u32
  inodeTableLo: 0x08, // u32
  freeBlocksCountLo: 0x0c, // u16
  freeInodesCountLo: 0x0e, // u16
  usedDirsCountLo: 0x10, // u16
  flags: 0x12, // u16
  excludeBitmapLo: 0x14, // u32
  blockBitmapCsumLo: 0x18, // u16
  inodeBitmapCsumLo: 0x1a, // u16
  itableUnusedLo: 0x1c, // u16
  checksum: 0x1e, // u16
  blockBitmapHi: 0x20, // u32
  inodeBitmapHi: 0x24, // u32
  inodeTableHi: 0x28, // u32
  freeBlocksCountHi: 0x2c, // u16
  freeInodesCountHi: 0x2e, // u16
  usedDirsCountHi: 0x30, // u16
  itableUnusedHi: 0x32, // u16
  excludeBitmapHi: 0x34, // u32
  blockBitmapCsumHi: 0x38, // u16
  inodeBitmapCsumHi: 0x3a, // u16
  reserved: 0x3c, // u32
} as const;

/** bg_flags */
export const BG_INODE_UNINIT = 0x0001;
export const BG_BLOCK_UNINIT = 0x0002;
export const BG_INODE_ZEROED = 0x0004;

// ─── inodes ─────────────────────────────────────────────────────────────────────────────────

export const GOOD_OLD_INODE_SIZE = 128;
export const ROOT_INO = 2;
export const BAD_INO = 1;
export const USR_QUOTA_INO = 3;
export const GRP_QUOTA_INO = 4;
export const BOOT_LOADER_INO = 5;
export const UNDEL_DIR_INO = 6;
export const RESIZE_INO = 7;
export const JOURNAL_INO = 8;
export const EXCLUDE_INO = 9;
export const REPLICA_INO = 10;
export const GOOD_OLD_FIRST_INO = 11;

/** Byte offsets of inode fields (`i_` prefix dropped; osd2 fields under their Linux names). */
export const INODE = {
  mode: 0x00, // u16
  uid: 0x02, // u16 (low)
  sizeLo: 0x04, // u32
  atime: 0x08, // u32
  ctime: 0x0c, // u32
  mtime: 0x10, // u32
  dtime: 0x14, // u32
  gid: 0x18, // u16 (low)
  linksCount: 0x1a, // u16
  blocksLo: 0x1c, // u32, 512-byte units (or blocks with HUGE_FILE_FL)
  flags: 0x20, // u32
  version: 0x24, // u32 (osd1)
  block: 0x28, // 60 bytes: extent tree root, block map, fast symlink or device numbers
  generation: 0x64, // u32
  fileAclLo: 0x68, // u32, xattr block
  sizeHigh: 0x6c, // u32
  obsoFaddr: 0x70, // u32
  blocksHigh: 0x74, // u16
  fileAclHigh: 0x76, // u16
  uidHigh: 0x78, // u16
  gidHigh: 0x7a, // u16
  checksumLo: 0x7c, // u16
  reserved: 0x7e, // u16
  // the large inode (128 + extra_isize)
  extraIsize: 0x80, // u16
  checksumHi: 0x82, // u16
  ctimeExtra: 0x84, // u32
  mtimeExtra: 0x88, // u32
  atimeExtra: 0x8c, // u32
  crtime: 0x90, // u32
  crtimeExtra: 0x94, // u32
  versionHi: 0x98, // u32
  projid: 0x9c, // u32
} as const;

/** The i_extra_isize that covers every field above (up to i_projid). */
export const EXTRA_ISIZE = 32;
export const I_BLOCK_SIZE = 60;
/** A symlink target shorter than this is stored in i_block (a fast symlink). */
export const FAST_SYMLINK_MAX = 59;

/** i_flags */
export const IFLAG = {
  secrm: 0x00000001,
  unrm: 0x00000002,
  compr: 0x00000004,
  sync: 0x00000008,
  immutable: 0x00000010,
  append: 0x00000020,
  nodump: 0x00000040,
  noatime: 0x00000080,
  index: 0x00001000, // hashed (htree) directory
  imagic: 0x00002000,
  journalData: 0x00004000,
  notail: 0x00008000,
  dirsync: 0x00010000,
  topdir: 0x00020000,
  hugeFile: 0x00040000,
  extents: 0x00080000,
  verity: 0x00100000,
  eaInode: 0x00200000,
  inlineData: 0x10000000,
  projinherit: 0x20000000,
  casefold: 0x40000000,
} as const;

/** The S_IFMT bits of i_mode. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/**
 * The 32-bit time fields hold the low 32 bits of a signed seconds count; the `_extra` fields
 * hold nanoseconds << 2 and two epoch bits extending the range to 2446.
 */
export function encodeExtraTime(sec: number, nsec: number): { low: number; extra: number } {
  const low = sec >>> 0; // modulo 2^32
  const signedLow = low | 0;
  const epoch = Math.round((sec - signedLow) / 0x1_0000_0000) & 3;
  return { low, extra: ((nsec << 2) | epoch) >>> 0 };
}
export function decodeExtraTime(low: number, extra: number): { sec: number; nsec: number } {
  const epoch = extra & 3;
  return { sec: (low | 0) + epoch * 0x1_0000_0000, nsec: extra >>> 2 };
}

/** Old (16-bit) and new (32-bit) device number encodings in i_block[0] / i_block[1]. */
export function encodeOldDev(major: number, minor: number): number {
  return ((major & 0xff) << 8) | (minor & 0xff);
}
export function encodeNewDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
export function decodeDev(block0: number, block1: number): { major: number; minor: number } {
  if (block0 !== 0) return { major: (block0 >>> 8) & 0xff, minor: block0 & 0xff };
  return { major: (block1 & 0xfff00) >>> 8, minor: (block1 & 0xff) | ((block1 >>> 12) & 0xfff00) };
}

// ─── extent tree ────────────────────────────────────────────────────────────────────────────

export const EXTENT_MAGIC = 0xf30a;
export const EXTENT_HEADER_SIZE = 12;
export const EXTENT_ENTRY_SIZE = 12;
/** The checksum tail after eh_max entries of an extent block (metadata_csum). */
export const EXTENT_TAIL_SIZE = 4;
/** Entries that fit in i_block: (60 - 12) / 12. */
export const EXTENTS_IN_INODE = 4;
/** The longest initialized extent; longer lengths mark an unwritten extent (len - 32768). */
export const EXTENT_MAX_LEN = 32768;

/** Extent header: eh_magic u16, eh_entries u16, eh_max u16, eh_depth u16, eh_generation u32. */
export const EH = { magic: 0, entries: 2, max: 4, depth: 6, generation: 8 } as const;
/** Index entry: ei_block u32 (first logical block covered), ei_leaf_lo u32, ei_leaf_hi u16, unused u16. */
export const EI = { block: 0, leafLo: 4, leafHi: 8, unused: 10 } as const;
/** Leaf entry: ee_block u32, ee_len u16, ee_start_hi u16, ee_start_lo u32. */
export const EE = { block: 0, len: 4, startHi: 6, startLo: 8 } as const;

/** eh_max of an extent tree block of `blockSize` bytes. */
export function extentsPerBlock(blockSize: number): number {
  return Math.floor((blockSize - EXTENT_HEADER_SIZE) / EXTENT_ENTRY_SIZE);
}

// ─── directories ────────────────────────────────────────────────────────────────────────────

/** ext4_dir_entry_2: inode u32, rec_len u16, name_len u8, file_type u8, name (padded to 4). */
export const DIRENT = { inode: 0, recLen: 4, nameLen: 6, fileType: 7, name: 8 } as const;
export const DIRENT_HEADER_SIZE = 8;
export const DIR_NAME_MAX = 255;
export function direntSize(nameLength: number): number {
  return (DIRENT_HEADER_SIZE + nameLength + 3) & ~3;
}

/** file_type codes of directory entries (with INCOMPAT_FILETYPE). */
export const FT = {
  unknown: 0,
  regFile: 1,
  dir: 2,
  chrdev: 3,
  blkdev: 4,
  fifo: 5,
  sock: 6,
  symlink: 7,
} as const;

/**
 * The checksum tail at the end of each directory leaf block (metadata_csum): a fake entry with
 * inode 0, rec_len 12, name_len 0, file_type 0xDE, then crc32c(inode seed, block[0..size-12]).
 */
export const DIR_TAIL_SIZE = 12;
export const DIR_TAIL_FT = 0xde;
export const DIR_TAIL = { inode: 0, recLen: 4, nameLen: 6, fileType: 7, checksum: 8 } as const;

/**
 * Hashed directories. Block 0 is the dx root: "." (rec_len 12) and ".." (rec_len covering the
 * rest of the block) whose space hides dx_root_info then the dx entries. Interior index blocks
 * start with a fake entry (inode 0, rec_len = block size) followed by the entries.
 */
export const DX_ROOT = {
  infoReservedZero: 24, // u32
  infoHashVersion: 28, // u8
  infoLength: 29, // u8, 8
  infoIndirectLevels: 30, // u8
  infoUnusedFlags: 31, // u8
  entries: 32, // dx_countlimit then dx_entry[]
} as const;
export const DX_ROOT_INFO_LENGTH = 8;
export const DX_NODE_ENTRIES = 8;
/** dx_countlimit overlays the first dx_entry's hash: limit u16, count u16, then its block u32. */
export const DX_COUNTLIMIT = { limit: 0, count: 2, block: 4 } as const;
/** dx_entry: hash u32, block u32 (a logical block of the directory). */
export const DX_ENTRY = { hash: 0, block: 4 } as const;
export const DX_ENTRY_SIZE = 8;
/** dx_tail after `limit` entries (metadata_csum): reserved u32, checksum u32. */
export const DX_TAIL_SIZE = 8;
/** Highest indirect_levels without LARGEDIR (a root and one level of index blocks). */
export const DX_MAX_LEVELS = 2;

/** dx_root_info.hash_version and s_def_hash_version. */
export const HASH = {
  legacy: 0,
  halfMd4: 1,
  tea: 2,
  legacyUnsigned: 3,
  halfMd4Unsigned: 4,
  teaUnsigned: 5,
  siphash: 6,
} as const;

// ─── extended attributes ────────────────────────────────────────────────────────────────────

export const XATTR_MAGIC = 0xea020000;
/** The xattr block header: magic, refcount, blocks (1), hash, checksum, 3 reserved u32. */
export const XATTR_BLOCK_HEADER = { magic: 0, refcount: 4, blocks: 8, hash: 12, checksum: 16 } as const;
export const XATTR_BLOCK_HEADER_SIZE = 32;
/** In-inode xattrs: u32 magic at 128 + extra_isize, then entries; value offsets count from the first entry. */
export const XATTR_IBODY_HEADER_SIZE = 4;
/** ext4_xattr_entry: name_len u8, name_index u8, value_offs u16, value_inum u32, value_size u32, hash u32, name. */
export const XATTR_ENTRY = { nameLen: 0, nameIndex: 1, valueOffs: 2, valueInum: 4, valueSize: 8, hash: 12, name: 16 } as const;
export const XATTR_ENTRY_HEADER_SIZE = 16;
export const XATTR_PAD = 4;
export function xattrEntrySize(nameLength: number): number {
  return (XATTR_ENTRY_HEADER_SIZE + nameLength + XATTR_PAD - 1) & ~(XATTR_PAD - 1);
}
export function xattrValueSize(valueLength: number): number {
  return (valueLength + XATTR_PAD - 1) & ~(XATTR_PAD - 1);
}

/**
 * Name prefixes by e_name_index. Index 2 and 3 are whole names (ACLs, stored in the ext4 ACL
 * format, not the xattr one); the others are prefixes of e_name. Longest first for matching.
 */
export const XATTR_PREFIXES: ReadonlyArray<readonly [index: number, prefix: string]> = [
  [2, 'system.posix_acl_access'],
  [3, 'system.posix_acl_default'],
  [8, 'system.richacl'],
  [6, 'security.'],
  [4, 'trusted.'],
  [1, 'user.'],
  [7, 'system.'],
];
export const XATTR_INDEX_USER = 1;
export const XATTR_INDEX_ACL_ACCESS = 2;
export const XATTR_INDEX_ACL_DEFAULT = 3;
export const XATTR_INDEX_TRUSTED = 4;
export const XATTR_INDEX_SECURITY = 6;
export const XATTR_INDEX_SYSTEM = 7;

/** The prefix of a name index (the whole name for 2 and 3), or undefined when unknown. */
export function xattrPrefix(index: number): string | undefined {
  for (const [i, p] of XATTR_PREFIXES) if (i === index) return p;
  return undefined;
}

/**
 * ACLs: the xattr form (`system.posix_acl_*` as getfattr shows it) is version 2 with 8-byte
 * entries (tag u16, perm u16, id u32); ext4 stores version 1, with 4-byte entries (no id) for
 * USER_OBJ, GROUP_OBJ, MASK and OTHER.
 */
export const POSIX_ACL_XATTR_VERSION = 2;
export const EXT4_ACL_VERSION = 1;
export const ACL_TAG = { userObj: 0x01, user: 0x02, groupObj: 0x04, group: 0x08, mask: 0x10, other: 0x20 } as const;

// ─── jbd2 journal (big-endian) ──────────────────────────────────────────────────────────────

export const JBD2_MAGIC = 0xc03b3998;
export const JBD2_SUPERBLOCK_V2 = 4;
/** Journal superblock offsets (all big-endian u32 unless noted). */
export const JSB = {
  magic: 0x00,
  blocktype: 0x04,
  sequence: 0x08,
  blocksize: 0x0c,
  maxlen: 0x10,
  first: 0x14,
  sequenceFirst: 0x18, // s_sequence: first commit ID expected in the log
  start: 0x1c, // 0 = the journal is clean
  errno: 0x20,
  featureCompat: 0x24,
  featureIncompat: 0x28,
  featureRoCompat: 0x2c,
  uuid: 0x30, // 16 bytes
  nrUsers: 0x40,
  dynsuper: 0x44,
  maxTransaction: 0x48,
  maxTransData: 0x4c,
  checksumType: 0x50, // u8
  numFcBlocks: 0x54,
  head: 0x58,
  checksum: 0xfc,
  users: 0x100, // 16 × 48 bytes
} as const;
export const JBD2_MIN_JOURNAL_BLOCKS = 1024;

// ─── group placement ────────────────────────────────────────────────────────────────────────

/** With sparse_super, groups 0, 1 and the powers of 3, 5 and 7 hold superblock backups. */
export function groupHasSuperblock(group: number, sparseSuper = true): boolean {
  if (!sparseSuper || group <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < group) p *= base;
    if (p === group) return true;
  }
  return false;
}
