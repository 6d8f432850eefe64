/**
 * Directory records (ECMA-119 §9.1): the entries of a directory's extent, and the root record
 * inside every volume descriptor. A record never crosses a sector boundary (§6.8.1.1); the rest
 * of a sector after the last record that fits is zero.
 */
import { corruptError } from '../../errors.js';
import { decodeDirDateTime, encodeDirDateTime, getBoth16, getBoth32, putBoth16, putBoth32 } from './numbers.js';

/** Byte offsets of the fields of a directory record. */
export const DIR_RECORD_FIELDS = {
  length: 0,
  extendedAttributeLength: 1,
  extent: 2,
  dataLength: 10,
  recordingDate: 18,
  flags: 25,
  fileUnitSize: 26,
  interleaveGap: 27,
  volumeSequenceNumber: 28,
  fileIdLength: 32,
  fileId: 33,
} as const;

/** Size of a record without its identifier and system use area. */
export const DIR_RECORD_BASE_SIZE = 33;
/** A record's length is one byte, so it holds at most 255 bytes. */
export const DIR_RECORD_MAX_SIZE = 255;
/** The identifiers of "." and ".." (§6.8.2.2). */
export const DOT_ID = Uint8Array.of(0);
export const DOTDOT_ID = Uint8Array.of(1);

export interface DirRecord {
  /** First logical block of the extent. */
  extent: number;
  dataLength: number;
  /** Seconds since the epoch, UTC; undefined when the date is all zeros. */
  recordingDate: number | undefined;
  flags: number;
  extendedAttributeLength: number;
  fileUnitSize: number;
  interleaveGap: number;
  /** The raw file identifier bytes (d-characters, UCS-2BE for Joliet, 0x00/0x01 for . and ..). */
  fileId: Uint8Array;
  /** The system use area (SUSP entries), possibly empty. */
  systemUse: Uint8Array;
  /** The record's length in bytes. */
  length: number;
}

/** Offset of the system use area in a record whose identifier is `fileIdLength` bytes long. */
export function systemUseOffset(fileIdLength: number): number {
  return DIR_RECORD_BASE_SIZE + fileIdLength + (fileIdLength % 2 === 0 ? 1 : 0);
}

/** The size of a record with this identifier and system use area (always even). */
export function dirRecordSize(fileIdLength: number, systemUseLength: number): number {
  const n = systemUseOffset(fileIdLength) + systemUseLength;
  return n + (n % 2);
}

export interface DirRecordInput {
  extent: number;
  dataLength: number;
  recordingDate: number;
  flags: number;
  fileId: Uint8Array;
  systemUse?: Uint8Array;
}

/** Encodes one record; throws a RangeError (a writer bug) if it exceeds 255 bytes. */
export function encodeDirRecord(r: DirRecordInput): Uint8Array {
  const su = r.systemUse ?? new Uint8Array(0);
  const size = dirRecordSize(r.fileId.length, su.length);
  if (size > DIR_RECORD_MAX_SIZE) throw new RangeError(`directory record of ${size} bytes`);
  const F = DIR_RECORD_FIELDS;
  const out = new Uint8Array(size);
  out[F.length] = size;
  putBoth32(out, F.extent, r.extent);
  putBoth32(out, F.dataLength, r.dataLength);
  encodeDirDateTime(r.recordingDate, out, F.recordingDate);
  out[F.flags] = r.flags;
  putBoth16(out, F.volumeSequenceNumber, 1);
  out[F.fileIdLength] = r.fileId.length;
  out.set(r.fileId, F.fileId);
  out.set(su, systemUseOffset(r.fileId.length));
  return out;
}

/**
 * Decodes the record at `at` of `bytes`; returns undefined for a zero length byte (the padding
 * at the end of a sector). `subject` and `offset` (the image offset of `bytes[0]`) name it in errors.
 */
export function decodeDirRecord(bytes: Uint8Array, at: number, subject: string, offset: number): DirRecord | undefined {
  const F = DIR_RECORD_FIELDS;
  const length = bytes[at];
  if (length === undefined || length === 0) return undefined;
  if (length < DIR_RECORD_BASE_SIZE + 1 || at + length > bytes.length) {
    throw corruptError(subject, 'directory record', offset + at, `length ${length} does not fit`);
  }
  const idLength = bytes[at + F.fileIdLength]!;
  if (F.fileId + idLength > length) {
    throw corruptError(subject, 'directory record', offset + at, `identifier of ${idLength} bytes in a record of ${length}`);
  }
  const suStart = Math.min(systemUseOffset(idLength), length);
  return {
    extent: getBoth32(bytes, at + F.extent),
    dataLength: getBoth32(bytes, at + F.dataLength),
    recordingDate: decodeDirDateTime(bytes, at + F.recordingDate),
    flags: bytes[at + F.flags]!,
    extendedAttributeLength: bytes[at + F.extendedAttributeLength]!,
    fileUnitSize: bytes[at + F.fileUnitSize]!,
    interleaveGap: bytes[at + F.interleaveGap]!,
    fileId: bytes.subarray(at + F.fileId, at + F.fileId + idLength),
    systemUse: bytes.subarray(at + suStart, at + length),
    length,
  };
}

/** Volume sequence number of a record (always 1 in images we write). */
export function recordVolumeSequence(bytes: Uint8Array, at: number): number {
  return getBoth16(bytes, at + DIR_RECORD_FIELDS.volumeSequenceNumber);
}
