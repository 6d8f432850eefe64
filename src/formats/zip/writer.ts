/**
 * Writing zip archives from entries whose headers are already decided: local headers, data and
 * data descriptors in the order given, the central directory, and the zip64 end records when a
 * size, an offset or the entry count needs them. The zip64 forms follow Archive::Zip 1.68 (the
 * normalizer's model, src/normalize/zip.ts): a central header takes the zip64 form only when a
 * value does not fit, and an entry that keeps a local zip64 record makes the end record zip64.
 */
import type { Sink } from '../../io/sink.js';
import {
  encodeCentralHeader, encodeDataDescriptor, encodeEocd, encodeLocalHeader, encodeZip64Eocd, encodeZip64Locator, joinExtra,
  EXTRA_ZIP64, FLAG_DATA_DESCRIPTOR, type ExtraField,
} from './layout.js';

const U32 = 0xffffffff;

/** One entry as it is to be written. */
export interface ZipWriteEntry {
  name: Uint8Array;
  /** Zip version (low byte) and host system that made the entry. */
  versionMadeBy: number;
  hostSystem: number;
  versionNeeded: number;
  flags: number;
  method: number;
  dosDate: number;
  dosTime: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Extra fields of the local and the central header, without zip64 records (added here when needed). */
  localExtra: Uint8Array;
  centralExtra: Uint8Array;
  internalAttributes: number;
  externalAttributes: number;
  comment: Uint8Array;
  /** Keep a local zip64 record even when the sizes fit. */
  keepZip64?: boolean;
  /** Writes the entry's `compressedSize` bytes of (compressed) data. */
  writeData(sink: Sink): Promise<void>;
}

export interface ZipWriteArchive {
  /** Bytes already written before the archive (a self-extractor stub): offsets are positions minus this. */
  shift?: number;
  comment: Uint8Array;
  /** Version fields of a zip64 end record, when one is written (defaults: made by and needed 4.5). */
  zip64?: { versionMadeBy: number; versionNeeded: number };
}

function zip64Record(values: bigint[]): ExtraField {
  const data = new Uint8Array(8 * values.length);
  const d = new DataView(data.buffer);
  values.forEach((v, i) => d.setBigUint64(8 * i, v, true));
  return { id: EXTRA_ZIP64, data };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Writes `entries` and the central directory to `sink`, after whatever it already holds. */
export async function writeZip(sink: Sink, entries: readonly ZipWriteEntry[], archive: ZipWriteArchive): Promise<void> {
  const shift = archive.shift ?? 0;
  const offsets: number[] = [];
  for (const p of entries) {
    offsets.push(sink.position - shift);
    const localZip64 = (p.keepZip64 ?? false) || p.uncompressedSize > U32 || p.compressedSize > U32;
    const descriptor = (p.flags & FLAG_DATA_DESCRIPTOR) !== 0;
    let extra = p.localExtra;
    if (localZip64) extra = concat(extra, joinExtra([zip64Record(descriptor ? [0n, 0n] : [BigInt(p.uncompressedSize), BigInt(p.compressedSize)])]));
    await sink.write(
      encodeLocalHeader(
        {
          versionNeeded: localZip64 ? Math.max(45, p.versionNeeded) : p.versionNeeded,
          flags: p.flags,
          method: p.method,
          dosDate: p.dosDate,
          dosTime: p.dosTime,
          crc32: descriptor ? 0 : p.crc32,
          compressedSize: localZip64 ? U32 : descriptor ? 0 : p.compressedSize,
          uncompressedSize: localZip64 ? U32 : descriptor ? 0 : p.uncompressedSize,
        },
        p.name,
        extra,
      ),
    );
    await p.writeData(sink);
    if (descriptor) await sink.write(encodeDataDescriptor(p.crc32, p.compressedSize, p.uncompressedSize, localZip64));
  }
  const cdOffset = sink.position - shift;
  let anyZip64 = false;
  for (const [i, p] of entries.entries()) {
    const offset = offsets[i]!;
    const zip64 = p.uncompressedSize > U32 || p.compressedSize > U32 || offset > U32;
    anyZip64 ||= zip64 || (p.keepZip64 ?? false);
    let extra = p.centralExtra;
    if (zip64) {
      const values: bigint[] = [];
      if (p.uncompressedSize > U32) values.push(BigInt(p.uncompressedSize));
      if (p.compressedSize > U32) values.push(BigInt(p.compressedSize));
      if (offset > U32 || values.length === 0) values.push(BigInt(offset));
      extra = concat(extra, joinExtra([zip64Record(values)]));
    }
    await sink.write(
      encodeCentralHeader({
        versionMadeBy: p.versionMadeBy,
        hostSystem: p.hostSystem,
        versionNeeded: zip64 ? Math.max(45, p.versionNeeded) : p.versionNeeded,
        flags: p.flags,
        method: p.method,
        dosDate: p.dosDate,
        dosTime: p.dosTime,
        crc32: p.crc32,
        compressedSize: Math.min(p.compressedSize, U32),
        uncompressedSize: Math.min(p.uncompressedSize, U32),
        diskStart: 0,
        internalAttributes: p.internalAttributes,
        externalAttributes: p.externalAttributes,
        localHeaderOffset: offset > U32 || (zip64 && !(p.uncompressedSize > U32) && !(p.compressedSize > U32)) ? U32 : offset,
        name: p.name,
        extra,
        comment: p.comment,
      }),
    );
  }
  const cdSize = sink.position - shift - cdOffset;
  const count = entries.length;
  if (anyZip64 || count > 0xffff || cdSize > U32 || cdOffset > U32) {
    const recordAt = sink.position - shift;
    const madeBy = archive.zip64?.versionMadeBy ?? 0;
    await sink.write(
      encodeZip64Eocd({
        versionMadeBy: madeBy === 0 ? 45 : madeBy,
        versionNeeded: Math.max(45, archive.zip64?.versionNeeded ?? 0),
        disk: 0,
        cdDisk: 0,
        entriesOnDisk: count,
        entries: count,
        cdSize,
        cdOffset,
      }),
    );
    await sink.write(encodeZip64Locator(recordAt));
  }
  await sink.write(
    encodeEocd({
      disk: 0,
      cdDisk: 0,
      entriesOnDisk: Math.min(count, 0xffff),
      entries: Math.min(count, 0xffff),
      cdSize: Math.min(cdSize, U32),
      cdOffset: Math.min(cdOffset, U32),
      comment: archive.comment,
    }),
  );
}
