/**
 * SquashFS 4.0 constants, named as in squashfs-tools' `squashfs_fs.h` and squashfs-tools-ng's
 * `doc/format.adoc`. Everything on disk is little-endian.
 */

export const SQUASHFS_MAGIC = 0x73717368; // "hsqs" read as a little-endian u32
export const SQUASHFS_VERSION_MAJOR = 4;
export const SQUASHFS_VERSION_MINOR = 0;

/** Uncompressed payload of one metadata block. */
export const SQUASHFS_METADATA_SIZE = 8192;
/** Bit 15 of a metadata block header: the payload is stored uncompressed. */
export const SQUASHFS_METADATA_UNCOMPRESSED = 0x8000;
/** Bit 24 of a data/fragment block size: the block is stored uncompressed. */
export const SQUASHFS_BLOCK_UNCOMPRESSED = 1 << 24;
export const SQUASHFS_BLOCK_SIZE_MASK = SQUASHFS_BLOCK_UNCOMPRESSED - 1;

export const SQUASHFS_MIN_BLOCK_LOG = 12;
export const SQUASHFS_MAX_BLOCK_LOG = 20;
export const SQUASHFS_DEFAULT_BLOCK_SIZE = 128 * 1024;

/** No fragment: the fragment index of a file whose tail is not in a fragment block. */
export const SQUASHFS_INVALID_FRAGMENT = 0xffffffff;
/** No xattrs: the xattr index of an inode without extended attributes. */
export const SQUASHFS_INVALID_XATTR = 0xffffffff;
/** A table that is absent (export, xattr) has this start offset. */
export const SQUASHFS_INVALID_TABLE = 0xffffffffffffffffn;

/** Longest name a directory entry holds. */
export const SQUASHFS_NAME_LEN = 256;
/** Most entries one directory header may cover. */
export const SQUASHFS_DIR_HEADER_MAX_ENTRIES = 256;
/** Ids the id table can hold (inodes index it with a u16). */
export const SQUASHFS_MAX_IDS = 65536;

/** Superblock flags (squashfs_fs.h `SQUASHFS_MKFLAGS`). */
export const SquashfsFlag = {
  UNCOMPRESSED_INODES: 0x0001,
  UNCOMPRESSED_DATA: 0x0002,
  CHECK: 0x0004,
  UNCOMPRESSED_FRAGMENTS: 0x0008,
  NO_FRAGMENTS: 0x0010,
  ALWAYS_FRAGMENTS: 0x0020,
  DUPLICATES: 0x0040,
  EXPORTABLE: 0x0080,
  UNCOMPRESSED_XATTRS: 0x0100,
  NO_XATTRS: 0x0200,
  COMPRESSOR_OPTIONS: 0x0400,
  UNCOMPRESSED_IDS: 0x0800,
} as const;

/** Inode type numbers; the extended variant of each basic type is the basic number + 7. */
export const InodeType = {
  DIR: 1,
  FILE: 2,
  SYMLINK: 3,
  BLOCK: 4,
  CHAR: 5,
  FIFO: 6,
  SOCKET: 7,
  LDIR: 8,
  LFILE: 9,
  LSYMLINK: 10,
  LBLOCK: 11,
  LCHAR: 12,
  LFIFO: 13,
  LSOCKET: 14,
} as const;
export type InodeTypeNumber = (typeof InodeType)[keyof typeof InodeType];

/** Compressor ids of the superblock. */
export const CompressorId = {
  gzip: 1,
  lzma: 2,
  lzo: 3,
  xz: 4,
  lz4: 5,
  zstd: 6,
} as const;

/** Xattr name prefixes and their ids (the low byte of an xattr entry's type). */
export const XATTR_PREFIXES: readonly string[] = ['user.', 'trusted.', 'security.'];
/** Bit 8 of an xattr entry's type: the value is stored out of line (a u64 reference). */
export const XATTR_VALUE_OOL = 0x100;
export const XATTR_PREFIX_MASK = 0xff;
