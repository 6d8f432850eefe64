/**
 * Zip archives and their kin (jar, war, apk, whl, epub, odf, xpi, zip64): entries sorted by
 * name, times clamped or set, extra-field times and owners overwritten, Unix permissions reduced
 * to 0644/0755. Entry data is copied byte for byte, never recompressed, except the few members a
 * jar normalizes inside (MANIFEST.MF, javadoc pages, pom.properties, nested jars), which are
 * deflated again as Archive::Zip does (zlib level 6, memLevel 9, by pako).
 *
 * The layout written follows Archive::Zip 1.68 as strip-nondeterminism drives it, so the same
 * input gives the same bytes as `strip-nondeterminism --timestamp T` in "set" mode; the
 * deliberate differences are listed in docs/normalize.md.
 */
import { inflateRawSync } from 'node:zlib';
import pako from 'pako';
import { corruptError, ReprimageError } from '../errors.js';
import { crc32 } from '../compress/crc32.js';
import { bufferSource, type RandomAccessSource } from '../io/source.js';
import { MemorySink, type Sink } from '../io/sink.js';
import type { NormalizeContext, Normalizer, Rewrite } from './handler.js';
import { detectJar, detectZip } from './detect.js';
import { isJavadoc, normalizeJavadocBytes } from './javadoc.js';
import { normalizePropertiesBytes } from './pom-properties.js';
import {
  dosToUnix, joinExtra, splitExtra, unixToDos,
  EXTRA_EXTENDED_TIMESTAMP, EXTRA_INFOZIP_UNIX_2, EXTRA_INFOZIP_UNIX_NEW, EXTRA_INFOZIP_UNIX_OLD, EXTRA_NTFS,
  EXTRA_PKWARE_UNIX, EXTRA_ZIP64, FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, HOST_UNIX, METHOD_DEFLATED, METHOD_STORED,
  type ExtraField,
} from '../formats/zip/layout.js';
import { readZipDirectory, type ZipDirectoryEntry as ParsedEntry } from '../formats/zip/reader.js';
import { writeZip } from '../formats/zip/writer.js';

/**
 * The earliest time zip entries get: 1980-01-01 12:01 UTC, as Archive::Zip and
 * strip-nondeterminism use, so no time zone can move a DOS date before 1980.
 */
export const ZIP_SAFE_EPOCH = 315576060;
/** Largest member a jar normalizes inside (manifest, page, properties, nested jar). */
const MEMBER_LIMIT = 256 << 20;
/** Nested jars inside jars inside jars: enough for every real build, bounded for hostile ones. */
const MAX_NESTING = 4;
const COPY_CHUNK = 1 << 20;

export type ZipFlavor = 'zip' | 'jar';

/** jar order: META-INF/ and META-INF/MANIFEST.MF first (the jar tools look for them there), then bytewise. */
function jarRank(name: string): number {
  return name === 'META-INF/' ? 0 : name === 'META-INF/MANIFEST.MF' ? 1 : 2;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Files the Maven compiler plugin leaves in jars: they hold build paths and random names. */
function isJarJunk(name: string): boolean {
  return name === 'javac.sh' || /^org\.codehaus\.plexus\.compiler\.javac\.JavacCompiler\d+arguments$/.test(name);
}

/** Times for one entry: what DOS time and extra-field times become. */
interface EntryTimes {
  /** The DOS time written, or undefined to keep the entry's own. */
  dos: { dosDate: number; dosTime: number } | undefined;
  /** Unix seconds a time field is set to, or clamped at. */
  fieldTime: number;
  /** NTFS FILETIME (100 ns since 1601) the NTFS times are set to or clamped at. */
  ntfsTime: bigint;
  clamp: boolean;
}

const NTFS_EPOCH_OFFSET = 11644473600n;

function entryTimes(ctx: NormalizeContext, e: ParsedEntry, flavor: ZipFlavor): EntryTimes {
  const safe = Math.max(ctx.buildTime, ZIP_SAFE_EPOCH);
  const older = flavor === 'jar' && e.name.endsWith('.clj') && !isDirectoryEntry(e);
  const ntfsTime = (BigInt(Math.trunc(ctx.buildTime)) + NTFS_EPOCH_OFFSET) * 10000000n;
  if (!ctx.clamp) return { dos: unixToDos(older ? safe - 1 : safe), fieldTime: safe, ntfsTime, clamp: false };
  // Clojure treats a .clj no older than its .class as stale: keep sources one second older.
  const limit = older ? safe - 1 : safe;
  const own = extendedMtime(e.cd.extra) ?? extendedMtime(e.localExtra) ?? dosToUnix(e.cd.dosDate, e.cd.dosTime);
  return { dos: own > limit ? unixToDos(limit) : undefined, fieldTime: ctx.buildTime, ntfsTime, clamp: true };
}

/** The mtime of an extended timestamp ("UT") field, when it has one. */
function extendedMtime(extra: Uint8Array): number | undefined {
  const ut = splitExtra(extra).fields.find((f) => f.id === EXTRA_EXTENDED_TIMESTAMP);
  if (!ut || ut.data.length < 5 || !(ut.data[0]! & 1)) return undefined;
  return new DataView(ut.data.buffer, ut.data.byteOffset, ut.data.length).getInt32(1, true);
}

/**
 * Overwrites the times and owners in extra fields; drops zip64 records of zip64 archives
 * (written again when needed; Archive::Zip keeps them in other archives); keeps every other
 * field and unparseable trailing bytes as they are.
 */
function normalizeExtra(extra: Uint8Array, t: EntryTimes, dropZip64: boolean): Uint8Array {
  const { fields, rest } = splitExtra(extra);
  const out: ExtraField[] = [];
  const time32 = (d: DataView, at: number) => {
    const v = d.getInt32(at, true);
    d.setInt32(at, t.clamp ? Math.min(v, t.fieldTime) : t.fieldTime, true);
  };
  for (const f of fields) {
    if (f.id === EXTRA_ZIP64 && dropZip64) continue;
    const data = f.data.slice();
    const d = new DataView(data.buffer, data.byteOffset, data.length);
    switch (f.id) {
      case EXTRA_EXTENDED_TIMESTAMP: // flags, then up to three 4-byte times
        for (let at = 1; at + 4 <= data.length; at += 4) time32(d, at);
        break;
      case EXTRA_NTFS: // 4 reserved bytes, then tagged attributes; tag 1 holds mtime, atime, ctime
        for (let at = 4; at + 4 <= data.length; ) {
          const tag = d.getUint16(at, true);
          const size = d.getUint16(at + 2, true);
          if (tag === 1 && size === 24 && at + 28 <= data.length) {
            for (let k = 0; k < 3; k++) {
              const v = d.getBigUint64(at + 4 + 8 * k, true);
              d.setBigUint64(at + 4 + 8 * k, t.clamp && v < t.ntfsTime ? v : t.ntfsTime, true);
            }
          }
          at += 4 + size;
        }
        break;
      case EXTRA_INFOZIP_UNIX_NEW: // version 1: uid size, uid, gid size, gid
        if (data[0] === 1 && data.length >= 2) {
          const uidSize = data[1]!;
          data.fill(0, 2, Math.min(data.length, 2 + uidSize));
          const gidAt = 2 + uidSize;
          if (gidAt < data.length) data.fill(0, gidAt + 1, Math.min(data.length, gidAt + 1 + data[gidAt]!));
        }
        break;
      case EXTRA_INFOZIP_UNIX_OLD: // atime, mtime, then (local only) uid, gid
      case EXTRA_PKWARE_UNIX: // atime, mtime, uid, gid, then link data
        for (let at = 0; at + 4 <= Math.min(8, data.length); at += 4) time32(d, at);
        data.fill(0, 8, Math.min(12, data.length));
        break;
      case EXTRA_INFOZIP_UNIX_2: // uid, gid (local only)
        data.fill(0, 0, Math.min(4, data.length));
        break;
    }
    out.push({ id: f.id, data });
  }
  return joinExtra(out, rest);
}

function isDirectoryEntry(e: ParsedEntry): boolean {
  return e.name.endsWith('/') && e.cd.uncompressedSize === 0;
}

/** Unix modes become 0644 or 0755 (by the owner's execute bit); directories and symbolic links keep their type. */
function normalizeAttributes(e: ParsedEntry): number {
  if (e.cd.hostSystem !== HOST_UNIX) return e.cd.externalAttributes;
  const mode = e.cd.externalAttributes >>> 16;
  const dir = isDirectoryEntry(e);
  const type = dir ? 0o040000 : (mode & 0o170000) === 0o120000 ? 0o120000 : 0o100000;
  const perms = type === 0o120000 ? 0o777 : mode & 0o100 ? 0o755 : 0o644;
  return (((type | perms) << 16) | (dir ? 0x10 : 0)) >>> 0;
}

/** Inflates (or copies) one member for inspection, after checking what it declares. */
async function readMember(source: RandomAccessSource, e: ParsedEntry, subject: string): Promise<Uint8Array | undefined> {
  if (e.cd.method !== METHOD_STORED && e.cd.method !== METHOD_DEFLATED) return undefined;
  if (e.cd.uncompressedSize > MEMBER_LIMIT) {
    throw new ReprimageError('OVERFLOW', subject, `zip entry ${JSON.stringify(e.name)} declares ${e.cd.uncompressedSize} bytes, more than the ${MEMBER_LIMIT} reprimage unpacks to normalize it`);
  }
  const raw = await source.read(e.dataAt, e.cd.compressedSize);
  let data: Uint8Array;
  if (e.cd.method === METHOD_STORED) {
    data = raw;
  } else {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.cd.uncompressedSize) });
    } catch (err) {
      throw corruptError(subject, `zip entry ${JSON.stringify(e.name)}`, e.dataAt, `deflate data does not unpack to ${e.cd.uncompressedSize} bytes (${(err as Error).message})`);
    }
  }
  if (data.length !== e.cd.uncompressedSize || crc32(data) !== e.cd.crc32) {
    throw corruptError(subject, `zip entry ${JSON.stringify(e.name)}`, e.dataAt, 'contents do not match the size and CRC-32 the central directory declares');
  }
  return data;
}

/** Drops the manifest headers that hold the build time (bnd) and the user name (Maven), with their continuation lines. */
export function normalizeManifestBytes(bytes: Uint8Array): Uint8Array | undefined {
  const text = Buffer.from(bytes).toString('latin1');
  const lines = text.split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  let modified = false;
  for (const line of lines) {
    if (dropping && line.startsWith(' ')) continue;
    dropping = /^(Bnd-LastModified|Built-By):/.test(line);
    if (dropping) {
      modified = true;
      continue;
    }
    kept.push(line);
  }
  if (!modified) return undefined;
  const out = Buffer.from(kept.join(''), 'latin1');
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** New contents for a jar member, or undefined to copy it as it is. */
async function jarMemberContents(source: RandomAccessSource, e: ParsedEntry, ctx: NormalizeContext, depth: number): Promise<Uint8Array | undefined> {
  if (isDirectoryEntry(e)) return undefined;
  const name = e.name;
  const wanted =
    name === 'META-INF/MANIFEST.MF' || name.endsWith('.html') || name.endsWith('.jar') || (name.startsWith('META-INF/maven/') && name.endsWith('/pom.properties'));
  if (!wanted) return undefined;
  const data = await readMember(source, e, ctx.subject);
  if (!data) return undefined;
  if (name === 'META-INF/MANIFEST.MF') return normalizeManifestBytes(data);
  if (name.endsWith('.html')) return isJavadoc(data) ? normalizeJavadocBytes(data, ctx) : undefined;
  if (name.endsWith('.pom.properties') || name.endsWith('/pom.properties')) return normalizePropertiesBytes(data);
  // A nested jar is normalized as a jar and always stored again, as strip-nondeterminism does.
  if (depth >= MAX_NESTING) throw new ReprimageError('OVERFLOW', ctx.subject, `jars nested more than ${MAX_NESTING} deep`);
  const inner = { ...ctx, subject: `${ctx.subject}!${name}` };
  const rewrite = await prepareZip(bufferSource(data, inner.subject), inner, 'jar', depth + 1);
  if (!rewrite) return data;
  const sink = new MemorySink();
  await rewrite(sink);
  return sink.bytes();
}

/** Deflates replaced member contents as Archive::Zip does (Compress::Raw::Zlib defaults: level 6, memLevel 9). */
function deflateLikeArchiveZip(data: Uint8Array): Uint8Array {
  return pako.deflateRaw(data, { level: 6, memLevel: 9 });
}

interface PlannedEntry {
  e: ParsedEntry;
  name: Uint8Array;
  versionNeeded: number;
  flags: number;
  method: number;
  dos: { dosDate: number; dosTime: number };
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localExtra: Uint8Array;
  cdExtra: Uint8Array;
  externalAttributes: number;
  /** The entry stays in zip64 form even when its sizes fit (Archive::Zip keeps a local zip64 record it read). */
  keepZip64: boolean;
  /** Replacement data (already compressed), or undefined to copy the original bytes. */
  data: Uint8Array | undefined;
}

async function planEntry(source: RandomAccessSource, e: ParsedEntry, ctx: NormalizeContext, flavor: ZipFlavor, depth: number, zip64Archive: boolean): Promise<PlannedEntry> {
  const times = entryTimes(ctx, e, flavor);
  const contents = flavor === 'jar' ? await jarMemberContents(source, e, ctx, depth) : undefined;
  // Archive::Zip re-reads the local header of directories and of replaced members.
  const fromLocal = contents !== undefined || isDirectoryEntry(e);
  let uncompressedSize = e.cd.uncompressedSize;
  let compressedSize = e.cd.compressedSize;
  let crc = e.cd.crc32;
  let data: Uint8Array | undefined;
  if (contents !== undefined) {
    data = e.cd.method === METHOD_DEFLATED ? deflateLikeArchiveZip(contents) : contents;
    uncompressedSize = contents.length;
    compressedSize = data.length;
    crc = crc32(contents);
  }
  // Empty members are stored, without a data descriptor (Archive::Zip's WinZip workaround).
  let flags = fromLocal ? e.local.flags : e.cd.flags;
  let method = e.cd.method;
  if (uncompressedSize === 0) {
    flags &= ~FLAG_DATA_DESCRIPTOR;
    method = METHOD_STORED;
    compressedSize = 0;
    data = new Uint8Array(0);
  }
  return {
    e,
    name: fromLocal ? e.localName : e.cd.name,
    versionNeeded: fromLocal ? e.local.versionNeeded : e.cd.versionNeeded,
    flags,
    method,
    dos: times.dos ?? { dosDate: e.cd.dosDate, dosTime: e.cd.dosTime },
    crc32: crc,
    compressedSize,
    uncompressedSize,
    localExtra: normalizeExtra(e.localExtra, times, zip64Archive),
    cdExtra: normalizeExtra(e.cd.extra, times, zip64Archive),
    externalAttributes: normalizeAttributes(e),
    keepZip64: zip64Archive && !fromLocal && splitExtra(e.localExtra).fields.some((f) => f.id === EXTRA_ZIP64),
    data,
  };
}

async function copyRange(source: RandomAccessSource, sink: Sink, at: number, length: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const n = Math.min(COPY_CHUNK, length - done);
    await sink.write(await source.read(at + done, n));
    done += n;
  }
}

/**
 * Parses a zip archive and returns the rewrite that writes it normalized, or undefined for an
 * archive that must be left alone (encrypted entries, a signed jar, a signed apk).
 */
export async function prepareZip(source: RandomAccessSource, ctx: NormalizeContext, flavor: ZipFlavor, depth = 0): Promise<Rewrite | undefined> {
  const zip = await readZipDirectory(source, ctx.subject);
  if (zip.entries.some((e) => e.cd.flags & FLAG_ENCRYPTED)) {
    ctx.warn(`${ctx.subject}: encrypted zip entries; left as it is`);
    return undefined;
  }
  if (zip.apkSigned) {
    ctx.warn(`${ctx.subject}: APK signing block; left as it is (any change would break the signature)`);
    return undefined;
  }
  if (flavor === 'jar' && zip.entries.some((e) => /^META-INF\/[^/]*\.SF$/.test(e.name))) {
    ctx.warn(`${ctx.subject}: signed jar; left as it is (any change would break the signature)`);
    return undefined;
  }
  const inFileOrder = [...zip.entries].sort((a, b) => a.localAt - b.localAt);
  // epub and OpenDocument require an uncompressed `mimetype` as the very first entry.
  const mimetypeFirst = inFileOrder[0]?.name === 'mimetype';
  const rank = (e: ParsedEntry) => (mimetypeFirst && e === inFileOrder[0] ? -1 : flavor === 'jar' ? jarRank(e.name) : 2);
  let ordered = [...zip.entries].sort((a, b) => rank(a) - rank(b) || compareBytes(a.cd.name, b.cd.name));
  if (flavor === 'jar') ordered = ordered.filter((e) => !isJarJunk(e.name));
  const planned: PlannedEntry[] = [];
  for (const e of ordered) planned.push(await planEntry(source, e, ctx, flavor, depth, zip.zip64 !== undefined));

  return async (sink) => {
    if (zip.prefix > 0) await copyRange(source, sink, 0, zip.prefix);
    await writeZip(
      sink,
      planned.map((p) => ({
        name: p.name,
        versionMadeBy: p.e.cd.versionMadeBy,
        hostSystem: p.e.cd.hostSystem,
        versionNeeded: p.versionNeeded,
        flags: p.flags,
        method: p.method,
        dosDate: p.dos.dosDate,
        dosTime: p.dos.dosTime,
        crc32: p.crc32,
        compressedSize: p.compressedSize,
        uncompressedSize: p.uncompressedSize,
        localExtra: p.localExtra,
        centralExtra: p.cdExtra,
        internalAttributes: p.e.cd.internalAttributes,
        externalAttributes: p.externalAttributes,
        comment: p.e.cd.comment,
        keepZip64: p.keepZip64,
        writeData: (s) => (p.data ? s.write(p.data) : copyRange(source, s, p.e.dataAt, p.compressedSize)),
      })),
      { shift: zip.shift, comment: zip.comment, zip64: zip.zip64 },
    );
  };
}

export const jarNormalizer: Normalizer = {
  id: 'jar',
  description: 'Java archives (jar, war, ear, aar, apk): zip normalization, META-INF/MANIFEST.MF first, manifest/javadoc/pom.properties inside',
  detect: detectJar,
  prepare: (source, ctx) => prepareZip(source, ctx, 'jar'),
};

export const zipNormalizer: Normalizer = {
  id: 'zip',
  description: 'zip archives (zip, whl, epub, odf, xpi, zip64): entry order, times, extra fields, permissions',
  detect: detectZip,
  prepare: (source, ctx) => prepareZip(source, ctx, 'zip'),
};
