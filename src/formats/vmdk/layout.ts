/**
 * VMDK sparse extents (VMware Virtual Disk Format 5.0), little-endian:
 *
 *   streamOptimized: header (gdOffset = GD_AT_END) │ descriptor │ grains, each a 12-byte
 *   (lba, size) prefix + zlib data, sector-padded │ per 512 grains: GT marker + grain table │
 *   GD marker + grain directory │ footer marker + footer (the header with the real gdOffset) │
 *   end-of-stream marker
 *
 *   monolithicSparse (qemu-img's default): header │ descriptor │ redundant GD/GTs │ GD/GTs │
 *   uncompressed grains
 *
 * A grain table entry is the sector of a grain (0: not allocated, reads as zeros; 1: a zeroed
 * grain in version 2 and later).
 */
import { corruptError, truncatedError } from '../../errors.js';

export const VMDK_MAGIC = 0x564d444b; // "KDMV"
export const VMDK_HEADER_SIZE = 512;
export const VMDK_GD_AT_END = 0xffffffffffffffffn;
export const VMDK_FLAGS = { newlineDetect: 1 << 0, redundantGrainTable: 1 << 1, zeroedGrain: 1 << 2, compressed: 1 << 16, markers: 1 << 17 } as const;
export const VMDK_COMPRESSION_DEFLATE = 1;
export const VMDK_MARKER = { endOfStream: 0, grainTable: 1, grainDirectory: 2, footer: 3 } as const;

export const VMDK_HEADER_FIELDS = {
  magic: 0, version: 4, flags: 8, capacity: 12, grainSize: 20, descriptorOffset: 28, descriptorSize: 36, numGTEsPerGT: 44,
  rgdOffset: 48, gdOffset: 56, overHead: 64, uncleanShutdown: 72, singleEndLineChar: 73, nonEndLineChar: 74,
  doubleEndLineChar1: 75, doubleEndLineChar2: 76, compressAlgorithm: 77,
} as const;
const F = VMDK_HEADER_FIELDS;

export interface VmdkHeader {
  version: number;
  flags: number;
  /** Sectors. */
  capacity: bigint;
  /** Sectors per grain. */
  grainSize: bigint;
  descriptorOffset: bigint;
  descriptorSize: bigint;
  numGTEsPerGT: number;
  rgdOffset: bigint;
  gdOffset: bigint;
  overHead: bigint;
  uncleanShutdown: number;
  compressAlgorithm: number;
}

export function sniffVmdk(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x4b && head[1] === 0x44 && head[2] === 0x4d && head[3] === 0x56;
}

/** A VMDK descriptor file (the text part of a split or flat VMDK), which reprimage does not follow. */
export function isVmdkDescriptorText(head: Uint8Array): boolean {
  return new TextDecoder('latin1').decode(head.subarray(0, 21)) === '# Disk DescriptorFile';
}

export function encodeVmdkHeader(h: VmdkHeader): Uint8Array {
  const out = new Uint8Array(VMDK_HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(F.magic, VMDK_MAGIC, true);
  v.setUint32(F.version, h.version, true);
  v.setUint32(F.flags, h.flags, true);
  v.setBigUint64(F.capacity, h.capacity, true);
  v.setBigUint64(F.grainSize, h.grainSize, true);
  v.setBigUint64(F.descriptorOffset, h.descriptorOffset, true);
  v.setBigUint64(F.descriptorSize, h.descriptorSize, true);
  v.setUint32(F.numGTEsPerGT, h.numGTEsPerGT, true);
  v.setBigUint64(F.rgdOffset, h.rgdOffset, true);
  v.setBigUint64(F.gdOffset, h.gdOffset, true);
  v.setBigUint64(F.overHead, h.overHead, true);
  out[F.uncleanShutdown] = h.uncleanShutdown;
  out[F.singleEndLineChar] = 0x0a;
  out[F.nonEndLineChar] = 0x20;
  out[F.doubleEndLineChar1] = 0x0d;
  out[F.doubleEndLineChar2] = 0x0a;
  v.setUint16(F.compressAlgorithm, h.compressAlgorithm, true);
  return out;
}

export function decodeVmdkHeader(bytes: Uint8Array, subject: string, at: number): VmdkHeader {
  if (bytes.length < VMDK_HEADER_SIZE) throw truncatedError(subject, 'VMDK header', at, VMDK_HEADER_SIZE - bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, VMDK_HEADER_SIZE);
  if (v.getUint32(F.magic, true) !== VMDK_MAGIC) throw corruptError(subject, 'VMDK header', at, 'bad magic');
  return {
    version: v.getUint32(F.version, true),
    flags: v.getUint32(F.flags, true),
    capacity: v.getBigUint64(F.capacity, true),
    grainSize: v.getBigUint64(F.grainSize, true),
    descriptorOffset: v.getBigUint64(F.descriptorOffset, true),
    descriptorSize: v.getBigUint64(F.descriptorSize, true),
    numGTEsPerGT: v.getUint32(F.numGTEsPerGT, true),
    rgdOffset: v.getBigUint64(F.rgdOffset, true),
    gdOffset: v.getBigUint64(F.gdOffset, true),
    overHead: v.getBigUint64(F.overHead, true),
    uncleanShutdown: bytes[F.uncleanShutdown]!,
    compressAlgorithm: v.getUint16(F.compressAlgorithm, true),
  };
}

/** A metadata marker sector: `value` (sectors that follow), size 0, `type`. */
export function encodeVmdkMarker(value: number, type: number): Uint8Array {
  const out = new Uint8Array(512);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(value), true);
  v.setUint32(8, 0, true);
  v.setUint32(12, type, true);
  return out;
}

export interface VmdkDescriptorOptions {
  cid: number;
  createType: string;
  sectors: number;
  extentFile: string;
  adapterType: string;
}

/** The embedded descriptor text, in the layout VMware and qemu-img write. */
export function vmdkDescriptor(o: VmdkDescriptorOptions): string {
  const heads = o.adapterType === 'ide' ? 16 : 255;
  const cylinders = Math.min(65535, Math.floor(o.sectors / (heads * 63)));
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return [
    '# Disk DescriptorFile',
    'version=1',
    `CID=${hex(o.cid)}`,
    'parentCID=ffffffff',
    `createType="${o.createType}"`,
    '',
    '# Extent description',
    `RW ${o.sectors} SPARSE "${o.extentFile.replace(/"/g, '_')}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    'ddb.virtualHWVersion = "4"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    `ddb.geometry.heads = "${heads}"`,
    'ddb.geometry.sectors = "63"',
    `ddb.adapterType = "${o.adapterType}"`,
    '',
  ].join('\n');
}
