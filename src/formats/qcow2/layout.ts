/**
 * qcow2 on-disk structures (QEMU's docs/interop/qcow2.txt), all big-endian:
 *
 *   header (cluster 0) ─► L1 table ─► L2 tables ─► data clusters (plain or compressed)
 *                     └─► refcount table ─► refcount blocks (one count per host cluster)
 *
 * A guest offset splits into an L1 index, an L2 index and an offset in the cluster. An L2 entry
 * of 0 (or with the "all zeros" flag of version 3) reads as zeros.
 */
import { corruptError, truncatedError } from '../../errors.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
/** Header length of version 3 as QEMU 5.1 and later write it (with the compression type byte). */
export const QCOW2_HEADER_V3_SIZE = 112;
export const QCOW2_HEADER_V2_SIZE = 72;

/** Byte offsets of the header fields. */
export const QCOW2_HEADER_FIELDS = {
  magic: 0, version: 4, backingFileOffset: 8, backingFileSize: 16, clusterBits: 20, size: 24, cryptMethod: 32,
  l1Size: 36, l1TableOffset: 40, refcountTableOffset: 48, refcountTableClusters: 56, nbSnapshots: 60, snapshotsOffset: 64,
  incompatibleFeatures: 72, compatibleFeatures: 80, autoclearFeatures: 88, refcountOrder: 96, headerLength: 100, compressionType: 104,
} as const;
const F = QCOW2_HEADER_FIELDS;

/** L1/L2 entry bits. */
export const QCOW2_OFLAG_COPIED = 1n << 63n;
export const QCOW2_OFLAG_COMPRESSED = 1n << 62n;
export const QCOW2_OFLAG_ZERO = 1n;
export const QCOW2_OFFSET_MASK = 0x00fffffffffffe00n;

/** Incompatible feature bits. */
export const QCOW2_INCOMPAT = { dirty: 0, corrupt: 1, externalDataFile: 2, compressionType: 3, extendedL2: 4 } as const;

export interface Qcow2Header {
  version: number;
  backingFileOffset: bigint;
  backingFileSize: number;
  clusterBits: number;
  size: bigint;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: bigint;
  refcountTableOffset: bigint;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: bigint;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  /** 0 deflate, 1 zstd (version 3 with a header of more than 104 bytes). */
  compressionType: number;
}

export function sniffQcow2(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb;
}

export function decodeQcow2Header(bytes: Uint8Array, subject: string): Qcow2Header {
  if (bytes.length < QCOW2_HEADER_V2_SIZE) throw truncatedError(subject, 'qcow2 header', 0, QCOW2_HEADER_V2_SIZE - bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (v.getUint32(F.magic) !== QCOW2_MAGIC) throw corruptError(subject, 'qcow2 header', 0, 'bad magic');
  const version = v.getUint32(F.version);
  if (version !== 2 && version !== 3) throw corruptError(subject, 'qcow2 header', F.version, `version ${version} (2 or 3 expected)`);
  const v3 = version === 3;
  if (v3 && bytes.length < 104) throw truncatedError(subject, 'qcow2 version 3 header', 0, 104 - bytes.length);
  const headerLength = v3 ? v.getUint32(F.headerLength) : QCOW2_HEADER_V2_SIZE;
  return {
    version,
    backingFileOffset: v.getBigUint64(F.backingFileOffset),
    backingFileSize: v.getUint32(F.backingFileSize),
    clusterBits: v.getUint32(F.clusterBits),
    size: v.getBigUint64(F.size),
    cryptMethod: v.getUint32(F.cryptMethod),
    l1Size: v.getUint32(F.l1Size),
    l1TableOffset: v.getBigUint64(F.l1TableOffset),
    refcountTableOffset: v.getBigUint64(F.refcountTableOffset),
    refcountTableClusters: v.getUint32(F.refcountTableClusters),
    nbSnapshots: v.getUint32(F.nbSnapshots),
    snapshotsOffset: v.getBigUint64(F.snapshotsOffset),
    incompatibleFeatures: v3 ? v.getBigUint64(F.incompatibleFeatures) : 0n,
    compatibleFeatures: v3 ? v.getBigUint64(F.compatibleFeatures) : 0n,
    autoclearFeatures: v3 ? v.getBigUint64(F.autoclearFeatures) : 0n,
    refcountOrder: v3 ? v.getUint32(F.refcountOrder) : 4,
    headerLength,
    compressionType: v3 && headerLength > F.compressionType && bytes.length > F.compressionType ? bytes[F.compressionType]! : 0,
  };
}

/** The header as version 3 with `headerLength` bytes (112), followed by the end of extensions. */
export function encodeQcow2Header(h: Qcow2Header): Uint8Array {
  const out = new Uint8Array(h.headerLength + 8); // + an end-of-extensions marker (type 0, length 0)
  const v = new DataView(out.buffer);
  v.setUint32(F.magic, QCOW2_MAGIC);
  v.setUint32(F.version, h.version);
  v.setBigUint64(F.backingFileOffset, h.backingFileOffset);
  v.setUint32(F.backingFileSize, h.backingFileSize);
  v.setUint32(F.clusterBits, h.clusterBits);
  v.setBigUint64(F.size, h.size);
  v.setUint32(F.cryptMethod, h.cryptMethod);
  v.setUint32(F.l1Size, h.l1Size);
  v.setBigUint64(F.l1TableOffset, h.l1TableOffset);
  v.setBigUint64(F.refcountTableOffset, h.refcountTableOffset);
  v.setUint32(F.refcountTableClusters, h.refcountTableClusters);
  v.setUint32(F.nbSnapshots, h.nbSnapshots);
  v.setBigUint64(F.snapshotsOffset, h.snapshotsOffset);
  v.setBigUint64(F.incompatibleFeatures, h.incompatibleFeatures);
  v.setBigUint64(F.compatibleFeatures, h.compatibleFeatures);
  v.setBigUint64(F.autoclearFeatures, h.autoclearFeatures);
  v.setUint32(F.refcountOrder, h.refcountOrder);
  v.setUint32(F.headerLength, h.headerLength);
  out[F.compressionType] = h.compressionType;
  return out;
}

/** Bit where the sector count of a compressed cluster descriptor starts: 62 - (cluster_bits - 8). */
export function compressedShift(clusterBits: number): number {
  return 62 - (clusterBits - 8);
}
