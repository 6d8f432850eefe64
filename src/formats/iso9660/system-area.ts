/**
 * The hybrid system area: an MBR in sector 0 (isohybrid style: user boot code, the 512-byte LBA
 * of the El Torito boot image at byte 432, the disk signature at 440, partition entries with
 * 64-head/32-sector CHS values) and optionally a GPT (header at 512-byte LBA 1, 248 entries at
 * LBA 2..63 so that everything stays within the 32 KiB system area, backup at the end of the
 * image), laid out as `xorriso -as mkisofs -isohybrid-mbr … -isohybrid-gpt-basdat` does.
 */
import { crc32 } from '../../compress/crc32.js';
import { ReprimageError, corruptError } from '../../errors.js';
import { getLe16, getLe32, getLe64, putLe16, putLe32, putLe64 } from './numbers.js';

export const MBR_SIZE = 512;
/** Bytes of boot code kept from the user's MBR template (isohdpfx.bin is exactly this long). */
export const MBR_BOOT_CODE_SIZE = 432;
export const MBR_FIELDS = { bootImageLba: 432, diskSignature: 440, partitionTable: 446, bootSignature: 510 } as const;
export const MBR_HEADS = 64;
export const MBR_SECTORS_PER_TRACK = 32;
/** isohybrid images are padded to whole cylinders: 64 × 32 × 512 bytes = 1 MiB. */
export const MBR_CYLINDER_BYTES = MBR_HEADS * MBR_SECTORS_PER_TRACK * 512;

export const GPT_ENTRY_COUNT = 248;
export const GPT_ENTRY_SIZE = 128;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRIES_SECTORS = (GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) / 512;
export const GPT_FIELDS = {
  signature: 0, revision: 8, headerSize: 12, headerCrc: 16, myLba: 24, alternateLba: 32,
  firstUsableLba: 40, lastUsableLba: 48, diskGuid: 56, entriesLba: 72, entryCount: 80, entrySize: 84, entriesCrc: 88,
} as const;
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

export interface GptPartition {
  typeGuid: string;
  guid: string;
  /** First and last 512-byte sector, inclusive. */
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  name: string;
}

function chs(lba: number): [number, number, number] {
  let c = Math.floor(lba / (MBR_HEADS * MBR_SECTORS_PER_TRACK));
  let h = Math.floor(lba / MBR_SECTORS_PER_TRACK) % MBR_HEADS;
  let s = (lba % MBR_SECTORS_PER_TRACK) + 1;
  if (c > 1023) [c, h, s] = [1023, MBR_HEADS - 1, MBR_SECTORS_PER_TRACK];
  return [h, s | ((c >> 2) & 0xc0), c & 0xff];
}

/** Sector 0: boot code, boot image pointer, disk signature, up to four partitions, 55 AA. */
export function encodeMbr(bootCode: Uint8Array | undefined, bootImageLba512: number, diskSignature: number, partitions: readonly MbrPartition[]): Uint8Array {
  const out = new Uint8Array(MBR_SIZE);
  if (bootCode) {
    out.set(bootCode.subarray(0, MBR_BOOT_CODE_SIZE));
    putLe64(out, MBR_FIELDS.bootImageLba, bootImageLba512);
  }
  putLe32(out, MBR_FIELDS.diskSignature, diskSignature >>> 0);
  partitions.forEach((p, i) => {
    const at = MBR_FIELDS.partitionTable + 16 * i;
    out[at] = p.bootable ? 0x80 : 0;
    out.set(chs(p.start), at + 1);
    out[at + 4] = p.type;
    out.set(chs(p.start + p.sectors - 1), at + 5);
    putLe32(out, at + 8, p.start);
    putLe32(out, at + 12, p.sectors);
  });
  out[MBR_FIELDS.bootSignature] = 0x55;
  out[MBR_FIELDS.bootSignature + 1] = 0xaa;
  return out;
}

/** The partitions of an MBR, or undefined when sector 0 has no 55 AA signature. */
export function decodeMbr(sector0: Uint8Array): { diskSignature: number; partitions: MbrPartition[] } | undefined {
  if (sector0.length < MBR_SIZE || sector0[510] !== 0x55 || sector0[511] !== 0xaa) return undefined;
  const partitions: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const at = MBR_FIELDS.partitionTable + 16 * i;
    const type = sector0[at + 4]!;
    const sectors = getLe32(sector0, at + 12);
    if (type === 0 && sectors === 0) continue;
    partitions.push({ bootable: sector0[at] === 0x80, type, start: getLe32(sector0, at + 8), sectors });
  }
  return { diskSignature: getLe32(sector0, MBR_FIELDS.diskSignature), partitions };
}

/** CRC-32 (IEEE 802.3), as the GPT header and entry array use: the same CRC gzip uses. */
export { crc32 };

/** GUID text (8-4-4-4-12 hex) → the 16 mixed-endian bytes GPT stores. */
export function encodeGuid(text: string, subject = 'GUID'): Uint8Array {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (!m) throw new ReprimageError('USAGE', subject, `${JSON.stringify(text)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
  return Uint8Array.from([...hex(m[1]!).reverse(), ...hex(m[2]!).reverse(), ...hex(m[3]!).reverse(), ...hex(m[4]!), ...hex(m[5]!)]);
}

export function decodeGuid(b: Uint8Array, at = 0): string {
  const h = (from: number, to: number, rev: boolean) => {
    const bytes = [...b.subarray(at + from, at + to)];
    if (rev) bytes.reverse();
    return bytes.map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`.toUpperCase();
}

/** The GPT entry array (GPT_ENTRY_COUNT entries). */
export function encodeGptEntries(partitions: readonly GptPartition[]): Uint8Array {
  const out = new Uint8Array(GPT_ENTRY_COUNT * GPT_ENTRY_SIZE);
  partitions.forEach((p, i) => {
    const at = i * GPT_ENTRY_SIZE;
    out.set(encodeGuid(p.typeGuid), at);
    out.set(encodeGuid(p.guid), at + 16);
    putLe64(out, at + 32, p.firstLba);
    putLe64(out, at + 40, p.lastLba);
    putLe32(out, at + 48, Number(p.attributes & 0xffffffffn));
    putLe32(out, at + 52, Number(p.attributes >> 32n));
    for (let k = 0; k < p.name.length && k < 36; k++) putLe16(out, at + 56 + 2 * k, p.name.charCodeAt(k));
  });
  return out;
}

/** A GPT header sector (primary when `myLba` is 1, backup when it is the last sector). */
export function encodeGptHeader(h: { myLba: number; alternateLba: number; firstUsableLba: number; lastUsableLba: number; diskGuid: string; entriesLba: number; entriesCrc: number }): Uint8Array {
  const out = new Uint8Array(512);
  const F = GPT_FIELDS;
  out.set(Buffer.from('EFI PART', 'latin1'), F.signature);
  putLe32(out, F.revision, 0x00010000);
  putLe32(out, F.headerSize, GPT_HEADER_SIZE);
  putLe64(out, F.myLba, h.myLba);
  putLe64(out, F.alternateLba, h.alternateLba);
  putLe64(out, F.firstUsableLba, h.firstUsableLba);
  putLe64(out, F.lastUsableLba, h.lastUsableLba);
  out.set(encodeGuid(h.diskGuid, 'gpt.diskGuid'), F.diskGuid);
  putLe64(out, F.entriesLba, h.entriesLba);
  putLe32(out, F.entryCount, GPT_ENTRY_COUNT);
  putLe32(out, F.entrySize, GPT_ENTRY_SIZE);
  putLe32(out, F.entriesCrc, h.entriesCrc);
  putLe32(out, F.headerCrc, crc32(out.subarray(0, GPT_HEADER_SIZE)));
  return out;
}

export interface GptInfo {
  diskGuid: string;
  firstUsableLba: number;
  lastUsableLba: number;
  alternateLba: number;
  partitions: GptPartition[];
}

/**
 * Decodes a primary GPT from the header sector and the bytes of its entry array (read by the
 * caller from `entriesLba`). Bad CRCs are CORRUPT_IMAGE. Returns undefined without "EFI PART".
 */
export function decodeGptHeader(sector: Uint8Array): { entriesLba: number; entryCount: number; entrySize: number; entriesCrc: number; diskGuid: string; firstUsableLba: number; lastUsableLba: number; alternateLba: number; headerSize: number; headerCrc: number } | undefined {
  if (sector.length < GPT_HEADER_SIZE || Buffer.from(sector.subarray(0, 8)).toString('latin1') !== 'EFI PART') return undefined;
  const F = GPT_FIELDS;
  return {
    headerSize: getLe32(sector, F.headerSize),
    headerCrc: getLe32(sector, F.headerCrc),
    entriesLba: getLe64(sector, F.entriesLba),
    entryCount: getLe32(sector, F.entryCount),
    entrySize: getLe32(sector, F.entrySize),
    entriesCrc: getLe32(sector, F.entriesCrc),
    diskGuid: decodeGuid(sector, F.diskGuid),
    firstUsableLba: getLe64(sector, F.firstUsableLba),
    lastUsableLba: getLe64(sector, F.lastUsableLba),
    alternateLba: getLe64(sector, F.alternateLba),
  };
}

export function checkGptHeaderCrc(sector: Uint8Array, subject: string, offset: number): void {
  const size = getLe32(sector, GPT_FIELDS.headerSize);
  if (size < GPT_HEADER_SIZE || size > 512) throw corruptError(subject, 'GPT header', offset, `header size ${size}`);
  const copy = sector.slice(0, size);
  putLe32(copy, GPT_FIELDS.headerCrc, 0);
  if (crc32(copy) !== getLe32(sector, GPT_FIELDS.headerCrc)) throw corruptError(subject, 'GPT header', offset, 'CRC mismatch');
}

export function decodeGptEntries(bytes: Uint8Array, entrySize: number): GptPartition[] {
  const out: GptPartition[] = [];
  for (let at = 0; at + 128 <= bytes.length; at += entrySize) {
    if (bytes.subarray(at, at + 16).every((b) => b === 0)) continue;
    let name = '';
    for (let k = 0; k < 36; k++) {
      const c = getLe16(bytes, at + 56 + 2 * k);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    out.push({
      typeGuid: decodeGuid(bytes, at),
      guid: decodeGuid(bytes, at + 16),
      firstLba: getLe64(bytes, at + 32),
      lastLba: getLe64(bytes, at + 40),
      attributes: BigInt(getLe32(bytes, at + 48)) | (BigInt(getLe32(bytes, at + 52)) << 32n),
      name,
    });
  }
  return out;
}
