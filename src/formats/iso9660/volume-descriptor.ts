/**
 * Volume descriptors (ECMA-119 §8): the primary (type 1), the Joliet supplementary (type 2,
 * identifiers in UCS-2BE, escape sequence "%/E"), the El Torito boot record (type 0) and the
 * set terminator (type 255). Every descriptor is one 2048-byte sector.
 */
import { corruptError } from '../../errors.js';
import {
  EL_TORITO_SYSTEM_ID,
  ISO_SECTOR_SIZE,
  ISO_STANDARD_ID,
  JOLIET_ESCAPES,
  VD_BOOT_RECORD,
  VD_PRIMARY,
  VD_SUPPLEMENTARY,
  VD_TERMINATOR,
} from './constants.js';
import {
  decodeDecDateTime,
  encodeDecDateTime,
  getBoth16,
  getBoth32,
  getLe32,
  getBe32,
  getPadded,
  getPaddedUcs2,
  putBe32,
  putBoth16,
  putBoth32,
  putLe32,
  putPadded,
  putPaddedUcs2,
} from './numbers.js';

/** Byte offsets of the fields of a primary or supplementary volume descriptor (§8.4, §8.5). */
export const VD_FIELDS = {
  type: 0,
  standardId: 1,
  version: 6,
  volumeFlags: 7,
  systemId: 8,
  volumeId: 40,
  volumeSpaceSize: 80,
  escapeSequences: 88,
  volumeSetSize: 120,
  volumeSequenceNumber: 124,
  logicalBlockSize: 128,
  pathTableSize: 132,
  typeLPathTable: 140,
  optionalTypeLPathTable: 144,
  typeMPathTable: 148,
  optionalTypeMPathTable: 152,
  rootDirectoryRecord: 156,
  volumeSetId: 190,
  publisherId: 318,
  dataPreparerId: 446,
  applicationId: 574,
  copyrightFileId: 702,
  abstractFileId: 739,
  bibliographicFileId: 776,
  creationDate: 813,
  modificationDate: 830,
  expirationDate: 847,
  effectiveDate: 864,
  fileStructureVersion: 881,
  applicationUse: 883,
} as const;

/** Widths of the identifier fields, in bytes. */
const WIDTH = {
  systemId: 32,
  volumeId: 32,
  volumeSetId: 128,
  publisherId: 128,
  dataPreparerId: 128,
  applicationId: 128,
  copyrightFileId: 37,
  abstractFileId: 37,
  bibliographicFileId: 37,
} as const;

/** Offsets in the El Torito boot record volume descriptor (El Torito §2.0). */
export const BOOT_RECORD_FIELDS = { bootSystemId: 7, bootId: 39, catalogSector: 71 } as const;

export type IdentifierField = keyof typeof WIDTH;

/** A primary or supplementary volume descriptor, decoded. Dates are seconds since the epoch (UTC). */
export interface VolumeDescriptor {
  type: typeof VD_PRIMARY | typeof VD_SUPPLEMENTARY;
  /** True for a Joliet supplementary descriptor (identifiers and names in UCS-2BE). */
  joliet: boolean;
  systemId: string;
  volumeId: string;
  volumeSetId: string;
  publisherId: string;
  dataPreparerId: string;
  applicationId: string;
  copyrightFileId: string;
  abstractFileId: string;
  bibliographicFileId: string;
  /** Number of 2048-byte sectors in the volume. */
  volumeSpaceSize: number;
  volumeSetSize: number;
  volumeSequenceNumber: number;
  logicalBlockSize: number;
  pathTableSize: number;
  typeLPathTable: number;
  typeMPathTable: number;
  /** The 34-byte directory record of the root directory. */
  rootDirectoryRecord: Uint8Array;
  creationDate: number | undefined;
  modificationDate: number | undefined;
  expirationDate: number | undefined;
  effectiveDate: number | undefined;
}

/** Encodes a primary or Joliet supplementary descriptor into one sector. */
export function encodeVolumeDescriptor(vd: VolumeDescriptor): Uint8Array {
  const out = new Uint8Array(ISO_SECTOR_SIZE);
  const F = VD_FIELDS;
  writeHeader(out, vd.type);
  const put = vd.joliet ? putPaddedUcs2 : putPadded;
  for (const key of Object.keys(WIDTH) as IdentifierField[]) put(out, F[key], WIDTH[key], vd[key]);
  putBoth32(out, F.volumeSpaceSize, vd.volumeSpaceSize);
  if (vd.joliet) out.set(JOLIET_ESCAPES[2]!, F.escapeSequences);
  putBoth16(out, F.volumeSetSize, vd.volumeSetSize);
  putBoth16(out, F.volumeSequenceNumber, vd.volumeSequenceNumber);
  putBoth16(out, F.logicalBlockSize, vd.logicalBlockSize);
  putBoth32(out, F.pathTableSize, vd.pathTableSize);
  putLe32(out, F.typeLPathTable, vd.typeLPathTable);
  putBe32(out, F.typeMPathTable, vd.typeMPathTable);
  out.set(vd.rootDirectoryRecord.subarray(0, 34), F.rootDirectoryRecord);
  encodeDecDateTime(vd.creationDate, out, F.creationDate);
  encodeDecDateTime(vd.modificationDate, out, F.modificationDate);
  encodeDecDateTime(vd.expirationDate, out, F.expirationDate);
  encodeDecDateTime(vd.effectiveDate, out, F.effectiveDate);
  out[F.fileStructureVersion] = 1;
  return out;
}

/** The El Torito boot record descriptor pointing at the boot catalog sector. */
export function encodeBootRecord(catalogSector: number): Uint8Array {
  const out = new Uint8Array(ISO_SECTOR_SIZE);
  writeHeader(out, VD_BOOT_RECORD);
  for (let i = 0; i < EL_TORITO_SYSTEM_ID.length; i++) out[BOOT_RECORD_FIELDS.bootSystemId + i] = EL_TORITO_SYSTEM_ID.charCodeAt(i);
  putLe32(out, BOOT_RECORD_FIELDS.catalogSector, catalogSector);
  return out;
}

export function encodeTerminator(): Uint8Array {
  const out = new Uint8Array(ISO_SECTOR_SIZE);
  writeHeader(out, VD_TERMINATOR);
  return out;
}

function writeHeader(out: Uint8Array, type: number): void {
  out[VD_FIELDS.type] = type;
  for (let i = 0; i < 5; i++) out[VD_FIELDS.standardId + i] = ISO_STANDARD_ID.charCodeAt(i);
  out[VD_FIELDS.version] = 1;
}

/** Whether a sector starts like a volume descriptor ("CD001"); returns its type or undefined. */
export function volumeDescriptorType(sector: Uint8Array): number | undefined {
  if (sector.length < 7) return undefined;
  for (let i = 0; i < 5; i++) if (sector[VD_FIELDS.standardId + i] !== ISO_STANDARD_ID.charCodeAt(i)) return undefined;
  return sector[VD_FIELDS.type];
}

/** Decodes a primary or supplementary descriptor; `subject` and `offset` name it in errors. */
export function decodeVolumeDescriptor(sector: Uint8Array, subject: string, offset: number): VolumeDescriptor {
  const type = volumeDescriptorType(sector);
  if (type !== VD_PRIMARY && type !== VD_SUPPLEMENTARY) {
    throw corruptError(subject, 'volume descriptor', offset, `type ${type ?? 'unknown'} is not primary or supplementary`);
  }
  if (sector.length < ISO_SECTOR_SIZE) throw corruptError(subject, 'volume descriptor', offset, 'shorter than a sector');
  const F = VD_FIELDS;
  const joliet = type === VD_SUPPLEMENTARY && JOLIET_ESCAPES.some((e) => e.every((c, i) => sector[F.escapeSequences + i] === c));
  const get = joliet ? getPaddedUcs2 : getPadded;
  const ids = {} as Record<IdentifierField, string>;
  for (const key of Object.keys(WIDTH) as IdentifierField[]) ids[key] = get(sector, F[key], WIDTH[key]);
  return {
    type,
    joliet,
    ...ids,
    volumeSpaceSize: getBoth32(sector, F.volumeSpaceSize),
    volumeSetSize: getBoth16(sector, F.volumeSetSize),
    volumeSequenceNumber: getBoth16(sector, F.volumeSequenceNumber),
    logicalBlockSize: getBoth16(sector, F.logicalBlockSize),
    pathTableSize: getBoth32(sector, F.pathTableSize),
    typeLPathTable: getLe32(sector, F.typeLPathTable),
    typeMPathTable: getBe32(sector, F.typeMPathTable),
    rootDirectoryRecord: sector.slice(F.rootDirectoryRecord, F.rootDirectoryRecord + 34),
    creationDate: decodeDecDateTime(sector, F.creationDate),
    modificationDate: decodeDecDateTime(sector, F.modificationDate),
    expirationDate: decodeDecDateTime(sector, F.expirationDate),
    effectiveDate: decodeDecDateTime(sector, F.effectiveDate),
  };
}

/** The boot catalog sector named by an El Torito boot record, or undefined if it is another boot system. */
export function decodeBootRecord(sector: Uint8Array): number | undefined {
  const id = getPadded(sector, BOOT_RECORD_FIELDS.bootSystemId, 32);
  if (id !== EL_TORITO_SYSTEM_ID) return undefined;
  return getLe32(sector, BOOT_RECORD_FIELDS.catalogSector);
}
