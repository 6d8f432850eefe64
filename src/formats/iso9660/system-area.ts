/**
 * The hybrid system area: an MBR in sector 0 (isohybrid style: user boot code, the 512-byte LBA
 * of the El Torito boot image at byte 432, the disk signature at 440, partition entries with
 * 64-head/32-sector CHS values) and optionally a GPT (header at 512-byte LBA 1, 248 entries at
 * LBA 2..63 so that everything stays within the 32 KiB system area, backup at the end of the
 * image), laid out as `xorriso -as mkisofs -isohybrid-mbr … -isohybrid-gpt-basdat` does.
 *
 * GPT headers, entries, GUIDs and CHS values come from the general codecs in src/formats/gpt;
 * only what is particular to isohybrid stays here: the MBR with its boot image pointer and the
 * bootable type-0 entry over the ISO that xorriso writes next to a GPT (the general MBR encoder
 * refuses type 0, rightly for ordinary disks).
 */
import { ReprimageError } from '../../errors.js';
import {
  MBR_FIELDS as DISK_MBR_FIELDS, MBR_ENTRY_FIELDS, MBR_ENTRY_SIZE, crc32, decodeGptEntries as decodeDiskGptEntries, decodeGptHeader as decodeDiskGptHeader,
  decodeMbr as decodeDiskMbr, encodeChs, protectiveMbr, encodeGptEntries as encodeDiskGptEntries, encodeGptHeader as encodeDiskGptHeader, hasBootSignature, hasGptSignature,
  type ChsGeometry, type GptEntry, type GptHeader,
} from '../gpt/index.js';
import { putLe32, putLe64 } from './numbers.js';

export { decodeGuid, encodeGuid } from '../gpt/index.js';

export const MBR_SIZE = 512;
/** Bytes of boot code kept from the user's MBR template (isohdpfx.bin is exactly this long). */
export const MBR_BOOT_CODE_SIZE = 432;
export const MBR_FIELDS = { bootImageLba: 432, diskSignature: DISK_MBR_FIELDS.diskSignature, partitionTable: DISK_MBR_FIELDS.partitionTable, bootSignature: DISK_MBR_FIELDS.bootSignature } as const;
export const MBR_HEADS = 64;
export const MBR_SECTORS_PER_TRACK = 32;
const ISOHYBRID_CHS: ChsGeometry = { heads: MBR_HEADS, sectorsPerTrack: MBR_SECTORS_PER_TRACK };
/** isohybrid images are padded to whole cylinders: 64 × 32 × 512 bytes = 1 MiB. */
export const MBR_CYLINDER_BYTES = MBR_HEADS * MBR_SECTORS_PER_TRACK * 512;

export const GPT_ENTRY_COUNT = 248;
export const GPT_ENTRY_SIZE = 128;
export const GPT_ENTRIES_SECTORS = (GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) / 512;
export const GPT_TYPE_BASIC_DATA = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';
export const GPT_TYPE_EFI_SYSTEM = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

export interface MbrPartition {
  bootable: boolean;
  type: number;
  /** First 512-byte sector. */
  start: number;
  /** Number of 512-byte sectors. */
  sectors: number;
}

/** A GPT entry; first and last 512-byte sector inclusive, GUIDs as lower-case text when read. */
export type GptPartition = GptEntry;

/** Sector 0: boot code, boot image pointer, disk signature, up to four partitions, 55 AA. */
export function encodeMbr(bootCode: Uint8Array | undefined, bootImageLba512: number, diskSignature: number, partitions: readonly MbrPartition[]): Uint8Array {
  if (partitions.length > 4) throw new ReprimageError('USAGE', 'MBR', `at most 4 partitions, got ${partitions.length}`);
  const out = new Uint8Array(MBR_SIZE);
  if (bootCode) {
    out.set(bootCode.subarray(0, MBR_BOOT_CODE_SIZE));
    putLe64(out, MBR_FIELDS.bootImageLba, bootImageLba512);
  }
  putLe32(out, MBR_FIELDS.diskSignature, diskSignature >>> 0);
  partitions.forEach((p, i) => {
    const at = MBR_FIELDS.partitionTable + MBR_ENTRY_SIZE * i;
    out[at + MBR_ENTRY_FIELDS.status] = p.bootable ? 0x80 : 0;
    out.set(encodeChs(p.start, ISOHYBRID_CHS), at + MBR_ENTRY_FIELDS.chsFirst);
    out[at + MBR_ENTRY_FIELDS.type] = p.type;
    out.set(encodeChs(p.start + p.sectors - 1, ISOHYBRID_CHS), at + MBR_ENTRY_FIELDS.chsLast);
    putLe32(out, at + MBR_ENTRY_FIELDS.firstLba, p.start);
    putLe32(out, at + MBR_ENTRY_FIELDS.sectors, p.sectors);
  });
  out[MBR_FIELDS.bootSignature] = 0x55;
  out[MBR_FIELDS.bootSignature + 1] = 0xaa;
  return out;
}

/** The protective MBR of a GPT-only image of `total512` sectors (one 0xEE entry from sector 1). */
export function encodeProtectiveMbr(total512: number, diskSignature: number): Uint8Array {
  return protectiveMbr(total512, { diskSignature, geometry: ISOHYBRID_CHS });
}

/**
 * The partitions of an MBR, or undefined when sector 0 has no 55 AA signature or is not a
 * partition table at all (an ISO's system area may hold anything; it is optional).
 */
export function decodeMbr(sector0: Uint8Array): { diskSignature: number; partitions: MbrPartition[] } | undefined {
  if (!hasBootSignature(sector0)) return undefined;
  let mbr;
  try {
    mbr = decodeDiskMbr(sector0);
  } catch {
    return undefined;
  }
  // xorriso's bootable type-0 entry over the ISO (next to a GPT) counts; an empty slot does not.
  const partitions: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const p = mbr.partitions[i];
    if (p) {
      partitions.push({ bootable: p.bootable, type: p.type, start: p.firstLba, sectors: p.sectors });
      continue;
    }
    const at = MBR_FIELDS.partitionTable + MBR_ENTRY_SIZE * i;
    const view = new DataView(sector0.buffer, sector0.byteOffset + at, MBR_ENTRY_SIZE);
    const sectors = view.getUint32(MBR_ENTRY_FIELDS.sectors, true);
    if (sectors > 0) partitions.push({ bootable: sector0[at] === 0x80, type: 0, start: view.getUint32(MBR_ENTRY_FIELDS.firstLba, true), sectors });
  }
  return { diskSignature: mbr.diskSignature, partitions };
}

/** CRC-32 (IEEE 802.3), as the GPT header and entry array use: the same CRC gzip uses. */
export { crc32 };

/** The GPT entry array (GPT_ENTRY_COUNT entries). */
export function encodeGptEntries(partitions: readonly GptPartition[]): Uint8Array {
  return encodeDiskGptEntries(partitions, GPT_ENTRY_COUNT, GPT_ENTRY_SIZE);
}

/** A GPT header sector (primary when `myLba` is 1, backup when it is the last sector). */
export function encodeGptHeader(h: { myLba: number; alternateLba: number; firstUsableLba: number; lastUsableLba: number; diskGuid: string; entriesLba: number; entriesCrc: number }): Uint8Array {
  return encodeDiskGptHeader({ ...h, entryCount: GPT_ENTRY_COUNT, entrySize: GPT_ENTRY_SIZE });
}

export interface GptInfo {
  diskGuid: string;
  firstUsableLba: number;
  lastUsableLba: number;
  alternateLba: number;
  partitions: GptPartition[];
}

/**
 * Decodes and checks (signature, revision, size, CRC) a primary GPT header sector; undefined
 * without "EFI PART". Bad headers are CORRUPT_IMAGE naming `subject`.
 */
export function decodeGptHeader(sector: Uint8Array, subject: string, offset: number): GptHeader | undefined {
  return hasGptSignature(sector) ? decodeDiskGptHeader(sector, subject, offset) : undefined;
}

/** The used entries of an entry array, in slot order. */
export function decodeGptEntries(bytes: Uint8Array, entryCount: number, entrySize: number): GptPartition[] {
  return decodeDiskGptEntries(bytes, entryCount, entrySize).filter((e): e is GptEntry => e !== undefined);
}
