/**
 * Constants of the FAT file system, named as in Microsoft's "FAT: General Overview of On-Disk
 * Format" (fatgen103, 2000) and the Linux `msdos_fs.h` header.
 */

/** The width of a FAT entry in bits, which names the variant. */
export type FatType = 12 | 16 | 32;

/** Directory entry size in bytes (fatgen103 §6). */
export const FAT_DIR_ENTRY_SIZE = 32;
/** The boot sector signature 0x55 0xAA at bytes 510–511. */
export const FAT_BOOT_SIGNATURE = 0xaa55;
/** The extended boot signature (BS_BootSig) that says the volume id, label and type follow. */
export const FAT_EXT_BOOT_SIGNATURE = 0x29;

/** DIR_Attr bits (fatgen103 §6). */
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
/** A long-name entry has exactly these four bits set. */
export const ATTR_LONG_NAME = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM | ATTR_VOLUME_ID;
export const ATTR_LONG_NAME_MASK = ATTR_LONG_NAME | ATTR_DIRECTORY | ATTR_ARCHIVE;

/** DIR_NTRes bits that Windows NT and Linux vfat use for 8.3 names in lower case. */
export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;

/** First byte of a deleted entry, and the escape for a real leading 0xE5. */
export const DIR_ENTRY_FREE = 0xe5;
export const DIR_ENTRY_KANJI_E5 = 0x05;
/** Set in the ordinal of the last (first stored) long-name entry of a set. */
export const LFN_LAST_ENTRY = 0x40;
/** Characters of a long name held by one long-name entry. */
export const LFN_CHARS_PER_ENTRY = 13;
/** A long name is at most 255 UTF-16 code units, so at most 20 entries. */
export const LFN_MAX_CHARS = 255;
export const LFN_MAX_ENTRIES = 20;

/** The first data cluster number. */
export const FIRST_CLUSTER = 2;
/**
 * The cluster-count boundaries that decide the FAT type (fatgen103 §3.5): fewer than 4085
 * clusters is FAT12, fewer than 65525 is FAT16, otherwise FAT32.
 */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
export const FAT32_MIN_CLUSTERS = 65525;
/** FAT32 entries have 28 bits; the top cluster numbers are reserved. */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;
/**
 * mkfs.fat keeps two clusters away from the FAT12/FAT16 boundary so that no reader that counts
 * differently by one misdetects the type; we pick sizes the same way.
 */
export const MKFS_MIN_FAT16_CLUSTERS = 4087;
export const MKFS_MAX_FAT32_CLUSTERS = 268435446;

/** The "end of chain" value we write, per type. */
export const FAT_EOC: Record<FatType, number> = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff };
/** Values at or above these end a chain when read (fatgen103 §4). */
export const FAT_EOC_MIN: Record<FatType, number> = { 12: 0xff8, 16: 0xfff8, 32: 0x0ffffff8 };
/** The "bad cluster" marker. */
export const FAT_BAD: Record<FatType, number> = { 12: 0xff7, 16: 0xfff7, 32: 0x0ffffff7 };

/** Largest directory: 65536 entries of 32 bytes (fatgen103 §6). */
export const MAX_DIR_ENTRIES = 65536;
/** Largest file: DIR_FileSize is 32 bits. */
export const MAX_FILE_SIZE = 0xffffffff;

/** FAT timestamps run from 1980-01-01 00:00:00 to 2107-12-31 23:59:58. */
export const FAT_TIME_MIN = 315532800;
export const FAT_TIME_MAX = 4354819198;
