/**
 * The master boot record in sector 0: boot code, disk signature, four partition entries with
 * CHS and LBA addresses, and the 55 AA signature. Pure codecs; sizes in 512-byte sectors.
 *
 *   0..439   boot code (optional; isohybrid loaders keep a boot image LBA at 432 inside it)
 *   440..443 disk signature (Linux shows it as the "disk identifier")
 *   444..445 zero (or 5A 5A: copy-protected)
 *   446..509 four 16-byte partition entries
 *   510..511 55 AA
 */
import { ReprimageError, corruptError } from '../../errors.js';

export const MBR_SIZE = 512;
export const MBR_BOOT_CODE_SIZE = 440;
export const MBR_FIELDS = { diskSignature: 440, reserved: 444, partitionTable: 446, bootSignature: 510 } as const;
export const MBR_ENTRY_SIZE = 16;
export const MBR_ENTRY_FIELDS = { status: 0, chsFirst: 1, type: 4, chsLast: 5, firstLba: 8, sectors: 12 } as const;
/** The type of the single partition of a protective MBR (UEFI 2.10 §5.2.3). */
export const MBR_TYPE_GPT_PROTECTIVE = 0xee;
/** Types that hold a chain of extended boot records (logical partitions). */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

/** CHS geometry used to fill the CHS fields; 255 heads × 63 sectors is what fdisk and sfdisk use. */
export interface ChsGeometry {
  heads: number;
  sectorsPerTrack: number;
}
export const DEFAULT_CHS: ChsGeometry = { heads: 255, sectorsPerTrack: 63 };

export interface MbrPartition {
  /** Status byte 0x80. */
  bootable: boolean;
  type: number;
  /** First sector (LBA) and number of sectors. */
  firstLba: number;
  sectors: number;
  /** CHS bytes as stored; computed from the geometry when absent. */
  chsFirst?: readonly [number, number, number];
  chsLast?: readonly [number, number, number];
}

export interface Mbr {
  /** Up to 440 bytes placed at byte 0; zeros when absent. */
  bootCode?: Uint8Array;
  diskSignature: number;
  /** Up to four entries, placed in slots 1-4 in order; `undefined` leaves a slot empty. */
  partitions: ReadonlyArray<MbrPartition | undefined>;
  geometry?: ChsGeometry;
}

/**
 * The 3 CHS bytes (head, sector | cylinder high bits, cylinder low byte) of an LBA; addresses
 * past cylinder 1023 are stored as 1023/heads-1/sectors, as every partitioner does.
 */
export function encodeChs(lba: number, g: ChsGeometry = DEFAULT_CHS): [number, number, number] {
  let c = Math.floor(lba / (g.heads * g.sectorsPerTrack));
  let h = Math.floor(lba / g.sectorsPerTrack) % g.heads;
  let s = (lba % g.sectorsPerTrack) + 1;
  if (c > 1023) [c, h, s] = [1023, g.heads - 1, g.sectorsPerTrack];
  return [h, (s & 0x3f) | ((c >> 2) & 0xc0), c & 0xff];
}

/** Sector 0 of a disk. A USAGE error for more than four entries or values that do not fit. */
export function encodeMbr(mbr: Mbr): Uint8Array {
  const out = new Uint8Array(MBR_SIZE);
  const v = new DataView(out.buffer);
  if (mbr.bootCode) {
    if (mbr.bootCode.length > MBR_BOOT_CODE_SIZE) throw new ReprimageError('USAGE', 'MBR boot code', `at most ${MBR_BOOT_CODE_SIZE} bytes, got ${mbr.bootCode.length}`);
    out.set(mbr.bootCode);
  }
  if (mbr.partitions.length > 4) throw new ReprimageError('USAGE', 'MBR', `at most 4 primary partitions, got ${mbr.partitions.length}`);
  v.setUint32(MBR_FIELDS.diskSignature, mbr.diskSignature >>> 0, true);
  const g = mbr.geometry ?? DEFAULT_CHS;
  mbr.partitions.forEach((p, i) => {
    if (!p) return;
    if (!fitsU32(p.firstLba) || !fitsU32(p.sectors) || p.type < 1 || p.type > 0xff) {
      throw new ReprimageError('USAGE', `MBR partition ${i + 1}`, `start ${p.firstLba}, ${p.sectors} sectors, type ${p.type} do not fit an MBR entry (32-bit sectors, type 1-255)`);
    }
    const at = MBR_FIELDS.partitionTable + MBR_ENTRY_SIZE * i;
    const F = MBR_ENTRY_FIELDS;
    out[at + F.status] = p.bootable ? 0x80 : 0;
    out.set(p.chsFirst ?? encodeChs(p.firstLba, g), at + F.chsFirst);
    out[at + F.type] = p.type;
    out.set(p.chsLast ?? encodeChs(p.firstLba + Math.max(p.sectors, 1) - 1, g), at + F.chsLast);
    v.setUint32(at + F.firstLba, p.firstLba, true);
    v.setUint32(at + F.sectors, p.sectors, true);
  });
  out[MBR_FIELDS.bootSignature] = 0x55;
  out[MBR_FIELDS.bootSignature + 1] = 0xaa;
  return out;
}

/**
 * The protective MBR of a GPT disk of `totalSectors` sectors: one 0xEE partition from sector 1
 * to the end (or 2^32-1 sectors), CHS 0/0/2 to the end clamped, as the UEFI specification asks.
 */
export function protectiveMbr(totalSectors: number, options: { bootCode?: Uint8Array; diskSignature?: number; geometry?: ChsGeometry } = {}): Uint8Array {
  const sectors = Math.min(totalSectors - 1, 0xffffffff);
  return encodeMbr({
    bootCode: options.bootCode,
    diskSignature: options.diskSignature ?? 0,
    geometry: options.geometry,
    partitions: [{ bootable: false, type: MBR_TYPE_GPT_PROTECTIVE, firstLba: 1, sectors, chsFirst: [0, 2, 0] }],
  });
}

/** Whether sector 0 ends in 55 AA. */
export function hasBootSignature(sector0: Uint8Array): boolean {
  return sector0.length >= MBR_SIZE && sector0[MBR_FIELDS.bootSignature] === 0x55 && sector0[MBR_FIELDS.bootSignature + 1] === 0xaa;
}

/**
 * Decodes sector 0. Empty slots (type 0) come back as undefined, so slot numbers are kept.
 * CORRUPT_IMAGE when the 55 AA signature is missing or a status byte is neither 0 nor 0x80.
 */
export function decodeMbr(sector0: Uint8Array, subject = 'MBR', offset = 0): Mbr & { partitions: Array<MbrPartition | undefined> } {
  if (sector0.length < MBR_SIZE) throw new ReprimageError('TRUNCATED', subject, `truncated MBR at byte ${offset}`);
  if (!hasBootSignature(sector0)) throw corruptError(subject, 'MBR', offset, 'no 55 AA boot signature');
  const v = new DataView(sector0.buffer, sector0.byteOffset, MBR_SIZE);
  const partitions: Array<MbrPartition | undefined> = [];
  for (let i = 0; i < 4; i++) {
    const at = MBR_FIELDS.partitionTable + MBR_ENTRY_SIZE * i;
    const F = MBR_ENTRY_FIELDS;
    const type = sector0[at + F.type]!;
    const status = sector0[at + F.status]!;
    if (type === 0) {
      partitions.push(undefined);
      continue;
    }
    if (status !== 0 && status !== 0x80) throw corruptError(subject, `MBR partition entry ${i + 1}`, offset + at, `status byte 0x${status.toString(16)} is neither 0x00 nor 0x80`);
    const chs = (o: number) => [sector0[at + o]!, sector0[at + o + 1]!, sector0[at + o + 2]!] as const;
    partitions.push({
      bootable: status === 0x80,
      type,
      firstLba: v.getUint32(at + F.firstLba, true),
      sectors: v.getUint32(at + F.sectors, true),
      chsFirst: chs(F.chsFirst),
      chsLast: chs(F.chsLast),
    });
  }
  return { bootCode: sector0.slice(0, MBR_BOOT_CODE_SIZE), diskSignature: v.getUint32(MBR_FIELDS.diskSignature, true), partitions };
}

function fitsU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
