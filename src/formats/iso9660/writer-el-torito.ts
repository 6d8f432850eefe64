/**
 * The El Torito part of writeIso: the boot catalog's entries for the BIOS and UEFI images, once
 * the layout has placed them, and the boot info table patched into a BIOS image that asks for it.
 */
import { ReprimageError, usageError } from '../../errors.js';
import { readContent } from '../../tree/content.js';
import type { Tree } from '../../tree/tree.js';
import { EL_TORITO_MEDIA_NO_EMULATION, EL_TORITO_PLATFORM_EFI, EL_TORITO_PLATFORM_X86, ISO_SECTOR_SIZE } from './constants.js';
import { patchBootInfoTable, type BootEntry } from './el-torito.js';
import type { DataPlan, Plan } from './plan.js';
import type { CheckedOptions } from './writer-options.js';
import { sectorsFor } from './writer-layout.js';
import type { IsoWriteOptions } from './writer.js';

/** A boot info table means reading the whole image into memory: bounded. */
const MAX_BOOT_INFO_IMAGE = 64 * 1024 * 1024;

export interface BootImages {
  /** The BIOS and UEFI images inside the tree, as placed. */
  biosData: DataPlan | undefined;
  efiData: DataPlan | undefined;
  /** Where an appended UEFI image starts (the end of the ISO volume), in bytes, and its padded size. */
  appendedStart: number;
  appendedSize: number;
  entries: BootEntry[];
}

export async function bootImages(tree: Tree, plan: Plan, checked: CheckedOptions, options: IsoWriteOptions, volumeSectors: number): Promise<BootImages> {
  const { biosPath, efiPath, appended } = checked;
  const biosData = biosPath !== undefined ? plan.dataOf.get(tree.get(biosPath)!) : undefined;
  const efiData = efiPath !== undefined ? plan.dataOf.get(tree.get(efiPath)!) : undefined;
  const appendedStart = volumeSectors * ISO_SECTOR_SIZE;
  const appendedSize = appended ? sectorsFor(appended.size) * ISO_SECTOR_SIZE : 0;
  if (biosData && (options.bios!.bootInfoTable ?? false)) {
    if (biosData.size > MAX_BOOT_INFO_IMAGE) throw new ReprimageError('UNSUPPORTED', biosPath!, `boot image of ${biosData.size} bytes is too large for a boot info table`);
    biosData.replacement = patchBootInfoTable(await readContent(biosData.content), biosData.extent);
  }
  const entries: BootEntry[] = [];
  if (biosData) {
    const loadSize = options.bios!.loadSize ?? Math.min(0xffff, sectorsFor(biosData.size) * 4);
    if (!Number.isInteger(loadSize) || loadSize < 1 || loadSize > 0xffff) throw usageError(`load size ${loadSize} is not 1..65535`, 'bios.loadSize');
    entries.push({ platform: EL_TORITO_PLATFORM_X86, bootable: true, mediaType: EL_TORITO_MEDIA_NO_EMULATION, loadSegment: 0, systemType: 0, sectorCount: loadSize, loadRba: biosData.extent });
  }
  if (efiData || appended) {
    const size = efiData ? efiData.size : appendedSize;
    const rba = efiData ? efiData.extent : appendedStart / ISO_SECTOR_SIZE;
    entries.push({ platform: EL_TORITO_PLATFORM_EFI, bootable: true, mediaType: EL_TORITO_MEDIA_NO_EMULATION, loadSegment: 0, systemType: 0, sectorCount: Math.min(0xffff, Math.ceil(size / 512)), loadRba: rba });
  }
  return { biosData, efiData, appendedStart, appendedSize, entries };
}
