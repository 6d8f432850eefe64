/**
 * The one zip reader (jar, apk, whl, epub, odf, zip64 …), used by `diff` and `ls` through
 * `openZip` and by the normalizer through `readZipDirectory`. It reads the central directory and
 * every local header, checking everything against the file: the end record must end the file,
 * headers must lie inside the entry area, entries must not overlap (the trick of non-recursive
 * zip bombs), declared sizes must be possible (stored sizes agree, deflate expands at most
 * 1032:1). Contents are stored or deflated; other methods are UNSUPPORTED when read.
 */
import { createInflateRaw } from 'node:zlib';
import { Readable } from 'node:stream';
import { corruptError, ReprimageError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { rangeContent, streamContent, type Content } from '../../tree/content.js';
import { nameFromBytes } from '../../tree/names.js';
import {
  applyZip64Extra, decodeCentralHeader, decodeEocd, decodeLocalHeader, decodeZip64Eocd, decodeZip64Locator,
  FLAG_ENCRYPTED, METHOD_DEFLATED, METHOD_STORED, ZIP64_EOCD_SIZE, ZIP64_LOCATOR_SIZE, ZIP_CENTRAL_HEADER_SIZE,
  ZIP_EOCD_SEARCH, ZIP_EOCD_SIZE, ZIP_LOCAL_HEADER_SIGNATURE, ZIP_EOCD_SIGNATURE, ZIP_LOCAL_HEADER_SIZE, ZIP_METHODS,
  type CentralHeader, type LocalHeader, type Zip64EndOfCentralDirectory,
} from './layout.js';

/** Deflate cannot expand data more than 1032:1; a declared ratio above that is a lie. */
export const MAX_DEFLATE_RATIO = 1032;
/** A central directory larger than this is refused as hostile. */
const MAX_CENTRAL_DIRECTORY = 1 << 30;

/** One entry as stored: its central header (zip64 values applied) and its local header. */
export interface ZipDirectoryEntry {
  cd: CentralHeader;
  local: LocalHeader;
  localName: Uint8Array;
  localExtra: Uint8Array;
  /** Absolute position of the local header and of the data in the file. */
  localAt: number;
  dataAt: number;
  /** The name decoded as UTF-8 (what the normalizer sorts and matches on). */
  name: string;
}

export interface ZipDirectory {
  /** Where the first entry starts (bytes before it are a self-extractor stub or a shebang). */
  prefix: number;
  /** Offsets in the archive are positions in the file minus this (non-zero for self-extractors). */
  shift: number;
  entries: ZipDirectoryEntry[];
  comment: Uint8Array;
  zip64: Zip64EndOfCentralDirectory | undefined;
  /** Whether an APK Signing Block sits before the central directory. */
  apkSigned: boolean;
}

/** Reads the central directory and every local header, checking bounds, overlaps and sizes. */
export async function readZipDirectory(source: RandomAccessSource, subject = source.name): Promise<ZipDirectory> {
  const size = source.size;
  if (size < ZIP_EOCD_SIZE) throw new ReprimageError('TRUNCATED', subject, `${size} bytes is too short for a zip archive`);
  const tailStart = Math.max(0, size - ZIP_EOCD_SEARCH - ZIP64_LOCATOR_SIZE);
  const tail = await source.read(tailStart, size - tailStart);
  let eocdAt = -1;
  let fallback = -1;
  for (let p = tail.length - ZIP_EOCD_SIZE; p >= 0 && tail.length - p <= ZIP_EOCD_SEARCH; p--) {
    if (tail[p] !== 0x50 || tail[p + 1] !== 0x4b || tail[p + 2] !== 5 || tail[p + 3] !== 6) continue;
    const commentLength = tail[p + 20]! | (tail[p + 21]! << 8);
    if (p + ZIP_EOCD_SIZE + commentLength === tail.length) {
      eocdAt = p;
      break;
    }
    if (fallback < 0 && p + ZIP_EOCD_SIZE + commentLength < tail.length) fallback = p;
  }
  if (eocdAt < 0) {
    if (fallback >= 0) {
      const e = decodeEocd(tail, fallback, subject);
      const extra = tail.length - fallback - ZIP_EOCD_SIZE - e.comment.length;
      throw corruptError(subject, 'zip archive', tailStart + fallback, `${extra} bytes follow the end of central directory record`);
    }
    throw corruptError(subject, 'zip archive', undefined, 'no end of central directory record');
  }
  const eocd = decodeEocd(tail, eocdAt, subject);
  const eocdPos = tailStart + eocdAt;
  let { entries, cdSize, cdOffset, disk, cdDisk } = eocd;
  let cdEnd = eocdPos;
  let zip64: Zip64EndOfCentralDirectory | undefined;
  const locator = decodeZip64Locator(tail, eocdAt - ZIP64_LOCATOR_SIZE, subject);
  if (locator) {
    if (locator.disks > 1) throw new ReprimageError('UNSUPPORTED', subject, 'multi-disk (split) zip archives are not supported');
    if (locator.eocdOffset + ZIP64_EOCD_SIZE > eocdPos - ZIP64_LOCATOR_SIZE) throw corruptError(subject, 'zip64 end of central directory locator', eocdPos - ZIP64_LOCATOR_SIZE, 'points past itself');
    zip64 = decodeZip64Eocd(await source.read(locator.eocdOffset, ZIP64_EOCD_SIZE), 0, subject);
    ({ entries, cdSize, cdOffset, disk, cdDisk } = zip64);
    cdEnd = locator.eocdOffset;
  }
  if (disk !== 0 || cdDisk !== 0) throw new ReprimageError('UNSUPPORTED', subject, 'multi-disk (split) zip archives are not supported');
  if (!zip64 && eocd.entriesOnDisk !== eocd.entries) {
    throw corruptError(subject, 'zip end of central directory', eocdPos, `${eocd.entries} entries in all but ${eocd.entriesOnDisk} on its only disk`);
  }
  const cdStart = cdEnd - cdSize;
  if (cdStart < 0) throw corruptError(subject, 'zip end of central directory', eocdPos, `central directory size ${cdSize} is larger than the archive`);
  const shift = cdStart - cdOffset;
  if (shift < 0) throw new ReprimageError('OUT_OF_BOUNDS', subject, `central directory offset ${cdOffset} in the end record at byte ${eocdPos} is past its real position ${cdStart}`);
  if (entries * ZIP_CENTRAL_HEADER_SIZE > cdSize) {
    throw corruptError(subject, 'zip end of central directory', eocdPos, `${entries} entries cannot fit in a ${cdSize}-byte central directory`);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY) throw new ReprimageError('OVERFLOW', subject, `central directory of ${cdSize} bytes is larger than reprimage reads`);
  const cd = await source.read(cdStart, cdSize);
  const headers: CentralHeader[] = [];
  let p = 0;
  for (let i = 0; i < entries; i++) {
    const { header, next } = decodeCentralHeader(cd, p, subject);
    applyZip64Extra(header, subject);
    if (header.diskStart !== 0) throw new ReprimageError('UNSUPPORTED', subject, 'multi-disk (split) zip archives are not supported');
    headers.push(header);
    p = next;
  }
  if (p !== cdSize) throw corruptError(subject, 'zip central directory', cdStart + p, `${cdSize - p} bytes left after the ${entries} entries the end record announces`);

  const parsed: ZipDirectoryEntry[] = [];
  for (const cdh of headers) {
    const name = nameFromBytes(cdh.name);
    const localAt = cdh.localHeaderOffset + shift;
    if (localAt + ZIP_LOCAL_HEADER_SIZE > cdStart) throw corruptError(subject, `zip entry ${JSON.stringify(name)}`, localAt, 'local header offset is outside the entry area');
    const local = decodeLocalHeader(await source.read(localAt, ZIP_LOCAL_HEADER_SIZE), 0, subject);
    const varLength = local.nameLength + local.extraLength;
    if (localAt + ZIP_LOCAL_HEADER_SIZE + varLength > cdStart) throw corruptError(subject, `zip entry ${JSON.stringify(name)}`, localAt, 'local header runs into the central directory');
    const variable = await source.read(localAt + ZIP_LOCAL_HEADER_SIZE, varLength);
    const dataAt = localAt + ZIP_LOCAL_HEADER_SIZE + varLength;
    if (dataAt + cdh.compressedSize > cdStart) {
      throw corruptError(subject, `zip entry ${JSON.stringify(name)}`, dataAt, `${cdh.compressedSize} bytes of data run past the entry area`);
    }
    checkDeclaredSizes(cdh, name, subject);
    parsed.push({ cd: cdh, local, localName: variable.slice(0, local.nameLength), localExtra: variable.slice(local.nameLength), localAt, dataAt, name });
  }
  // Entries sharing bytes are the trick of non-recursive zip bombs; no honest tool writes them.
  const byPosition = [...parsed].sort((a, b) => a.localAt - b.localAt);
  for (let i = 1; i < byPosition.length; i++) {
    const prev = byPosition[i - 1]!;
    const cur = byPosition[i]!;
    if (cur.localAt < prev.dataAt + prev.cd.compressedSize) {
      throw corruptError(subject, 'zip archive', cur.localAt, `entries ${JSON.stringify(prev.name)} and ${JSON.stringify(cur.name)} overlap`);
    }
  }
  const prefix = byPosition.length > 0 ? byPosition[0]!.localAt : cdStart;
  const apkSigned = cdStart >= 16 && Buffer.from(await source.read(cdStart - 16, 16)).toString('latin1') === 'APK Sig Block 42';
  return { prefix, shift, entries: parsed, comment: eocd.comment, zip64, apkSigned };
}

function checkDeclaredSizes(h: CentralHeader, name: string, subject: string): void {
  if (h.flags & FLAG_ENCRYPTED) return;
  if (h.method === METHOD_STORED && h.compressedSize !== h.uncompressedSize) {
    throw corruptError(subject, `zip entry ${JSON.stringify(name)}`, undefined, `stored entry declares ${h.uncompressedSize} bytes but holds ${h.compressedSize}`);
  }
  if (h.method === METHOD_DEFLATED && h.uncompressedSize > h.compressedSize * MAX_DEFLATE_RATIO + 1024) {
    throw new ReprimageError(
      'OVERFLOW',
      subject,
      `zip entry ${JSON.stringify(name)} declares ${h.uncompressedSize} bytes from ${h.compressedSize} compressed, beyond deflate's ${MAX_DEFLATE_RATIO}:1 limit (a zip bomb?)`,
    );
  }
}

/** One entry with every per-entry field zipinfo shows, for listings and the differ. */
export interface ZipEntry {
  name: string;
  /** Host system (high byte) and zip version (low byte) that made the entry. */
  versionMadeBy: number;
  versionNeeded: number;
  flags: number;
  method: number;
  /** MS-DOS time and date words, as stored. */
  dosTime: number;
  dosDate: number;
  crc32: number;
  compressedSize: number;
  size: number;
  internalAttributes: number;
  externalAttributes: number;
  localOffset: number;
  /** Extra field of the central header, and of the local header. */
  extra: Uint8Array;
  localExtra: Uint8Array;
  comment: string;
  /** Where the compressed bytes start. */
  dataOffset: number;
}

export interface ZipArchive {
  /** In central directory order. */
  entries: ZipEntry[];
  comment: string;
  /** Whether a zip64 end record was present. */
  zip64: boolean;
  /** The entry's uncompressed bytes. */
  content(entry: ZipEntry): Content;
}

export function sniffZip(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const sig = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
  return sig === ZIP_LOCAL_HEADER_SIGNATURE || sig === ZIP_EOCD_SIGNATURE;
}

export async function openZip(source: RandomAccessSource): Promise<ZipArchive> {
  const dir = await readZipDirectory(source);
  const entries = dir.entries.map((e): ZipEntry => ({
    // bit 11: names in UTF-8; made on Unix (host 3): the file system's bytes, kept as bytes
    // (names.ts); otherwise CP437, which agrees with Latin-1 for ASCII
    name: e.cd.flags & 0x800 || e.cd.hostSystem === 3 ? nameFromBytes(e.cd.name) : Buffer.from(e.cd.name).toString('latin1'),
    versionMadeBy: (e.cd.hostSystem << 8) | e.cd.versionMadeBy,
    versionNeeded: e.cd.versionNeeded,
    flags: e.cd.flags,
    method: e.cd.method,
    dosTime: e.cd.dosTime,
    dosDate: e.cd.dosDate,
    crc32: e.cd.crc32,
    compressedSize: e.cd.compressedSize,
    size: e.cd.uncompressedSize,
    internalAttributes: e.cd.internalAttributes,
    externalAttributes: e.cd.externalAttributes,
    localOffset: e.cd.localHeaderOffset,
    extra: e.cd.extra,
    localExtra: e.localExtra,
    comment: Buffer.from(e.cd.comment).toString('latin1'),
    dataOffset: e.dataAt,
  }));
  return {
    entries,
    comment: Buffer.from(dir.comment).toString('latin1'),
    zip64: dir.zip64 !== undefined,
    content: (entry) => entryContent(source, entry),
  };
}

function entryContent(source: RandomAccessSource, entry: ZipEntry): Content {
  const origin = `${source.name} ▸ ${entry.name}`;
  if (entry.method === METHOD_STORED) return rangeContent(source, entry.dataOffset, entry.compressedSize, origin);
  return streamContent(entry.size, origin, async function* () {
    if (entry.method !== METHOD_DEFLATED) throw new ReprimageError('UNSUPPORTED', origin, `compression method ${ZIP_METHODS[entry.method] ?? entry.method} cannot be read yet`);
    const inflate = createInflateRaw();
    const input = Readable.from(rangeContent(source, entry.dataOffset, entry.compressedSize, origin).chunks());
    input.on('error', (e) => inflate.destroy(e));
    input.pipe(inflate);
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    } catch (e) {
      if (e instanceof ReprimageError) throw e;
      throw new ReprimageError('CORRUPT_IMAGE', origin, `corrupt deflate data (${e instanceof Error ? e.message : String(e)})`);
    }
  });
}
