/**
 * VHD (Microsoft Virtual Hard Disk Image Format Specification 1.0), all big-endian:
 *
 *   fixed:   disk data │ footer (512)
 *   dynamic: footer copy (512) │ dynamic header (1024) │ BAT (u32 per block) │ blocks │ footer
 *            a block = sector bitmap (512 for 2 MiB) + data; BAT entry 0xFFFFFFFF = unallocated
 *
 * The footer's checksum is the one's complement of the sum of its bytes (checksum field zero).
 */
import { corruptError } from '../../errors.js';

export const VHD_COOKIE = 'conectix';
export const VHD_DYNAMIC_COOKIE = 'cxsparse';
export const VHD_FOOTER_SIZE = 512;
export const VHD_DYNAMIC_HEADER_SIZE = 1024;
/** Seconds from the Unix epoch to the VHD epoch, 2000-01-01 00:00:00 UTC. */
export const VHD_EPOCH = 946684800;
export const VHD_TYPE_FIXED = 2;
export const VHD_TYPE_DYNAMIC = 3;
export const VHD_TYPE_DIFFERENCING = 4;
export const VHD_BAT_UNUSED = 0xffffffff;
/** The geometry `qemu-img -o force_size` writes: it tells readers to take the current size as is. */
export const VHD_MAX_GEOMETRY = { cylinders: 65535, heads: 16, sectorsPerTrack: 255 } as const;

export const VHD_FOOTER_FIELDS = {
  cookie: 0, features: 8, formatVersion: 12, dataOffset: 16, timeStamp: 24, creatorApplication: 28, creatorVersion: 32,
  creatorHostOs: 36, originalSize: 40, currentSize: 48, cylinders: 56, heads: 58, sectorsPerTrack: 59, diskType: 60,
  checksum: 64, uniqueId: 68, savedState: 84,
} as const;
const F = VHD_FOOTER_FIELDS;

export const VHD_DYNAMIC_FIELDS = {
  cookie: 0, dataOffset: 8, tableOffset: 16, headerVersion: 24, maxTableEntries: 28, blockSize: 32, checksum: 36,
  parentUniqueId: 40, parentTimeStamp: 56,
} as const;
const D = VHD_DYNAMIC_FIELDS;

export interface VhdFooter {
  features: number;
  formatVersion: number;
  dataOffset: bigint;
  timeStamp: number;
  creatorApplication: string;
  creatorVersion: number;
  creatorHostOs: number;
  originalSize: bigint;
  currentSize: bigint;
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
  diskType: number;
  /** 16 bytes, as stored. */
  uniqueId: Uint8Array;
  savedState: number;
}

export interface VhdDynamicHeader {
  dataOffset: bigint;
  tableOffset: bigint;
  headerVersion: number;
  maxTableEntries: number;
  blockSize: number;
}

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** One's complement of the byte sum, skipping the 4 bytes of the checksum field at `at`. */
export function vhdChecksum(bytes: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) if (i < at || i >= at + 4) sum += bytes[i]!;
  return ~sum >>> 0;
}

export function isVhdFooter(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && ascii(bytes.subarray(0, 8)) === VHD_COOKIE;
}

export function encodeVhdFooter(f: VhdFooter): Uint8Array {
  const out = new Uint8Array(VHD_FOOTER_SIZE);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(VHD_COOKIE), F.cookie);
  v.setUint32(F.features, f.features);
  v.setUint32(F.formatVersion, f.formatVersion);
  v.setBigUint64(F.dataOffset, f.dataOffset);
  v.setUint32(F.timeStamp, f.timeStamp);
  out.set(new TextEncoder().encode(f.creatorApplication.padEnd(4, ' ').slice(0, 4)), F.creatorApplication);
  v.setUint32(F.creatorVersion, f.creatorVersion);
  v.setUint32(F.creatorHostOs, f.creatorHostOs);
  v.setBigUint64(F.originalSize, f.originalSize);
  v.setBigUint64(F.currentSize, f.currentSize);
  v.setUint16(F.cylinders, f.cylinders);
  out[F.heads] = f.heads;
  out[F.sectorsPerTrack] = f.sectorsPerTrack;
  v.setUint32(F.diskType, f.diskType);
  out.set(f.uniqueId.subarray(0, 16), F.uniqueId);
  out[F.savedState] = f.savedState;
  v.setUint32(F.checksum, vhdChecksum(out, F.checksum));
  return out;
}

/** A view of a footer or dynamic header whose stored checksum has been verified. */
function checkedView(bytes: Uint8Array, size: number, checksumAt: number, subject: string, what: string, at: number): DataView {
  const v = new DataView(bytes.buffer, bytes.byteOffset, size);
  const stored = v.getUint32(checksumAt);
  const expected = vhdChecksum(bytes.subarray(0, size), checksumAt);
  if (stored !== expected) throw corruptError(subject, what, at + checksumAt, `checksum 0x${stored.toString(16)}, expected 0x${expected.toString(16)}`);
  return v;
}

export function decodeVhdFooter(bytes: Uint8Array, subject: string, at: number): VhdFooter {
  if (!isVhdFooter(bytes) || bytes.length < VHD_FOOTER_SIZE) throw corruptError(subject, 'VHD footer', at, 'no "conectix" cookie');
  const v = checkedView(bytes, VHD_FOOTER_SIZE, F.checksum, subject, 'VHD footer', at);
  return {
    features: v.getUint32(F.features),
    formatVersion: v.getUint32(F.formatVersion),
    dataOffset: v.getBigUint64(F.dataOffset),
    timeStamp: v.getUint32(F.timeStamp),
    creatorApplication: ascii(bytes.subarray(F.creatorApplication, F.creatorApplication + 4)),
    creatorVersion: v.getUint32(F.creatorVersion),
    creatorHostOs: v.getUint32(F.creatorHostOs),
    originalSize: v.getBigUint64(F.originalSize),
    currentSize: v.getBigUint64(F.currentSize),
    cylinders: v.getUint16(F.cylinders),
    heads: bytes[F.heads]!,
    sectorsPerTrack: bytes[F.sectorsPerTrack]!,
    diskType: v.getUint32(F.diskType),
    uniqueId: bytes.slice(F.uniqueId, F.uniqueId + 16),
    savedState: bytes[F.savedState]!,
  };
}

export function encodeVhdDynamicHeader(h: VhdDynamicHeader): Uint8Array {
  const out = new Uint8Array(VHD_DYNAMIC_HEADER_SIZE);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(VHD_DYNAMIC_COOKIE), D.cookie);
  v.setBigUint64(D.dataOffset, h.dataOffset);
  v.setBigUint64(D.tableOffset, h.tableOffset);
  v.setUint32(D.headerVersion, h.headerVersion);
  v.setUint32(D.maxTableEntries, h.maxTableEntries);
  v.setUint32(D.blockSize, h.blockSize);
  v.setUint32(D.checksum, vhdChecksum(out, D.checksum));
  return out;
}

export function decodeVhdDynamicHeader(bytes: Uint8Array, subject: string, at: number): VhdDynamicHeader {
  if (bytes.length < VHD_DYNAMIC_HEADER_SIZE || ascii(bytes.subarray(0, 8)) !== VHD_DYNAMIC_COOKIE) throw corruptError(subject, 'VHD dynamic header', at, 'no "cxsparse" cookie');
  const v = checkedView(bytes, VHD_DYNAMIC_HEADER_SIZE, D.checksum, subject, 'VHD dynamic header', at);
  return {
    dataOffset: v.getBigUint64(D.dataOffset),
    tableOffset: v.getBigUint64(D.tableOffset),
    headerVersion: v.getUint32(D.headerVersion),
    maxTableEntries: v.getUint32(D.maxTableEntries),
    blockSize: v.getUint32(D.blockSize),
  };
}

/** A dynamic VHD starts with its footer copy; a fixed one is recognized only by its last 512 bytes. */
export function sniffVhd(head: Uint8Array): boolean {
  return isVhdFooter(head);
}
