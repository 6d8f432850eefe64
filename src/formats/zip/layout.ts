/**
 * Zip structures (PKWARE APPNOTE.TXT 6.3.x), shared by the reader (diff, ls) and the
 * normalizer, which also writes them: the end of central directory record and its zip64
 * forms, central directory headers, local headers and the extra fields that carry times and
 * owners. Decoders check every length against the bytes they were given and throw a
 * ReprimageError naming the archive; encoders write exactly the fields they are given.
 */
import { corruptError, ReprimageError, truncatedError } from '../../errors.js';

export const ZIP_LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const ZIP_CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const ZIP_EOCD_SIGNATURE = 0x06054b50;
export const ZIP64_EOCD_SIGNATURE = 0x06064b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const ZIP_DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;

export const ZIP_LOCAL_HEADER_SIZE = 30;
export const ZIP_CENTRAL_HEADER_SIZE = 46;
export const ZIP_EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;
/** The longest comment an EOCD can announce, so the farthest back the record can start. */
export const ZIP_EOCD_SEARCH = ZIP_EOCD_SIZE + 0xffff;

/** General purpose flag bits (APPNOTE 4.4.4). */
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** Compression method names (APPNOTE 4.4.5) for messages and listings. */
export const ZIP_METHODS: Record<number, string> = { 0: 'stored', 8: 'deflated', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz' };

/** Host system byte of "version made by" (APPNOTE 4.4.2): 3 = UNIX, whose attributes hold st_mode. */
export const HOST_UNIX = 3;

/** Extra field ids (APPNOTE 4.5, Info-ZIP extrafld.txt). */
export const EXTRA_ZIP64 = 0x0001;
export const EXTRA_NTFS = 0x000a;
export const EXTRA_PKWARE_UNIX = 0x000d;
export const EXTRA_EXTENDED_TIMESTAMP = 0x5455; // "UT"
export const EXTRA_INFOZIP_UNIX_OLD = 0x5855; // "UX"
export const EXTRA_INFOZIP_UNIX_2 = 0x7855; // "Ux"
export const EXTRA_INFOZIP_UNIX_NEW = 0x7875; // "ux"

const EOCD_FIELDS = { signature: 0, disk: 4, cdDisk: 6, entriesOnDisk: 8, entries: 10, cdSize: 12, cdOffset: 16, commentLength: 20 } as const;
const ZIP64_EOCD_FIELDS = {
  signature: 0, recordSize: 4, versionMadeBy: 12, versionNeeded: 14, disk: 16, cdDisk: 20,
  entriesOnDisk: 24, entries: 32, cdSize: 40, cdOffset: 48,
} as const;
const LOCATOR_FIELDS = { signature: 0, eocdDisk: 4, eocdOffset: 8, disks: 16 } as const;
const CENTRAL_FIELDS = {
  signature: 0, versionMadeBy: 4, hostSystem: 5, versionNeeded: 6, flags: 8, method: 10, dosTime: 12, dosDate: 14,
  crc32: 16, compressedSize: 20, uncompressedSize: 24, nameLength: 28, extraLength: 30, commentLength: 32,
  diskStart: 34, internalAttributes: 36, externalAttributes: 38, localHeaderOffset: 42,
} as const;
const LOCAL_FIELDS = {
  signature: 0, versionNeeded: 4, flags: 6, method: 8, dosTime: 10, dosDate: 12, crc32: 14,
  compressedSize: 18, uncompressedSize: 22, nameLength: 26, extraLength: 28,
} as const;

export interface EndOfCentralDirectory {
  disk: number;
  cdDisk: number;
  entriesOnDisk: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
  comment: Uint8Array;
}

export interface Zip64EndOfCentralDirectory {
  versionMadeBy: number;
  versionNeeded: number;
  disk: number;
  cdDisk: number;
  entriesOnDisk: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
}

export interface CentralHeader {
  versionMadeBy: number;
  hostSystem: number;
  versionNeeded: number;
  flags: number;
  method: number;
  dosTime: number;
  dosDate: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  diskStart: number;
  internalAttributes: number;
  externalAttributes: number;
  localHeaderOffset: number;
  name: Uint8Array;
  extra: Uint8Array;
  comment: Uint8Array;
}

export interface LocalHeader {
  versionNeeded: number;
  flags: number;
  method: number;
  dosTime: number;
  dosDate: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  nameLength: number;
  extraLength: number;
}

function view(bytes: Uint8Array, at: number, length: number): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset + at, length);
}

/** A u64 that must fit in a JavaScript number (2^53), as every real archive does. */
function safeU64(v: DataView, at: number, subject: string, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ReprimageError('OVERFLOW', subject, `${what} ${n} is beyond any real file size`);
  return Number(n);
}

export function decodeEocd(bytes: Uint8Array, at: number, subject: string): EndOfCentralDirectory {
  if (bytes.length - at < ZIP_EOCD_SIZE) throw truncatedError(subject, 'zip end of central directory', at, ZIP_EOCD_SIZE - (bytes.length - at));
  const v = view(bytes, at, ZIP_EOCD_SIZE);
  const commentLength = v.getUint16(EOCD_FIELDS.commentLength, true);
  const start = at + ZIP_EOCD_SIZE;
  if (bytes.length - start < commentLength) throw truncatedError(subject, 'zip archive comment', start, commentLength - (bytes.length - start));
  return {
    disk: v.getUint16(EOCD_FIELDS.disk, true),
    cdDisk: v.getUint16(EOCD_FIELDS.cdDisk, true),
    entriesOnDisk: v.getUint16(EOCD_FIELDS.entriesOnDisk, true),
    entries: v.getUint16(EOCD_FIELDS.entries, true),
    cdSize: v.getUint32(EOCD_FIELDS.cdSize, true),
    cdOffset: v.getUint32(EOCD_FIELDS.cdOffset, true),
    comment: bytes.slice(start, start + commentLength),
  };
}

export function encodeEocd(e: EndOfCentralDirectory): Uint8Array {
  const out = new Uint8Array(ZIP_EOCD_SIZE + e.comment.length);
  const v = view(out, 0, ZIP_EOCD_SIZE);
  v.setUint32(EOCD_FIELDS.signature, ZIP_EOCD_SIGNATURE, true);
  v.setUint16(EOCD_FIELDS.disk, e.disk, true);
  v.setUint16(EOCD_FIELDS.cdDisk, e.cdDisk, true);
  v.setUint16(EOCD_FIELDS.entriesOnDisk, e.entriesOnDisk, true);
  v.setUint16(EOCD_FIELDS.entries, e.entries, true);
  v.setUint32(EOCD_FIELDS.cdSize, e.cdSize, true);
  v.setUint32(EOCD_FIELDS.cdOffset, e.cdOffset, true);
  v.setUint16(EOCD_FIELDS.commentLength, e.comment.length, true);
  out.set(e.comment, ZIP_EOCD_SIZE);
  return out;
}

/** The zip64 EOCD locator's pointer to the zip64 record, or undefined if `bytes` holds no locator. */
export function decodeZip64Locator(bytes: Uint8Array, at: number, subject: string): { eocdOffset: number; disks: number } | undefined {
  if (at < 0 || bytes.length - at < ZIP64_LOCATOR_SIZE) return undefined;
  const v = view(bytes, at, ZIP64_LOCATOR_SIZE);
  if (v.getUint32(LOCATOR_FIELDS.signature, true) !== ZIP64_LOCATOR_SIGNATURE) return undefined;
  return { eocdOffset: safeU64(v, LOCATOR_FIELDS.eocdOffset, subject, 'zip64 end of central directory offset'), disks: v.getUint32(LOCATOR_FIELDS.disks, true) };
}

export function encodeZip64Locator(eocdOffset: number): Uint8Array {
  const out = new Uint8Array(ZIP64_LOCATOR_SIZE);
  const v = view(out, 0, ZIP64_LOCATOR_SIZE);
  v.setUint32(LOCATOR_FIELDS.signature, ZIP64_LOCATOR_SIGNATURE, true);
  v.setUint32(LOCATOR_FIELDS.eocdDisk, 0, true);
  v.setBigUint64(LOCATOR_FIELDS.eocdOffset, BigInt(eocdOffset), true);
  v.setUint32(LOCATOR_FIELDS.disks, 1, true);
  return out;
}

export function decodeZip64Eocd(bytes: Uint8Array, at: number, subject: string): Zip64EndOfCentralDirectory {
  if (at < 0 || bytes.length - at < ZIP64_EOCD_SIZE) throw truncatedError(subject, 'zip64 end of central directory', Math.max(at, 0), ZIP64_EOCD_SIZE);
  const v = view(bytes, at, ZIP64_EOCD_SIZE);
  if (v.getUint32(ZIP64_EOCD_FIELDS.signature, true) !== ZIP64_EOCD_SIGNATURE) {
    throw corruptError(subject, 'zip64 end of central directory', at, 'bad signature');
  }
  return {
    versionMadeBy: v.getUint16(ZIP64_EOCD_FIELDS.versionMadeBy, true),
    versionNeeded: v.getUint16(ZIP64_EOCD_FIELDS.versionNeeded, true),
    disk: v.getUint32(ZIP64_EOCD_FIELDS.disk, true),
    cdDisk: v.getUint32(ZIP64_EOCD_FIELDS.cdDisk, true),
    entriesOnDisk: safeU64(v, ZIP64_EOCD_FIELDS.entriesOnDisk, subject, 'zip64 entry count'),
    entries: safeU64(v, ZIP64_EOCD_FIELDS.entries, subject, 'zip64 entry count'),
    cdSize: safeU64(v, ZIP64_EOCD_FIELDS.cdSize, subject, 'zip64 central directory size'),
    cdOffset: safeU64(v, ZIP64_EOCD_FIELDS.cdOffset, subject, 'zip64 central directory offset'),
  };
}

export function encodeZip64Eocd(e: Zip64EndOfCentralDirectory): Uint8Array {
  const out = new Uint8Array(ZIP64_EOCD_SIZE);
  const v = view(out, 0, ZIP64_EOCD_SIZE);
  v.setUint32(ZIP64_EOCD_FIELDS.signature, ZIP64_EOCD_SIGNATURE, true);
  v.setBigUint64(ZIP64_EOCD_FIELDS.recordSize, BigInt(ZIP64_EOCD_SIZE - 12), true);
  v.setUint16(ZIP64_EOCD_FIELDS.versionMadeBy, e.versionMadeBy, true);
  v.setUint16(ZIP64_EOCD_FIELDS.versionNeeded, e.versionNeeded, true);
  v.setUint32(ZIP64_EOCD_FIELDS.disk, e.disk, true);
  v.setUint32(ZIP64_EOCD_FIELDS.cdDisk, e.cdDisk, true);
  v.setBigUint64(ZIP64_EOCD_FIELDS.entriesOnDisk, BigInt(e.entriesOnDisk), true);
  v.setBigUint64(ZIP64_EOCD_FIELDS.entries, BigInt(e.entries), true);
  v.setBigUint64(ZIP64_EOCD_FIELDS.cdSize, BigInt(e.cdSize), true);
  v.setBigUint64(ZIP64_EOCD_FIELDS.cdOffset, BigInt(e.cdOffset), true);
  return out;
}

/** One central directory header at `at`; returns it and the offset just after it. */
export function decodeCentralHeader(bytes: Uint8Array, at: number, subject: string): { header: CentralHeader; next: number } {
  if (bytes.length - at < ZIP_CENTRAL_HEADER_SIZE) throw truncatedError(subject, 'zip central directory header', at, ZIP_CENTRAL_HEADER_SIZE - (bytes.length - at));
  const v = view(bytes, at, ZIP_CENTRAL_HEADER_SIZE);
  if (v.getUint32(CENTRAL_FIELDS.signature, true) !== ZIP_CENTRAL_HEADER_SIGNATURE) {
    throw corruptError(subject, 'zip central directory header', at, 'bad signature');
  }
  const nameLength = v.getUint16(CENTRAL_FIELDS.nameLength, true);
  const extraLength = v.getUint16(CENTRAL_FIELDS.extraLength, true);
  const commentLength = v.getUint16(CENTRAL_FIELDS.commentLength, true);
  const end = at + ZIP_CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  if (end > bytes.length) throw truncatedError(subject, 'zip central directory header', at, end - bytes.length);
  let p = at + ZIP_CENTRAL_HEADER_SIZE;
  const name = bytes.slice(p, (p += nameLength));
  const extra = bytes.slice(p, (p += extraLength));
  const comment = bytes.slice(p, (p += commentLength));
  return {
    header: {
      versionMadeBy: v.getUint8(CENTRAL_FIELDS.versionMadeBy),
      hostSystem: v.getUint8(CENTRAL_FIELDS.hostSystem),
      versionNeeded: v.getUint16(CENTRAL_FIELDS.versionNeeded, true),
      flags: v.getUint16(CENTRAL_FIELDS.flags, true),
      method: v.getUint16(CENTRAL_FIELDS.method, true),
      dosTime: v.getUint16(CENTRAL_FIELDS.dosTime, true),
      dosDate: v.getUint16(CENTRAL_FIELDS.dosDate, true),
      crc32: v.getUint32(CENTRAL_FIELDS.crc32, true),
      compressedSize: v.getUint32(CENTRAL_FIELDS.compressedSize, true),
      uncompressedSize: v.getUint32(CENTRAL_FIELDS.uncompressedSize, true),
      diskStart: v.getUint16(CENTRAL_FIELDS.diskStart, true),
      internalAttributes: v.getUint16(CENTRAL_FIELDS.internalAttributes, true),
      externalAttributes: v.getUint32(CENTRAL_FIELDS.externalAttributes, true),
      localHeaderOffset: v.getUint32(CENTRAL_FIELDS.localHeaderOffset, true),
      name,
      extra,
      comment,
    },
    next: end,
  };
}

/** Sizes and offset must already be the 32-bit values (0xffffffff where zip64 holds them). */
export function encodeCentralHeader(h: CentralHeader): Uint8Array {
  const out = new Uint8Array(ZIP_CENTRAL_HEADER_SIZE + h.name.length + h.extra.length + h.comment.length);
  const v = view(out, 0, ZIP_CENTRAL_HEADER_SIZE);
  v.setUint32(CENTRAL_FIELDS.signature, ZIP_CENTRAL_HEADER_SIGNATURE, true);
  v.setUint8(CENTRAL_FIELDS.versionMadeBy, h.versionMadeBy);
  v.setUint8(CENTRAL_FIELDS.hostSystem, h.hostSystem);
  v.setUint16(CENTRAL_FIELDS.versionNeeded, h.versionNeeded, true);
  v.setUint16(CENTRAL_FIELDS.flags, h.flags, true);
  v.setUint16(CENTRAL_FIELDS.method, h.method, true);
  v.setUint16(CENTRAL_FIELDS.dosTime, h.dosTime, true);
  v.setUint16(CENTRAL_FIELDS.dosDate, h.dosDate, true);
  v.setUint32(CENTRAL_FIELDS.crc32, h.crc32, true);
  v.setUint32(CENTRAL_FIELDS.compressedSize, h.compressedSize, true);
  v.setUint32(CENTRAL_FIELDS.uncompressedSize, h.uncompressedSize, true);
  v.setUint16(CENTRAL_FIELDS.nameLength, h.name.length, true);
  v.setUint16(CENTRAL_FIELDS.extraLength, h.extra.length, true);
  v.setUint16(CENTRAL_FIELDS.commentLength, h.comment.length, true);
  v.setUint16(CENTRAL_FIELDS.diskStart, h.diskStart, true);
  v.setUint16(CENTRAL_FIELDS.internalAttributes, h.internalAttributes, true);
  v.setUint32(CENTRAL_FIELDS.externalAttributes, h.externalAttributes, true);
  v.setUint32(CENTRAL_FIELDS.localHeaderOffset, h.localHeaderOffset, true);
  let p = ZIP_CENTRAL_HEADER_SIZE;
  out.set(h.name, p);
  out.set(h.extra, (p += h.name.length));
  out.set(h.comment, p + h.extra.length);
  return out;
}

export function decodeLocalHeader(bytes: Uint8Array, at: number, subject: string): LocalHeader {
  if (bytes.length - at < ZIP_LOCAL_HEADER_SIZE) throw truncatedError(subject, 'zip local header', at, ZIP_LOCAL_HEADER_SIZE - (bytes.length - at));
  const v = view(bytes, at, ZIP_LOCAL_HEADER_SIZE);
  if (v.getUint32(LOCAL_FIELDS.signature, true) !== ZIP_LOCAL_HEADER_SIGNATURE) throw corruptError(subject, 'zip local header', at, 'bad signature');
  return {
    versionNeeded: v.getUint16(LOCAL_FIELDS.versionNeeded, true),
    flags: v.getUint16(LOCAL_FIELDS.flags, true),
    method: v.getUint16(LOCAL_FIELDS.method, true),
    dosTime: v.getUint16(LOCAL_FIELDS.dosTime, true),
    dosDate: v.getUint16(LOCAL_FIELDS.dosDate, true),
    crc32: v.getUint32(LOCAL_FIELDS.crc32, true),
    compressedSize: v.getUint32(LOCAL_FIELDS.compressedSize, true),
    uncompressedSize: v.getUint32(LOCAL_FIELDS.uncompressedSize, true),
    nameLength: v.getUint16(LOCAL_FIELDS.nameLength, true),
    extraLength: v.getUint16(LOCAL_FIELDS.extraLength, true),
  };
}

export function encodeLocalHeader(h: Omit<LocalHeader, 'nameLength' | 'extraLength'>, name: Uint8Array, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(ZIP_LOCAL_HEADER_SIZE + name.length + extra.length);
  const v = view(out, 0, ZIP_LOCAL_HEADER_SIZE);
  v.setUint32(LOCAL_FIELDS.signature, ZIP_LOCAL_HEADER_SIGNATURE, true);
  v.setUint16(LOCAL_FIELDS.versionNeeded, h.versionNeeded, true);
  v.setUint16(LOCAL_FIELDS.flags, h.flags, true);
  v.setUint16(LOCAL_FIELDS.method, h.method, true);
  v.setUint16(LOCAL_FIELDS.dosTime, h.dosTime, true);
  v.setUint16(LOCAL_FIELDS.dosDate, h.dosDate, true);
  v.setUint32(LOCAL_FIELDS.crc32, h.crc32, true);
  v.setUint32(LOCAL_FIELDS.compressedSize, h.compressedSize, true);
  v.setUint32(LOCAL_FIELDS.uncompressedSize, h.uncompressedSize, true);
  v.setUint16(LOCAL_FIELDS.nameLength, name.length, true);
  v.setUint16(LOCAL_FIELDS.extraLength, extra.length, true);
  out.set(name, ZIP_LOCAL_HEADER_SIZE);
  out.set(extra, ZIP_LOCAL_HEADER_SIZE + name.length);
  return out;
}

/** A data descriptor with its signature; 8-byte sizes when `zip64`. */
export function encodeDataDescriptor(crc: number, compressedSize: number, uncompressedSize: number, zip64: boolean): Uint8Array {
  const out = new Uint8Array(zip64 ? 24 : 16);
  const v = view(out, 0, out.length);
  v.setUint32(0, ZIP_DATA_DESCRIPTOR_SIGNATURE, true);
  v.setUint32(4, crc, true);
  if (zip64) {
    v.setBigUint64(8, BigInt(compressedSize), true);
    v.setBigUint64(16, BigInt(uncompressedSize), true);
  } else {
    v.setUint32(8, compressedSize, true);
    v.setUint32(12, uncompressedSize, true);
  }
  return out;
}

export interface ExtraField {
  id: number;
  data: Uint8Array;
}

/**
 * Splits an extra field area into its (id, data) records. Bytes after the last whole record
 * (old zipalign pads with zeros) come back as `rest`, to be kept as they are.
 */
export function splitExtra(extra: Uint8Array): { fields: ExtraField[]; rest: Uint8Array } {
  const fields: ExtraField[] = [];
  let p = 0;
  while (extra.length - p >= 4) {
    const id = extra[p]! | (extra[p + 1]! << 8);
    const length = extra[p + 2]! | (extra[p + 3]! << 8);
    if (p + 4 + length > extra.length) break;
    fields.push({ id, data: extra.subarray(p + 4, p + 4 + length) });
    p += 4 + length;
  }
  return { fields, rest: extra.subarray(p) };
}

export function joinExtra(fields: readonly ExtraField[], rest: Uint8Array = new Uint8Array(0)): Uint8Array {
  let size = rest.length;
  for (const f of fields) size += 4 + f.data.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const f of fields) {
    out[p] = f.id & 0xff;
    out[p + 1] = f.id >> 8;
    out[p + 2] = f.data.length & 0xff;
    out[p + 3] = f.data.length >> 8;
    out.set(f.data, p + 4);
    p += 4 + f.data.length;
  }
  out.set(rest, p);
  return out;
}

/**
 * Reads the zip64 extended information of a central header: each value whose 32-bit field is
 * saturated comes from the 0x0001 record, in APPNOTE order (size, compressed size, offset, disk).
 */
export function applyZip64Extra(h: CentralHeader, subject: string): void {
  const wantU = h.uncompressedSize === 0xffffffff;
  const wantC = h.compressedSize === 0xffffffff;
  const wantO = h.localHeaderOffset === 0xffffffff;
  const wantD = h.diskStart === 0xffff;
  if (!wantU && !wantC && !wantO && !wantD) return;
  const record = splitExtra(h.extra).fields.find((f) => f.id === EXTRA_ZIP64);
  const need = (wantU ? 8 : 0) + (wantC ? 8 : 0) + (wantO ? 8 : 0) + (wantD ? 4 : 0);
  if (!record || record.data.length < need) {
    throw corruptError(subject, `zip64 extra field of ${JSON.stringify(Buffer.from(h.name).toString('utf8'))}`, undefined, 'missing or too short for the values marked 0xffffffff');
  }
  const v = view(record.data, 0, record.data.length);
  let p = 0;
  const next = (what: string) => {
    const n = safeU64(v, p, subject, what);
    p += 8;
    return n;
  };
  if (wantU) h.uncompressedSize = next('uncompressed size');
  if (wantC) h.compressedSize = next('compressed size');
  if (wantO) h.localHeaderOffset = next('local header offset');
  if (wantD) h.diskStart = v.getUint32(p, true);
}

/** Seconds since the epoch → MS-DOS date and time read as UTC (2-second resolution, 1980–2107). */
export function unixToDos(seconds: number): { dosDate: number; dosTime: number } {
  const d = new Date(seconds * 1000);
  let year = d.getUTCFullYear();
  if (year < 1980) return { dosDate: (1 << 5) | 1, dosTime: 0 };
  if (year > 2107) year = 2107;
  const dosDate = ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const dosTime = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { dosDate, dosTime };
}

/** MS-DOS date and time read as UTC → seconds since the epoch (nonsense fields give nonsense, never an exception). */
export function dosToUnix(dosDate: number, dosTime: number): number {
  const ms = Date.UTC(1980 + (dosDate >> 9), ((dosDate >> 5) & 15) - 1, dosDate & 31, dosTime >> 11, (dosTime >> 5) & 63, (dosTime & 31) * 2);
  return Math.floor(ms / 1000);
}
