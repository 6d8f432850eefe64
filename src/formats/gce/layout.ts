/**
 * The one member of a GCE image tarball: `disk.raw` as an old-GNU sparse member, which is what
 * Google documents (`tar --format=oldgnu -Sczf image.tar.gz disk.raw`):
 *
 *   header (typeflag 'S'): 4 sparse entries at 386, isextended at 482, realsize at 483
 *   extension blocks: 21 entries each, isextended at 504
 *   the data runs, one after the other, padded to 512 bytes; two zero blocks; padding to 10 KiB
 *
 * An entry is (offset, length) of a run of data in the file, each a 12-byte octal field (or
 * base-256 for values of 8 GiB and more, as GNU tar writes them). A file that ends in a hole
 * ends its map with (size, 0).
 */
export const GCE_MEMBER_NAME = 'disk.raw';
export const TAR_BLOCK = 512;
export const TAR_RECORD = 20 * TAR_BLOCK;
export const OLDGNU_FIELDS = {
  name: 0, mode: 100, uid: 108, gid: 116, size: 124, mtime: 136, chksum: 148, typeflag: 156, magic: 257, uname: 265, gname: 297,
  sparse: 386, isextended: 482, realsize: 483,
} as const;
export const OLDGNU_HEADER_ENTRIES = 4;
export const OLDGNU_EXTENSION_ENTRIES = 21;
export const OLDGNU_EXTENSION_ISEXTENDED = 504;

export interface DataRun {
  offset: number;
  length: number;
}

/** A 12-byte (or `width`) numeric field: octal with a NUL when it fits, else base-256. */
export function putTarNumber(block: Uint8Array, at: number, width: number, value: number): void {
  const octal = value.toString(8);
  if (octal.length <= width - 1) {
    const text = octal.padStart(width - 1, '0');
    for (let i = 0; i < text.length; i++) block[at + i] = text.charCodeAt(i);
    block[at + width - 1] = 0;
    return;
  }
  // base-256: the high bit of the first byte set, the value big-endian in the rest
  let v = BigInt(value);
  for (let i = width - 1; i >= 1; i--) {
    block[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[at] = 0x80;
}

function putText(block: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) block[at + i] = text.charCodeAt(i);
}

/** The member's header and extension blocks for a map of data runs. */
export function encodeOldGnuSparseHeaders(o: { name: string; mode: number; mtime: number; realSize: number; map: readonly DataRun[] }): Uint8Array {
  const F = OLDGNU_FIELDS;
  const extensions = Math.max(0, Math.ceil((o.map.length - OLDGNU_HEADER_ENTRIES) / OLDGNU_EXTENSION_ENTRIES));
  const out = new Uint8Array(TAR_BLOCK * (1 + extensions));
  const header = out.subarray(0, TAR_BLOCK);
  putText(header, F.name, o.name);
  putTarNumber(header, F.mode, 8, o.mode);
  putTarNumber(header, F.uid, 8, 0);
  putTarNumber(header, F.gid, 8, 0);
  putTarNumber(header, F.size, 12, o.map.reduce((n, r) => n + r.length, 0));
  putTarNumber(header, F.mtime, 12, o.mtime);
  header[F.typeflag] = 0x53; // 'S'
  putText(header, F.magic, 'ustar  \0');
  putText(header, F.uname, 'root');
  putText(header, F.gname, 'root');
  const put = (block: Uint8Array, at: number, r: DataRun) => {
    putTarNumber(block, at, 12, r.offset);
    putTarNumber(block, at + 12, 12, r.length);
  };
  o.map.slice(0, OLDGNU_HEADER_ENTRIES).forEach((r, i) => put(header, F.sparse + i * 24, r));
  header[F.isextended] = extensions > 0 ? 1 : 0;
  putTarNumber(header, F.realsize, 12, o.realSize);
  for (let e = 0; e < extensions; e++) {
    const block = out.subarray(TAR_BLOCK * (1 + e), TAR_BLOCK * (2 + e));
    const first = OLDGNU_HEADER_ENTRIES + e * OLDGNU_EXTENSION_ENTRIES;
    o.map.slice(first, first + OLDGNU_EXTENSION_ENTRIES).forEach((r, i) => put(block, i * 24, r));
    block[OLDGNU_EXTENSION_ISEXTENDED] = e + 1 < extensions ? 1 : 0;
  }
  // the checksum: the header's bytes summed with the checksum field as spaces, as 6 octal digits, NUL, space
  header.fill(0x20, F.chksum, F.chksum + 8);
  const sum = header.reduce((s, b) => s + b, 0);
  putText(header, F.chksum, `${sum.toString(8).padStart(6, '0')}\0 `);
  return out;
}
