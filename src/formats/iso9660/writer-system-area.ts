/**
 * The system area part of writeIso: the first 32 KiB, which hold an isohybrid MBR (boot code and
 * partitions, so the image boots from a USB stick) or a protective MBR, and a GPT whose backup
 * goes at the very end of the image.
 */
import { ISO_SECTOR_SIZE, ISO_SYSTEM_AREA_SECTORS } from './constants.js';
import {
  GPT_ENTRIES_SECTORS,
  GPT_TYPE_BASIC_DATA,
  GPT_TYPE_EFI_SYSTEM,
  crc32,
  encodeGptEntries,
  encodeGptHeader,
  encodeMbr,
  encodeProtectiveMbr,
  type GptPartition,
  type MbrPartition,
} from './system-area.js';
import { usageError } from '../../errors.js';
import type { BootImages } from './writer-el-torito.js';
import type { IsoWriteOptions } from './writer.js';

export interface SystemArea {
  /** Sectors 0–15 of the image. */
  bytes: Uint8Array;
  /** The backup GPT (entries, then header) written after everything else. */
  gptBackup: Uint8Array | undefined;
  mbrPartitions: MbrPartition[];
  gptPartitions: GptPartition[];
}

/**
 * A GPT without isohybrid boot code gets a protective MBR, as the UEFI specification asks
 * (xorriso: "MBR protective-msdos-label … GPT").
 */
export function isProtective(options: IsoWriteOptions): boolean {
  return options.gpt !== undefined && options.hybridMbr === undefined;
}

export function encodeSystemArea(options: IsoWriteOptions, volumeSectors: number, boot: BootImages, hasAppended: boolean): SystemArea {
  const protective = isProtective(options);
  const { biosData, efiData, appendedStart, appendedSize } = boot;
  const totalBeforeGpt = appendedStart + appendedSize;
  const gptBackupSectors = options.gpt ? GPT_ENTRIES_SECTORS + 1 : 0;
  const total512 = totalBeforeGpt / 512 + gptBackupSectors;
  const mbrPartitions: MbrPartition[] = [];
  const gptPartitions: GptPartition[] = [];
  const isoSectors512 = (volumeSectors * ISO_SECTOR_SIZE) / 512;
  const espRange = hasAppended
    ? { start: appendedStart / 512, sectors: appendedSize / 512 }
    : efiData && efiData.size > 0
      ? { start: efiData.extent * 4, sectors: Math.ceil(efiData.size / 512) }
      : undefined;
  if (protective) {
    mbrPartitions.push({ bootable: false, type: 0xee, start: 1, sectors: Math.min(total512 - 1, 0xffffffff) });
  } else if (options.hybridMbr) {
    mbrPartitions.push({ bootable: true, type: options.gpt ? 0x00 : 0x17, start: 0, sectors: isoSectors512 });
    if (espRange) mbrPartitions.push({ bootable: false, type: 0xef, ...espRange });
  }
  const bytes = new Uint8Array(ISO_SYSTEM_AREA_SECTORS * ISO_SECTOR_SIZE);
  let gptBackup: Uint8Array | undefined;
  if (protective) bytes.set(encodeProtectiveMbr(total512, options.mbrId ?? 0));
  else if (options.hybridMbr) bytes.set(encodeMbr(options.hybridMbr, biosData ? biosData.extent * 4 : 0, options.mbrId ?? 0, mbrPartitions));
  if (options.gpt) {
    const guids = options.gpt.partitionGuids;
    const attributes = 0x1000000000000001n;
    const basic = (first: number, last: number, name: string) => ({ typeGuid: GPT_TYPE_BASIC_DATA, guid: '', firstLba: first, lastLba: last, attributes, name });
    const esp = espRange ? { typeGuid: GPT_TYPE_EFI_SYSTEM, guid: '', firstLba: espRange.start, lastLba: espRange.start + espRange.sectors - 1, attributes, name: 'ISOHybrid1' } : undefined;
    const layout: GptPartition[] = [];
    if (!protective) {
      // isohybrid: the ISO from sector 0, the ESP (possibly inside it) as partition 2, as xorriso -isohybrid-gpt-basdat.
      layout.push(basic(0, isoSectors512 - 1, 'ISOHybrid'));
      if (esp) layout.push(esp);
    } else if (esp && esp.firstLba < isoSectors512) {
      // Next to a protective MBR partitions must not overlap: the ISO around an ESP inside it is split in two.
      const isoFirst = 2 + GPT_ENTRIES_SECTORS;
      if (esp.firstLba > isoFirst) layout.push(basic(isoFirst, esp.firstLba - 1, 'ISOHybrid'));
      layout.push(esp);
      if (esp.lastLba < isoSectors512 - 1) layout.push(basic(esp.lastLba + 1, isoSectors512 - 1, 'ISOHybrid2'));
    } else {
      // The ISO after the GPT itself (xorriso's "Gap0"), then the appended ESP.
      layout.push(basic(2 + GPT_ENTRIES_SECTORS, isoSectors512 - 1, 'ISOHybrid'));
      if (esp) layout.push(esp);
    }
    if (guids.length < layout.length) throw usageError(`${layout.length} partition GUIDs needed, ${guids.length} given`, 'gpt.partitionGuids');
    layout.forEach((p, i) => gptPartitions.push({ ...p, guid: guids[i]! }));
    const entries = encodeGptEntries(gptPartitions);
    const entriesCrc = crc32(entries);
    const last = total512 - 1;
    const common = { firstUsableLba: 2 + GPT_ENTRIES_SECTORS, lastUsableLba: last - GPT_ENTRIES_SECTORS - 1, diskGuid: options.gpt.diskGuid, entriesCrc };
    bytes.set(encodeGptHeader({ ...common, myLba: 1, alternateLba: last, entriesLba: 2 }), 512);
    bytes.set(entries, 1024);
    gptBackup = new Uint8Array(gptBackupSectors * 512);
    gptBackup.set(entries, 0);
    gptBackup.set(encodeGptHeader({ ...common, myLba: last, alternateLba: 1, entriesLba: last - GPT_ENTRIES_SECTORS }), entries.length);
  }
  return { bytes, gptBackup, mbrPartitions, gptPartitions };
}
