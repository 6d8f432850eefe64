/**
 * El Torito boot catalog (El Torito 1.0 §2) and the isolinux boot info table. The catalog is one
 * sector of 32-byte entries: a validation entry, the initial/default entry, then sections, each
 * a header (0x90, or 0x91 for the last) followed by its entries.
 */
import { corruptError } from '../../errors.js';
import {
  BOOT_INFO_CHECKSUM_START,
  BOOT_INFO_TABLE_OFFSET,
  EL_TORITO_BOOTABLE,
  EL_TORITO_ENTRY_SIZE,
  EL_TORITO_HEADER_FINAL,
  EL_TORITO_HEADER_MORE,
  ISO_FIRST_DESCRIPTOR_SECTOR,
  ISO_SECTOR_SIZE,
} from './constants.js';
import { getLe16, getLe32, putLe16, putLe32 } from './numbers.js';

/** Offsets in a section (or default) entry. */
export const BOOT_ENTRY_FIELDS = { indicator: 0, mediaType: 1, loadSegment: 2, systemType: 4, sectorCount: 6, loadRba: 8, selectionCriteria: 12 } as const;

export interface BootEntry {
  platform: number;
  bootable: boolean;
  /** 0 = no emulation. */
  mediaType: number;
  loadSegment: number;
  systemType: number;
  /** Number of 512-byte virtual sectors the firmware loads. */
  sectorCount: number;
  /** First 2048-byte sector of the boot image. */
  loadRba: number;
}

/** Encodes a catalog holding `entries`; the first is the default entry, the rest form one section per platform. */
export function encodeBootCatalog(entries: readonly BootEntry[]): Uint8Array {
  const out = new Uint8Array(ISO_SECTOR_SIZE);
  if (entries.length === 0) throw new RangeError('empty boot catalog');
  // Validation entry: header id 1, platform, id string (empty), checksum, key 55 AA.
  out[0] = 1;
  out[1] = entries[0]!.platform;
  out[30] = 0x55;
  out[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < EL_TORITO_ENTRY_SIZE; i += 2) sum = (sum + getLe16(out, i)) & 0xffff;
  putLe16(out, 28, (0x10000 - sum) & 0xffff);
  encodeEntry(out, EL_TORITO_ENTRY_SIZE, entries[0]!);
  // Group the other entries by platform, in the order given, one section each.
  const sections: BootEntry[][] = [];
  for (const e of entries.slice(1)) {
    const last = sections[sections.length - 1];
    if (last && last[0]!.platform === e.platform) last.push(e);
    else sections.push([e]);
  }
  let at = 2 * EL_TORITO_ENTRY_SIZE;
  sections.forEach((section, i) => {
    if (at + EL_TORITO_ENTRY_SIZE * (1 + section.length) > ISO_SECTOR_SIZE) throw new RangeError('boot catalog overflow');
    out[at] = i === sections.length - 1 ? EL_TORITO_HEADER_FINAL : EL_TORITO_HEADER_MORE;
    out[at + 1] = section[0]!.platform;
    putLe16(out, at + 2, section.length);
    at += EL_TORITO_ENTRY_SIZE;
    for (const e of section) {
      encodeEntry(out, at, e);
      at += EL_TORITO_ENTRY_SIZE;
    }
  });
  return out;
}

function encodeEntry(out: Uint8Array, at: number, e: BootEntry): void {
  const F = BOOT_ENTRY_FIELDS;
  out[at + F.indicator] = e.bootable ? EL_TORITO_BOOTABLE : 0;
  out[at + F.mediaType] = e.mediaType;
  putLe16(out, at + F.loadSegment, e.loadSegment);
  out[at + F.systemType] = e.systemType;
  putLe16(out, at + F.sectorCount, e.sectorCount);
  putLe32(out, at + F.loadRba, e.loadRba);
}

/**
 * Decodes a catalog sector: checks the validation entry (header id, key bytes, checksum) and
 * returns the default entry and every section entry. A bad checksum is CORRUPT_IMAGE.
 */
export function decodeBootCatalog(sector: Uint8Array, subject: string, offset: number): BootEntry[] {
  if (sector.length < ISO_SECTOR_SIZE) throw corruptError(subject, 'El Torito boot catalog', offset, 'shorter than a sector');
  if (sector[0] !== 1 || sector[30] !== 0x55 || sector[31] !== 0xaa) {
    throw corruptError(subject, 'El Torito boot catalog', offset, 'no validation entry');
  }
  let sum = 0;
  for (let i = 0; i < EL_TORITO_ENTRY_SIZE; i += 2) sum = (sum + getLe16(sector, i)) & 0xffff;
  if (sum !== 0) throw corruptError(subject, 'El Torito boot catalog', offset, 'validation entry checksum mismatch');
  const entries: BootEntry[] = [decodeEntry(sector, EL_TORITO_ENTRY_SIZE, sector[1]!)];
  let at = 2 * EL_TORITO_ENTRY_SIZE;
  while (at + EL_TORITO_ENTRY_SIZE <= ISO_SECTOR_SIZE) {
    const header = sector[at]!;
    if (header !== EL_TORITO_HEADER_MORE && header !== EL_TORITO_HEADER_FINAL) break;
    const platform = sector[at + 1]!;
    const count = getLe16(sector, at + 2);
    at += EL_TORITO_ENTRY_SIZE;
    for (let i = 0; i < count && at + EL_TORITO_ENTRY_SIZE <= ISO_SECTOR_SIZE; i++) {
      entries.push(decodeEntry(sector, at, platform));
      at += EL_TORITO_ENTRY_SIZE;
      // Extension entries (0x44) follow an entry whose selection criteria continue.
      while (at + EL_TORITO_ENTRY_SIZE <= ISO_SECTOR_SIZE && sector[at] === 0x44) at += EL_TORITO_ENTRY_SIZE;
    }
    if (header === EL_TORITO_HEADER_FINAL) break;
  }
  return entries;
}

function decodeEntry(b: Uint8Array, at: number, platform: number): BootEntry {
  const F = BOOT_ENTRY_FIELDS;
  return {
    platform,
    bootable: b[at + F.indicator] === EL_TORITO_BOOTABLE,
    mediaType: b[at + F.mediaType]! & 0x0f,
    loadSegment: getLe16(b, at + F.loadSegment),
    systemType: b[at + F.systemType]!,
    sectorCount: getLe16(b, at + F.sectorCount),
    loadRba: getLe32(b, at + F.loadRba),
  };
}

/**
 * Patches the boot info table into a copy of `image` (mkisofs -boot-info-table): the sector of
 * the primary descriptor, the image's own sector and length, and the 32-bit sum of its
 * little-endian words from byte 64 on.
 */
export function patchBootInfoTable(image: Uint8Array, sector: number): Uint8Array {
  const out = image.slice();
  let sum = 0;
  for (let i = BOOT_INFO_CHECKSUM_START; i < out.length; i += 4) {
    const word = (out[i]! | ((out[i + 1] ?? 0) << 8) | ((out[i + 2] ?? 0) << 16) | ((out[i + 3] ?? 0) << 24)) >>> 0;
    sum = (sum + word) >>> 0;
  }
  const at = BOOT_INFO_TABLE_OFFSET;
  putLe32(out, at, ISO_FIRST_DESCRIPTOR_SECTOR);
  putLe32(out, at + 4, sector);
  putLe32(out, at + 8, image.length);
  putLe32(out, at + 12, sum);
  out.fill(0, at + 16, at + 56);
  return out;
}

/** The boot info table fields found in a boot image (for inspection). */
export function readBootInfoTable(image: Uint8Array): { pvdSector: number; fileSector: number; fileLength: number; checksum: number } | undefined {
  if (image.length < BOOT_INFO_CHECKSUM_START) return undefined;
  const at = BOOT_INFO_TABLE_OFFSET;
  return { pvdSector: getLe32(image, at), fileSector: getLe32(image, at + 4), fileLength: getLe32(image, at + 8), checksum: getLe32(image, at + 12) };
}
