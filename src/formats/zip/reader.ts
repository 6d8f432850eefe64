/**
 * Reads a zip (jar, apk, …) archive through its central directory: the entries in stored order
 * with every per-entry field (the metadata zipinfo shows), and their contents (stored or deflated;
 * other methods are UNSUPPORTED when read). Zip64 sizes and offsets are followed.
 */
import { createInflateRaw } from 'node:zlib';
import { Readable } from 'node:stream';
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { rangeContent, streamContent, type Content } from '../../tree/content.js';
import {
  CENTRAL_FIELDS as C, EOCD_FIELDS as E, LOCAL_FIELDS as L, ZIP64_EOCD_FIELDS as E64, ZIP64_LOCATOR_FIELDS as LOC,
  ZIP64_EOCD_SIGNATURE, ZIP64_EOCD_SIZE, ZIP64_EXTRA_ID, ZIP64_LOCATOR_SIGNATURE, ZIP64_LOCATOR_SIZE, ZIP_CENTRAL_SIGNATURE,
  ZIP_CENTRAL_SIZE, ZIP_EOCD_SIGNATURE, ZIP_EOCD_SIZE, ZIP_LOCAL_SIGNATURE, ZIP_LOCAL_SIZE, ZIP_MAX_COMMENT, ZIP_METHODS,
} from './layout.js';

export interface ZipEntry {
  name: string;
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
  /** Extra field of the central header, and of the local header (read by `openZip`). */
  extra: Uint8Array;
  localExtra: Uint8Array;
  comment: string;
  /** Where the compressed bytes start. */
  dataOffset: number;
}

export interface ZipArchive {
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
  return sig === ZIP_LOCAL_SIGNATURE || sig === ZIP_EOCD_SIGNATURE;
}

export async function openZip(source: RandomAccessSource): Promise<ZipArchive> {
  const name = source.name;
  const tailLength = Math.min(source.size, ZIP_EOCD_SIZE + ZIP_MAX_COMMENT);
  if (tailLength < ZIP_EOCD_SIZE) throw truncatedError(name, 'zip end of central directory', 0, ZIP_EOCD_SIZE - source.size);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.length - ZIP_EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === ZIP_EOCD_SIGNATURE && i + ZIP_EOCD_SIZE + tv.getUint16(i + E.commentLength, true) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corruptError(name, 'zip archive', undefined, 'no end of central directory record');
  let entries = tv.getUint16(eocd + E.entries, true);
  let cdSize = tv.getUint32(eocd + E.cdSize, true);
  let cdOffset = tv.getUint32(eocd + E.cdOffset, true);
  const commentLength = tv.getUint16(eocd + E.commentLength, true);
  const comment = Buffer.from(tail.subarray(eocd + ZIP_EOCD_SIZE, eocd + ZIP_EOCD_SIZE + commentLength)).toString('latin1');
  let zip64 = false;
  const eocdAt = tailStart + eocd;
  if (eocdAt >= ZIP64_LOCATOR_SIZE) {
    const loc = view(await source.read(eocdAt - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE));
    if (loc.getUint32(LOC.signature, true) === ZIP64_LOCATOR_SIGNATURE) {
      const at = safe(loc.getBigUint64(LOC.eocdOffset, true), name, 'zip64 end record offset');
      if (at + ZIP64_EOCD_SIZE > source.size) throw new ReprimageError('OUT_OF_BOUNDS', name, `zip64 end record at byte ${at} lies past the end`);
      const r = view(await source.read(at, ZIP64_EOCD_SIZE));
      if (r.getUint32(E64.signature, true) !== ZIP64_EOCD_SIGNATURE) throw corruptError(name, 'zip64 end of central directory', at, 'bad signature');
      entries = safe(r.getBigUint64(E64.entries, true), name, 'zip64 entry count');
      cdSize = safe(r.getBigUint64(E64.cdSize, true), name, 'zip64 central directory size');
      cdOffset = safe(r.getBigUint64(E64.cdOffset, true), name, 'zip64 central directory offset');
      zip64 = true;
    }
  }
  if (cdOffset + cdSize > source.size) throw new ReprimageError('OUT_OF_BOUNDS', name, `central directory (${cdSize} bytes at ${cdOffset}) lies past the end`);
  if (entries * ZIP_CENTRAL_SIZE > cdSize) throw corruptError(name, 'zip central directory', cdOffset, `${entries} entries cannot fit in ${cdSize} bytes`);
  const cd = await source.read(cdOffset, cdSize);
  const cv = view(cd);
  const list: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < entries; i++) {
    if (at + ZIP_CENTRAL_SIZE > cd.length) throw truncatedError(name, 'zip central directory header', cdOffset + at, at + ZIP_CENTRAL_SIZE - cd.length);
    if (cv.getUint32(at + C.signature, true) !== ZIP_CENTRAL_SIGNATURE) throw corruptError(name, 'zip central directory header', cdOffset + at, 'bad signature');
    const nameLength = cv.getUint16(at + C.nameLength, true);
    const extraLength = cv.getUint16(at + C.extraLength, true);
    const entryCommentLength = cv.getUint16(at + C.commentLength, true);
    const end = at + ZIP_CENTRAL_SIZE + nameLength + extraLength + entryCommentLength;
    if (end > cd.length) throw truncatedError(name, 'zip central directory entry', cdOffset + at, end - cd.length);
    const flags = cv.getUint16(at + C.flags, true);
    const nameBytes = cd.subarray(at + ZIP_CENTRAL_SIZE, at + ZIP_CENTRAL_SIZE + nameLength);
    const extra = cd.slice(at + ZIP_CENTRAL_SIZE + nameLength, at + ZIP_CENTRAL_SIZE + nameLength + extraLength);
    const entry: ZipEntry = {
      // bit 11: names in UTF-8; otherwise CP437, which agrees with Latin-1 for ASCII
      name: Buffer.from(nameBytes).toString(flags & 0x800 ? 'utf8' : 'latin1'),
      versionMadeBy: cv.getUint16(at + C.versionMadeBy, true),
      versionNeeded: cv.getUint16(at + C.versionNeeded, true),
      flags,
      method: cv.getUint16(at + C.method, true),
      dosTime: cv.getUint16(at + C.time, true),
      dosDate: cv.getUint16(at + C.date, true),
      crc32: cv.getUint32(at + C.crc32, true),
      compressedSize: cv.getUint32(at + C.compressedSize, true),
      size: cv.getUint32(at + C.size, true),
      internalAttributes: cv.getUint16(at + C.internalAttributes, true),
      externalAttributes: cv.getUint32(at + C.externalAttributes, true),
      localOffset: cv.getUint32(at + C.localOffset, true),
      extra,
      localExtra: new Uint8Array(0),
      comment: Buffer.from(cd.subarray(end - entryCommentLength, end)).toString('latin1'),
      dataOffset: 0,
    };
    applyZip64Extra(entry, name);
    await readLocalHeader(source, entry);
    list.push(entry);
    at = end;
  }
  return {
    entries: list,
    comment,
    zip64,
    content: (entry) => entryContent(source, entry),
  };
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function safe(v: bigint, subject: string, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ReprimageError('OVERFLOW', subject, `${what} ${v} is too large`);
  return Number(v);
}

/** Replaces 0xffffffff sizes and offsets by their zip64 values, in APPNOTE's order. */
function applyZip64Extra(entry: ZipEntry, subject: string): void {
  const v = view(entry.extra);
  for (let at = 0; at + 4 <= entry.extra.length; ) {
    const id = v.getUint16(at, true);
    const length = v.getUint16(at + 2, true);
    if (id === ZIP64_EXTRA_ID) {
      let p = at + 4;
      const next = (what: string) => {
        if (p + 8 > at + 4 + length || p + 8 > entry.extra.length) throw corruptError(subject, `zip64 extra field of ${JSON.stringify(entry.name)}`, undefined, `no room for the ${what}`);
        const value = safe(v.getBigUint64(p, true), subject, what);
        p += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next('size');
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next('compressed size');
      if (entry.localOffset === 0xffffffff) entry.localOffset = next('local header offset');
      return;
    }
    at += 4 + length;
  }
}

async function readLocalHeader(source: RandomAccessSource, entry: ZipEntry): Promise<void> {
  const at = entry.localOffset;
  if (at + ZIP_LOCAL_SIZE > source.size) throw new ReprimageError('OUT_OF_BOUNDS', source.name, `local header of ${JSON.stringify(entry.name)} at byte ${at} lies past the end`);
  const h = view(await source.read(at, ZIP_LOCAL_SIZE));
  if (h.getUint32(L.signature, true) !== ZIP_LOCAL_SIGNATURE) throw corruptError(source.name, `local header of ${JSON.stringify(entry.name)}`, at, 'bad signature');
  const nameLength = h.getUint16(L.nameLength, true);
  const extraLength = h.getUint16(L.extraLength, true);
  entry.dataOffset = at + ZIP_LOCAL_SIZE + nameLength + extraLength;
  if (entry.dataOffset + entry.compressedSize > source.size) {
    throw truncatedError(source.name, `data of ${JSON.stringify(entry.name)}`, entry.dataOffset, entry.dataOffset + entry.compressedSize - source.size);
  }
  entry.localExtra = extraLength === 0 ? new Uint8Array(0) : (await source.read(at + ZIP_LOCAL_SIZE + nameLength, extraLength)).slice();
}

function entryContent(source: RandomAccessSource, entry: ZipEntry): Content {
  const origin = `${source.name} ▸ ${entry.name}`;
  if (entry.method === 0) return rangeContent(source, entry.dataOffset, entry.compressedSize, origin);
  return streamContent(entry.size, origin, async function* () {
    if (entry.method !== 8) throw new ReprimageError('UNSUPPORTED', origin, `compression method ${ZIP_METHODS[entry.method] ?? entry.method} cannot be read yet`);
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
