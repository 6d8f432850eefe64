/**
 * Layout constants of ECMA-119 (ISO 9660), Joliet, SUSP/RRIP and El Torito that the reader and
 * the writer share. Section numbers refer to ECMA-119 4th edition unless said otherwise.
 */

/** Logical sector and logical block size (§6.1.2, §6.2.2); we only read and write 2048. */
export const ISO_SECTOR_SIZE = 2048;
/** Sectors 0..15 form the System Area (§6.2.1), where isohybrid images keep an MBR/GPT. */
export const ISO_SYSTEM_AREA_SECTORS = 16;
/** The first volume descriptor sits at sector 16. */
export const ISO_FIRST_DESCRIPTOR_SECTOR = 16;
/** "CD001", the standard identifier of every volume descriptor (§8.1.2). */
export const ISO_STANDARD_ID = 'CD001';

/** Volume descriptor types (§8.1.1). */
export const VD_BOOT_RECORD = 0;
export const VD_PRIMARY = 1;
export const VD_SUPPLEMENTARY = 2;
export const VD_PARTITION = 3;
export const VD_TERMINATOR = 255;

/** File flags of a directory record (§9.1.6). */
export const FLAG_HIDDEN = 0x01;
export const FLAG_DIRECTORY = 0x02;
export const FLAG_ASSOCIATED = 0x04;
export const FLAG_RECORD = 0x08;
export const FLAG_PROTECTION = 0x10;
/** Set on every record of a multi-extent file except the last (§9.1.6 bit 7). */
export const FLAG_MULTI_EXTENT = 0x80;

/** ECMA-119 allows at most 8 directory levels, the root being level 1 (§6.8.2.1). */
export const ISO_MAX_DIRECTORY_DEPTH = 8;
/** Largest data length of one extent that a multi-extent file uses (as libisofs: 4 GiB − 2 KiB). */
export const ISO_MAX_EXTENT_SIZE = 0xffffffff - (ISO_SECTOR_SIZE - 1);

/** Joliet level 3 escape sequence in a supplementary descriptor (Joliet spec §2). */
export const JOLIET_ESCAPE_LEVEL3 = Uint8Array.of(0x25, 0x2f, 0x45); // "%/E"
export const JOLIET_ESCAPES = [
  Uint8Array.of(0x25, 0x2f, 0x40), // level 1 "%/@"
  Uint8Array.of(0x25, 0x2f, 0x43), // level 2 "%/C"
  JOLIET_ESCAPE_LEVEL3,
];

/** El Torito (Phoenix/IBM 1995) constants. */
export const EL_TORITO_SYSTEM_ID = 'EL TORITO SPECIFICATION';
export const EL_TORITO_PLATFORM_X86 = 0x00;
export const EL_TORITO_PLATFORM_PPC = 0x01;
export const EL_TORITO_PLATFORM_MAC = 0x02;
/** Platform id of UEFI boot images (UEFI spec §3.5.1.2 / 13.3.2.1). */
export const EL_TORITO_PLATFORM_EFI = 0xef;
export const EL_TORITO_BOOTABLE = 0x88;
export const EL_TORITO_NOT_BOOTABLE = 0x00;
export const EL_TORITO_HEADER_MORE = 0x90;
export const EL_TORITO_HEADER_FINAL = 0x91;
export const EL_TORITO_MEDIA_NO_EMULATION = 0;
/** Size of one boot catalog entry. */
export const EL_TORITO_ENTRY_SIZE = 32;
/** Boot images count their load size in 512-byte "virtual sectors". */
export const EL_TORITO_VIRTUAL_SECTOR = 512;

/** The isolinux boot info table: 56 bytes at offset 8 of the boot image (mkisofs -boot-info-table). */
export const BOOT_INFO_TABLE_OFFSET = 8;
export const BOOT_INFO_TABLE_SIZE = 56;
/** The checksum covers the boot image from this byte on. */
export const BOOT_INFO_CHECKSUM_START = 64;
