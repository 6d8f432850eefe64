/**
 * The GUID partition table (UEFI 2.10 §5.3): a header (92 bytes, in its own sector) and an array
 * of partition entries, both protected by CRC-32, stored twice: the primary header at LBA 1 with
 * its entries (usually at LBA 2), the backup header in the last sector with its entries just
 * before it. Pure codecs; addresses in logical blocks (512 bytes here).
 */
import { crc32 } from '../../compress/crc32.js';
import { ReprimageError, corruptError } from '../../errors.js';
import { decodeGuid, encodeGuid } from './guid.js';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION = 0x00010000;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRY_SIZE = 128;
/** The usual (and minimum the specification asks to reserve): 128 entries, 16 KiB. */
export const GPT_DEFAULT_ENTRY_COUNT = 128;
/** Longest partition name: 36 UTF-16 code units. */
export const GPT_NAME_UNITS = 36;

/** UEFI 2.10 table 5-5. */
export const GPT_HEADER_FIELDS = {
  signature: 0, revision: 8, headerSize: 12, headerCrc: 16, reserved: 20, myLba: 24, alternateLba: 32,
  firstUsableLba: 40, lastUsableLba: 48, diskGuid: 56, entriesLba: 72, entryCount: 80, entrySize: 84, entriesCrc: 88,
} as const;

/** UEFI 2.10 table 5-6. */
export const GPT_ENTRY_FIELDS = { typeGuid: 0, guid: 16, firstLba: 32, lastLba: 40, attributes: 48, name: 56 } as const;

export interface GptHeader {
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
  /** Read only: the header size and CRC stored. The encoder writes 92 and the computed CRC. */
  headerSize?: number;
  headerCrc?: number;
}

export interface GptEntry {
  /** Lower-case GUID text. */
  typeGuid: string;
  guid: string;
  /** First and last logical block, inclusive. */
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  /** At most 36 UTF-16 code units. */
  name: string;
}

/** A header sector of `sectorSize` bytes with the header CRC computed. */
export function encodeGptHeader(h: GptHeader, sectorSize = 512): Uint8Array {
  const out = new Uint8Array(sectorSize);
  const v = new DataView(out.buffer);
  const F = GPT_HEADER_FIELDS;
  out.set(Buffer.from(GPT_SIGNATURE, 'latin1'), F.signature);
  v.setUint32(F.revision, GPT_REVISION, true);
  v.setUint32(F.headerSize, GPT_HEADER_SIZE, true);
  v.setBigUint64(F.myLba, BigInt(h.myLba), true);
  v.setBigUint64(F.alternateLba, BigInt(h.alternateLba), true);
  v.setBigUint64(F.firstUsableLba, BigInt(h.firstUsableLba), true);
  v.setBigUint64(F.lastUsableLba, BigInt(h.lastUsableLba), true);
  encodeGuid(h.diskGuid, 'disk GUID', out, F.diskGuid);
  v.setBigUint64(F.entriesLba, BigInt(h.entriesLba), true);
  v.setUint32(F.entryCount, h.entryCount, true);
  v.setUint32(F.entrySize, h.entrySize, true);
  v.setUint32(F.entriesCrc, h.entriesCrc >>> 0, true);
  v.setUint32(F.headerCrc, crc32(out.subarray(0, GPT_HEADER_SIZE)), true);
  return out;
}

/** Whether a sector starts with "EFI PART". */
export function hasGptSignature(sector: Uint8Array): boolean {
  return sector.length >= 8 && Buffer.from(sector.subarray(0, 8)).toString('latin1') === GPT_SIGNATURE;
}

/**
 * Decodes and checks a header sector: signature, revision 1.x, header size 92..sector size,
 * header CRC, entry size a multiple of 128. CORRUPT_IMAGE naming `subject` and `offset` otherwise.
 */
export function decodeGptHeader(sector: Uint8Array, subject: string, offset: number): GptHeader {
  const F = GPT_HEADER_FIELDS;
  if (sector.length < GPT_HEADER_SIZE) throw new ReprimageError('TRUNCATED', subject, `truncated GPT header at byte ${offset}`);
  if (!hasGptSignature(sector)) throw corruptError(subject, 'GPT header', offset, 'no "EFI PART" signature');
  const v = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const revision = v.getUint32(F.revision, true);
  if (revision >>> 16 !== 1) throw corruptError(subject, 'GPT header', offset, `revision 0x${revision.toString(16)} is not 1.x`);
  const headerSize = v.getUint32(F.headerSize, true);
  if (headerSize < GPT_HEADER_SIZE || headerSize > sector.length) throw corruptError(subject, 'GPT header', offset, `header size ${headerSize} is outside ${GPT_HEADER_SIZE}..${sector.length}`);
  const headerCrc = v.getUint32(F.headerCrc, true);
  const copy = sector.slice(0, headerSize);
  copy.fill(0, F.headerCrc, F.headerCrc + 4);
  const computed = crc32(copy);
  if (computed !== headerCrc) throw corruptError(subject, 'GPT header', offset, `header CRC is 0x${hex32(headerCrc)}, the header sums to 0x${hex32(computed)}`);
  const entrySize = v.getUint32(F.entrySize, true);
  if (entrySize < GPT_ENTRY_SIZE || entrySize % GPT_ENTRY_SIZE !== 0) throw corruptError(subject, 'GPT header', offset, `entry size ${entrySize} is not a multiple of 128`);
  return {
    myLba: u64(v, F.myLba, subject, offset),
    alternateLba: u64(v, F.alternateLba, subject, offset),
    firstUsableLba: u64(v, F.firstUsableLba, subject, offset),
    lastUsableLba: u64(v, F.lastUsableLba, subject, offset),
    diskGuid: decodeGuid(sector, F.diskGuid),
    entriesLba: u64(v, F.entriesLba, subject, offset),
    entryCount: v.getUint32(F.entryCount, true),
    entrySize,
    entriesCrc: v.getUint32(F.entriesCrc, true),
    headerSize,
    headerCrc,
  };
}

/**
 * The entry array: `entryCount` slots of `entrySize` bytes, `entries[i]` in slot i (undefined
 * slots stay zero, an unused entry).
 */
export function encodeGptEntries(entries: ReadonlyArray<GptEntry | undefined>, entryCount = GPT_DEFAULT_ENTRY_COUNT, entrySize = GPT_ENTRY_SIZE): Uint8Array {
  if (entries.length > entryCount) throw new ReprimageError('USAGE', 'GPT', `${entries.length} partitions do not fit ${entryCount} entries`);
  const out = new Uint8Array(entryCount * entrySize);
  const v = new DataView(out.buffer);
  const F = GPT_ENTRY_FIELDS;
  entries.forEach((e, i) => {
    if (!e) return;
    const at = i * entrySize;
    const subject = `GPT partition ${i + 1}`;
    encodeGuid(e.typeGuid, `${subject} type`, out, at + F.typeGuid);
    encodeGuid(e.guid, `${subject} GUID`, out, at + F.guid);
    v.setBigUint64(at + F.firstLba, BigInt(e.firstLba), true);
    v.setBigUint64(at + F.lastLba, BigInt(e.lastLba), true);
    v.setBigUint64(at + F.attributes, BigInt.asUintN(64, e.attributes), true);
    const units = encodeName(e.name, subject);
    for (let k = 0; k < units.length; k++) v.setUint16(at + F.name + 2 * k, units[k]!, true);
  });
  return out;
}

/** A partition name as UTF-16 code units; a USAGE error past 36 units. */
export function encodeName(name: string, subject = 'partition name'): number[] {
  const units: number[] = [];
  for (let k = 0; k < name.length; k++) units.push(name.charCodeAt(k));
  if (units.length > GPT_NAME_UNITS) throw new ReprimageError('USAGE', subject, `name ${JSON.stringify(name)} is longer than ${GPT_NAME_UNITS} UTF-16 units`);
  if (units.includes(0)) throw new ReprimageError('USAGE', subject, 'a partition name cannot hold a NUL character');
  return units;
}

/** Decodes `entryCount` slots; unused slots (type GUID zero) come back as undefined. */
export function decodeGptEntries(bytes: Uint8Array, entryCount: number, entrySize: number): Array<GptEntry | undefined> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const F = GPT_ENTRY_FIELDS;
  const out: Array<GptEntry | undefined> = [];
  for (let i = 0; i < entryCount; i++) {
    const at = i * entrySize;
    if (bytes.subarray(at, at + 16).every((b) => b === 0)) {
      out.push(undefined);
      continue;
    }
    let name = '';
    for (let k = 0; k < GPT_NAME_UNITS; k++) {
      const c = v.getUint16(at + F.name + 2 * k, true);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    out.push({
      typeGuid: decodeGuid(bytes, at + F.typeGuid),
      guid: decodeGuid(bytes, at + F.guid),
      firstLba: Number(v.getBigUint64(at + F.firstLba, true)),
      lastLba: Number(v.getBigUint64(at + F.lastLba, true)),
      attributes: v.getBigUint64(at + F.attributes, true),
      name,
    });
  }
  return out;
}

function u64(v: DataView, at: number, subject: string, offset: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw corruptError(subject, 'GPT header', offset + at, `block number ${n} is beyond any disk`);
  return Number(n);
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export { crc32 };
