/**
 * cpio header layouts, as pure byte⇄struct codecs.
 *
 * newc ("070701") and crc ("070702"): 110 bytes, 13 eight-digit hexadecimal fields, then the
 * NUL-terminated name, padded so that the name and the data each start on a 4-byte boundary
 * (kernel Documentation/driver-api/early-userspace/buffer-format.rst).
 * odc ("070707", POSIX.1 "portable ASCII"): 76 bytes of octal fields, no padding.
 *
 *   newc field  offset   odc field  offset width
 *   magic          0     magic        0     6
 *   ino            6     dev          6     6
 *   mode          14     ino         12     6
 *   uid           22     mode        18     6
 *   gid           30     uid         24     6
 *   nlink         38     gid         30     6
 *   mtime         46     nlink       36     6
 *   filesize      54     rdev        42     6
 *   devmajor      62     mtime       48    11
 *   devminor      70     namesize    59     6
 *   rdevmajor     78     filesize    65    11
 *   rdevminor     86
 *   namesize      94
 *   check        102
 */
export const CPIO_NEWC_MAGIC = '070701';
export const CPIO_CRC_MAGIC = '070702';
export const CPIO_ODC_MAGIC = '070707';
export const CPIO_MAGIC_SIZE = 6;

/** Whether `head` (at least 6 bytes) starts a cpio archive in a format we read. */
export function sniffCpio(head: Uint8Array): boolean {
  const magic = Buffer.from(head.subarray(0, CPIO_MAGIC_SIZE)).toString('latin1');
  return magic === CPIO_NEWC_MAGIC || magic === CPIO_CRC_MAGIC || magic === CPIO_ODC_MAGIC;
}
export const CPIO_NEWC_HEADER_SIZE = 110;
export const CPIO_ODC_HEADER_SIZE = 76;
export const CPIO_TRAILER = 'TRAILER!!!';
/** GNU cpio pads the whole archive to its 512-byte I/O block; so do we. */
export const CPIO_ARCHIVE_BLOCK = 512;

/** The 13 fields of a newc/crc header, in order; field i sits at byte 6 + 8·i. */
export const NEWC_FIELDS = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'] as const;
export type NewcField = (typeof NEWC_FIELDS)[number];
export type NewcHeader = Record<NewcField, number>;
const NEWC_FIELD_WIDTH = 8;

/** Offset and width of each odc field (octal digits). */
export const ODC_FIELDS = {
  dev: [6, 6],
  ino: [12, 6],
  mode: [18, 6],
  uid: [24, 6],
  gid: [30, 6],
  nlink: [36, 6],
  rdev: [42, 6],
  mtime: [48, 11],
  namesize: [59, 6],
  filesize: [65, 11],
} as const;
export type OdcField = keyof typeof ODC_FIELDS;
export type OdcHeader = Record<OdcField, number>;

/** A header field that is not a number in its base; the reader turns it into CORRUPT_IMAGE. */
export interface FieldError {
  field: string;
  offset: number;
  text: string;
}

/** Bytes of padding after `n` bytes to reach a multiple of 4. */
export function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function encodeNewcHeader(h: NewcHeader, magic: string = CPIO_NEWC_MAGIC): Uint8Array {
  let text = magic;
  for (const f of NEWC_FIELDS) text += h[f].toString(16).toUpperCase().padStart(NEWC_FIELD_WIDTH, '0');
  return Buffer.from(text, 'latin1');
}

/** Decodes the 110 header bytes at `at` (magic already checked); a FieldError for non-hex digits. */
export function decodeNewcHeader(bytes: Uint8Array, at = 0): NewcHeader | FieldError {
  const text = Buffer.from(bytes.subarray(at, at + CPIO_NEWC_HEADER_SIZE)).toString('latin1');
  const h = {} as NewcHeader;
  for (let i = 0; i < NEWC_FIELDS.length; i++) {
    const offset = CPIO_MAGIC_SIZE + i * NEWC_FIELD_WIDTH;
    const digits = text.slice(offset, offset + NEWC_FIELD_WIDTH);
    if (!/^[0-9a-fA-F]{8}$/.test(digits)) return { field: NEWC_FIELDS[i]!, offset, text: digits };
    h[NEWC_FIELDS[i]!] = parseInt(digits, 16);
  }
  return h;
}

/** Decodes the 76 header bytes at `at` (magic already checked); a FieldError for non-octal digits. */
export function decodeOdcHeader(bytes: Uint8Array, at = 0): OdcHeader | FieldError {
  const text = Buffer.from(bytes.subarray(at, at + CPIO_ODC_HEADER_SIZE)).toString('latin1');
  const h = {} as OdcHeader;
  for (const [field, [offset, width]] of Object.entries(ODC_FIELDS) as Array<[OdcField, readonly [number, number]]>) {
    const digits = text.slice(offset, offset + width);
    if (!/^[0-7]+$/.test(digits) || digits.length !== width) return { field, offset, text: digits };
    h[field] = parseInt(digits, 8);
  }
  return h;
}

export function isFieldError(h: object): h is FieldError {
  return 'field' in h;
}

/**
 * The major and minor numbers packed in an odc `rdev` (18 bits at most): the classic
 * `major << 8 | minor` that glibc's makedev gives for major < 4096 and minor < 256.
 */
export function splitOdcRdev(rdev: number): { major: number; minor: number } {
  return { major: rdev >>> 8, minor: rdev & 0xff };
}
