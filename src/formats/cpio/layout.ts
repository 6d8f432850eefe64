/**
 * cpio header layouts. newc ("070701") and crc ("070702"): 110 bytes, 13 eight-digit hex fields,
 * then the NUL-terminated name, padded so that name and data each start on a 4-byte boundary.
 * odc ("070707"): 76 bytes of octal fields, no padding.
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
export const NEWC_MAGIC = '070701';
export const CRC_MAGIC = '070702';
export const ODC_MAGIC = '070707';
export const NEWC_HEADER = 110;
export const ODC_HEADER = 76;
export const TRAILER = 'TRAILER!!!';
/** GNU cpio pads the whole archive to its 512-byte I/O block. */
export const ARCHIVE_BLOCK = 512;

export const NEWC_FIELDS = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'] as const;
export type NewcField = (typeof NEWC_FIELDS)[number];
export type NewcHeader = Record<NewcField, number>;

export const ODC_FIELDS: Array<[string, number, number]> = [
  ['dev', 6, 6],
  ['ino', 12, 6],
  ['mode', 18, 6],
  ['uid', 24, 6],
  ['gid', 30, 6],
  ['nlink', 36, 6],
  ['rdev', 42, 6],
  ['mtime', 48, 11],
  ['namesize', 59, 6],
  ['filesize', 65, 11],
];

export function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function encodeNewcHeader(h: NewcHeader, magic = NEWC_MAGIC): Uint8Array {
  let text = magic;
  for (const f of NEWC_FIELDS) text += h[f].toString(16).toUpperCase().padStart(8, '0');
  return Buffer.from(text, 'latin1');
}
