/**
 * Zip (APPNOTE 6.3) structures read by reprimage: the end of central directory record (and its
 * zip64 form), central directory headers and local file headers. All little-endian.
 */
export const ZIP_LOCAL_SIGNATURE = 0x04034b50;
export const ZIP_CENTRAL_SIGNATURE = 0x02014b50;
export const ZIP_EOCD_SIGNATURE = 0x06054b50;
export const ZIP64_EOCD_SIGNATURE = 0x06064b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;

export const ZIP_EOCD_SIZE = 22;
export const ZIP64_LOCATOR_SIZE = 20;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP_CENTRAL_SIZE = 46;
export const ZIP_LOCAL_SIZE = 30;
/** The EOCD record may be followed by a comment of up to 65535 bytes. */
export const ZIP_MAX_COMMENT = 0xffff;

/** APPNOTE 4.3.16 */
export const EOCD_FIELDS = { signature: 0, disk: 4, cdDisk: 6, entriesOnDisk: 8, entries: 10, cdSize: 12, cdOffset: 16, commentLength: 20 } as const;
/** APPNOTE 4.3.15 */
export const ZIP64_LOCATOR_FIELDS = { signature: 0, eocdDisk: 4, eocdOffset: 8, disks: 16 } as const;
/** APPNOTE 4.3.14 */
export const ZIP64_EOCD_FIELDS = { signature: 0, recordSize: 4, versionMadeBy: 12, versionNeeded: 14, disk: 16, cdDisk: 20, entriesOnDisk: 24, entries: 32, cdSize: 40, cdOffset: 48 } as const;
/** APPNOTE 4.3.12 */
export const CENTRAL_FIELDS = {
  signature: 0, versionMadeBy: 4, versionNeeded: 6, flags: 8, method: 10, time: 12, date: 14, crc32: 16,
  compressedSize: 20, size: 24, nameLength: 28, extraLength: 30, commentLength: 32, diskStart: 34,
  internalAttributes: 36, externalAttributes: 38, localOffset: 42,
} as const;
/** APPNOTE 4.3.7 */
export const LOCAL_FIELDS = { signature: 0, versionNeeded: 4, flags: 6, method: 8, time: 10, date: 12, crc32: 14, compressedSize: 18, size: 22, nameLength: 26, extraLength: 28 } as const;

/** The zip64 extended information extra field (APPNOTE 4.5.3). */
export const ZIP64_EXTRA_ID = 0x0001;

export const ZIP_METHODS: Record<number, string> = { 0: 'stored', 8: 'deflated', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz' };
