/**
 * The FAT boot sector (BIOS parameter block, fatgen103 §3) for FAT12/16 and FAT32, and the FAT32
 * FSInfo sector (§5). Pure byte codecs: `decodeBootSector` checks nothing beyond the signature
 * bytes it needs to tell the layouts apart; `validateBootSector` (reader) checks the values.
 */
import { truncatedError } from '../../errors.js';
import { FAT_BOOT_SIGNATURE, FAT_EXT_BOOT_SIGNATURE, type FatType } from './constants.js';

/** The boot sector (and FSInfo) structure size; also the only sector size the writer makes. */
export const BOOT_SECTOR_SIZE = 512;

/** Byte offsets of the fields shared by every FAT type (BPB proper). */
const F = {
  jmpBoot: 0, oemName: 3, bytesPerSector: 11, sectorsPerCluster: 13, reservedSectors: 14,
  numFats: 16, rootEntries: 17, totalSectors16: 19, media: 21, fatSize16: 22,
  sectorsPerTrack: 24, numHeads: 26, hiddenSectors: 28, totalSectors32: 32,
  signature: 510,
} as const;

/** Offsets of the extended fields; FAT32 moves them 28 bytes down. */
const EXT16 = { driveNumber: 36, reserved1: 37, bootSig: 38, volumeId: 39, volumeLabel: 43, fsType: 54, bootCode: 62 } as const;
const EXT32 = {
  fatSize32: 36, extFlags: 40, fsVersion: 42, rootCluster: 44, fsInfoSector: 48, backupBootSector: 50,
  driveNumber: 64, reserved1: 65, bootSig: 66, volumeId: 67, volumeLabel: 71, fsType: 82, bootCode: 90,
} as const;

/** A decoded boot sector: every BPB field, with FAT12/16 and FAT32 layouts merged. */
export interface BootSector {
  jmpBoot: Uint8Array;
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  /** BPB_RootEntCnt: 0 on FAT32. */
  rootEntries: number;
  /** The one of BPB_TotSec16/BPB_TotSec32 that is in use. */
  totalSectors: number;
  media: number;
  /** BPB_FATSz16, or BPB_FATSz32 when BPB_FATSz16 is 0. */
  fatSectors: number;
  sectorsPerTrack: number;
  numHeads: number;
  hiddenSectors: number;
  /** True when BPB_FATSz16 is 0: the FAT32 layout of the extended fields. */
  fat32Layout: boolean;
  /** FAT32 only (0 otherwise). */
  extFlags: number;
  fsVersion: number;
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;
  driveNumber: number;
  /** BS_BootSig; the three fields after it are meaningful only when it is 0x29. */
  bootSignature: number;
  volumeId: number;
  volumeLabel: string;
  fsTypeLabel: string;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return Buffer.from(bytes.subarray(at, at + length)).toString('latin1');
}

function putAscii(out: Uint8Array, at: number, length: number, text: string): void {
  const padded = text.padEnd(length, ' ').slice(0, length);
  for (let i = 0; i < length; i++) out[at + i] = padded.charCodeAt(i) & 0xff;
}

/** Decodes the first 512 bytes of a FAT volume. Throws TRUNCATED when fewer are given. */
export function decodeBootSector(bytes: Uint8Array, subject: string): BootSector {
  if (bytes.length < BOOT_SECTOR_SIZE) throw truncatedError(subject, 'FAT boot sector', 0, BOOT_SECTOR_SIZE - bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, BOOT_SECTOR_SIZE);
  const fatSize16 = v.getUint16(F.fatSize16, true);
  const fat32Layout = fatSize16 === 0;
  const e = fat32Layout ? EXT32 : EXT16;
  const total16 = v.getUint16(F.totalSectors16, true);
  return {
    jmpBoot: bytes.slice(F.jmpBoot, F.jmpBoot + 3),
    oemName: ascii(bytes, F.oemName, 8),
    bytesPerSector: v.getUint16(F.bytesPerSector, true),
    sectorsPerCluster: v.getUint8(F.sectorsPerCluster),
    reservedSectors: v.getUint16(F.reservedSectors, true),
    numFats: v.getUint8(F.numFats),
    rootEntries: v.getUint16(F.rootEntries, true),
    totalSectors: total16 !== 0 ? total16 : v.getUint32(F.totalSectors32, true),
    media: v.getUint8(F.media),
    fatSectors: fat32Layout ? v.getUint32(EXT32.fatSize32, true) : fatSize16,
    sectorsPerTrack: v.getUint16(F.sectorsPerTrack, true),
    numHeads: v.getUint16(F.numHeads, true),
    hiddenSectors: v.getUint32(F.hiddenSectors, true),
    fat32Layout,
    extFlags: fat32Layout ? v.getUint16(EXT32.extFlags, true) : 0,
    fsVersion: fat32Layout ? v.getUint16(EXT32.fsVersion, true) : 0,
    rootCluster: fat32Layout ? v.getUint32(EXT32.rootCluster, true) : 0,
    fsInfoSector: fat32Layout ? v.getUint16(EXT32.fsInfoSector, true) : 0,
    backupBootSector: fat32Layout ? v.getUint16(EXT32.backupBootSector, true) : 0,
    driveNumber: v.getUint8(e.driveNumber),
    bootSignature: v.getUint8(e.bootSig),
    volumeId: v.getUint32(e.volumeId, true),
    volumeLabel: ascii(bytes, e.volumeLabel, 11),
    fsTypeLabel: ascii(bytes, e.fsType, 8),
  };
}

/** What the writer puts into a boot sector. */
export interface BootSectorFields {
  fatType: FatType;
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  rootEntries: number;
  totalSectors: number;
  media: number;
  fatSectors: number;
  sectorsPerTrack: number;
  numHeads: number;
  hiddenSectors: number;
  driveNumber: number;
  volumeId: number;
  /** 11 characters, already upper-cased and validated ("NO NAME" when there is none). */
  volumeLabel: string;
  /** FAT32 only. */
  rootCluster?: number;
  fsInfoSector?: number;
  backupBootSector?: number;
}

/**
 * Boot code of our own: `int 18h` (tell the BIOS this disk does not boot, so it tries the next
 * device), then `hlt` in a loop. The jump at byte 0 lands on it.
 */
const BOOT_CODE = Uint8Array.of(0xcd, 0x18, 0xf4, 0xeb, 0xfd);

/** Encodes a boot sector; the result is one 512-byte sector ending in 0x55 0xAA. */
export function encodeBootSector(f: BootSectorFields): Uint8Array {
  const out = new Uint8Array(BOOT_SECTOR_SIZE);
  const v = new DataView(out.buffer);
  const fat32 = f.fatType === 32;
  const e = fat32 ? EXT32 : EXT16;
  out[0] = 0xeb; // short jump over the BPB to the boot code, then NOP (fatgen103 §3.1)
  out[1] = e.bootCode - 2;
  out[2] = 0x90;
  putAscii(out, F.oemName, 8, f.oemName);
  v.setUint16(F.bytesPerSector, f.bytesPerSector, true);
  v.setUint8(F.sectorsPerCluster, f.sectorsPerCluster);
  v.setUint16(F.reservedSectors, f.reservedSectors, true);
  v.setUint8(F.numFats, f.numFats);
  v.setUint16(F.rootEntries, fat32 ? 0 : f.rootEntries, true);
  // BPB_TotSec16 holds the count when it fits, as mkfs.fat and Windows write it.
  if (f.totalSectors < 0x10000) v.setUint16(F.totalSectors16, f.totalSectors, true);
  else v.setUint32(F.totalSectors32, f.totalSectors, true);
  v.setUint8(F.media, f.media);
  v.setUint16(F.fatSize16, fat32 ? 0 : f.fatSectors, true);
  v.setUint16(F.sectorsPerTrack, f.sectorsPerTrack, true);
  v.setUint16(F.numHeads, f.numHeads, true);
  v.setUint32(F.hiddenSectors, f.hiddenSectors, true);
  if (fat32) {
    v.setUint32(EXT32.fatSize32, f.fatSectors, true);
    v.setUint16(EXT32.extFlags, 0, true); // FATs mirrored
    v.setUint16(EXT32.fsVersion, 0, true);
    v.setUint32(EXT32.rootCluster, f.rootCluster ?? 2, true);
    v.setUint16(EXT32.fsInfoSector, f.fsInfoSector ?? 1, true);
    v.setUint16(EXT32.backupBootSector, f.backupBootSector ?? 6, true);
  }
  v.setUint8(e.driveNumber, f.driveNumber);
  v.setUint8(e.bootSig, FAT_EXT_BOOT_SIGNATURE);
  v.setUint32(e.volumeId, f.volumeId >>> 0, true);
  putAscii(out, e.volumeLabel, 11, f.volumeLabel);
  putAscii(out, e.fsType, 8, fat32 ? 'FAT32' : f.fatType === 16 ? 'FAT16' : 'FAT12');
  out.set(BOOT_CODE, e.bootCode);
  v.setUint16(F.signature, FAT_BOOT_SIGNATURE, true);
  return out;
}

/** FSInfo (fatgen103 §5): signatures and the two hints. */
const FSI = { leadSig: 0, strucSig: 484, freeCount: 488, nextFree: 492, trailSig: 508 } as const;
export const FSINFO_LEAD_SIGNATURE = 0x41615252;
export const FSINFO_STRUCT_SIGNATURE = 0x61417272;
export const FSINFO_TRAIL_SIGNATURE = 0xaa550000;
/** "Not known" for both hints. */
export const FSINFO_UNKNOWN = 0xffffffff;

/** The FAT32 FSInfo hints; `valid` says whether all three signatures were right. */
export interface FsInfo {
  freeCount: number;
  nextFree: number;
  valid: boolean;
}

/** One 512-byte FSInfo sector with its three signatures and the two hints. */
export function encodeFsInfo(freeCount: number, nextFree: number): Uint8Array {
  const out = new Uint8Array(BOOT_SECTOR_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(FSI.leadSig, FSINFO_LEAD_SIGNATURE, true);
  v.setUint32(FSI.strucSig, FSINFO_STRUCT_SIGNATURE, true);
  v.setUint32(FSI.freeCount, freeCount >>> 0, true);
  v.setUint32(FSI.nextFree, nextFree >>> 0, true);
  v.setUint32(FSI.trailSig, FSINFO_TRAIL_SIGNATURE, true);
  return out;
}

/** Decodes an FSInfo sector; never throws (a short or wrong sector comes back with `valid` false). */
export function decodeFsInfo(bytes: Uint8Array): FsInfo {
  const v = new DataView(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, BOOT_SECTOR_SIZE));
  if (bytes.length < BOOT_SECTOR_SIZE) return { freeCount: FSINFO_UNKNOWN, nextFree: FSINFO_UNKNOWN, valid: false };
  return {
    freeCount: v.getUint32(FSI.freeCount, true),
    nextFree: v.getUint32(FSI.nextFree, true),
    valid:
      v.getUint32(FSI.leadSig, true) === FSINFO_LEAD_SIGNATURE &&
      v.getUint32(FSI.strucSig, true) === FSINFO_STRUCT_SIGNATURE &&
      v.getUint32(FSI.trailSig, true) === FSINFO_TRAIL_SIGNATURE,
  };
}
