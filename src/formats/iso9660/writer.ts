/**
 * writeIso: a Tree → an ISO 9660 image with Rock Ridge and Joliet, optionally El Torito boot
 * entries (BIOS and UEFI), an isohybrid MBR and a GPT. The layout is computed first; then the
 * image is written front to back in one pass, so any Sink works (a pipe too) and file contents
 * stream with bounded memory. The parts, in the order they run:
 *
 *   writer-options.ts      the options checked, the boot images and catalog found in the tree
 *   plan.ts                names, directory records and file data planned from the tree
 *   writer-layout.ts       the sector of every structure (directories sized by a first pass)
 *   writer-el-torito.ts    the boot catalog's entries, a boot info table patched in
 *   writer-system-area.ts  the isohybrid or protective MBR and the GPT
 *   writer-output.ts       everything written front to back
 *
 * writer-directories.ts encodes the directory extents for the layout and the output.
 */
import type { Sink } from '../../io/sink.js';
import type { Content } from '../../tree/content.js';
import type { Node, Tree } from '../../tree/tree.js';
import { ISO_SECTOR_SIZE } from './constants.js';
import { catalogMeta, planImage } from './plan.js';
import type { GptPartition, MbrPartition } from './system-area.js';
import type { Ctx } from './writer-directories.js';
import { bootImages } from './writer-el-torito.js';
import { layOut } from './writer-layout.js';
import { checkOptions } from './writer-options.js';
import { emitImage } from './writer-output.js';
import { encodeSystemArea, isProtective } from './writer-system-area.js';

export interface IsoWriteOptions {
  /** Volume identifier (at most 32 ASCII characters; Joliet keeps the first 16). */
  volumeId: string;
  publisher?: string;
  applicationId?: string;
  systemId?: string;
  volumeSetId?: string;
  dataPreparerId?: string;
  /** SOURCE_DATE_EPOCH: every volume descriptor date; file times are clamped to it. */
  buildTime: number;
  /** Rock Ridge (POSIX names, modes, owners, links, devices, times); default true. */
  rockRidge?: boolean;
  /**
   * Extended attributes as AAIP "AL" entries (as xorriso -xattr any writes them); default true
   * when Rock Ridge is on. Linux's isofs ignores them; xorriso/osirrox restore them.
   */
  xattrs?: boolean;
  /** Joliet (UCS-2 names for Windows); default true. */
  joliet?: boolean;
  /** Tree path → weight; heavier files are placed first (mkisofs -sort). */
  sortWeights?: ReadonlyMap<string, number>;
  /** BIOS no-emulation boot image (a tree path such as isolinux/isolinux.bin). */
  bios?: { bootImage: string; loadSize?: number; bootInfoTable?: boolean };
  /** UEFI boot image: a FAT image inside the tree, or one appended after the ISO as partition 2. */
  efi?: { bootImage: string } | { appendedImage: Content };
  /** Tree path of the boot catalog; default isolinux/boot.cat with a BIOS image in isolinux/, else boot.catalog. */
  bootCatalog?: string;
  /** Leave the boot catalog out of the directory trees. */
  hideBootCatalog?: boolean;
  /** MBR boot code (the first 432 bytes are used), e.g. syslinux isohdpfx.bin; needs `bios`. */
  hybridMbr?: Uint8Array;
  /** MBR disk signature (bytes 440–443), of the isohybrid or protective MBR. */
  mbrId?: number;
  /**
   * Write a GPT: disk GUID and partition GUIDs (ISO, then ESP). With `hybridMbr` the MBR is
   * isohybrid's (xorriso -isohybrid-gpt-basdat); without, a protective MBR (type 0xEE), as
   * xorriso -appended_part_as_gpt writes for UEFI-only images.
   */
  gpt?: { diskGuid: string; partitionGuids: string[] };
  /**
   * Move directories deeper than 8 levels into /rr_moved with Rock Ridge CL/PL/RE entries, as
   * ECMA-119 requires and genisoimage does. Default false, as xorriso -as mkisofs (deep paths).
   */
  relocateDeepDirectories?: boolean;
  /** Zero bytes added at the end of the ISO volume; default 300 KiB, as xorriso. */
  padding?: number;
  /** Where warnings go (a name Joliet cannot hold); default: none. */
  warn?: (message: string) => void;
}

export interface IsoWriteReport {
  /** Total bytes written. */
  size: number;
  /** Sectors of the ISO 9660 volume (the descriptor's volume space size). */
  volumeSectors: number;
  directories: number;
  files: number;
  bootCatalogSector?: number;
  biosImageSector?: number;
  efiImageSector?: number;
  /** The appended ESP in 512-byte sectors. */
  appendedPartition?: { start: number; sectors: number };
  mbrPartitions: MbrPartition[];
  gptPartitions: GptPartition[];
}

const DEFAULT_PADDING = 300 * 1024;

/**
 * Writes `tree` as an ISO image to `sink`. Output bytes depend only on the tree, the options and
 * the reprimage version. Bad options are USAGE errors; a content that yields a different number
 * of bytes than it declared is an IO error.
 */
export async function writeIso(tree: Tree, sink: Sink, options: IsoWriteOptions): Promise<IsoWriteReport> {
  const checked = checkOptions(tree, options);
  const { now, rockRidge, booting, catalogPath, appended } = checked;
  const catalogNode: Node | undefined = catalogPath !== undefined ? { kind: 'file', ...catalogMeta(now), content: { size: ISO_SECTOR_SIZE, origin: 'boot catalog', chunks: async function* () {} } } : undefined;
  const plan = planImage(tree, {
    relocate: options.relocateDeepDirectories ?? false,
    rrMovedTime: now,
    sortWeights: options.sortWeights,
    catalog: catalogPath !== undefined && catalogNode && !options.hideBootCatalog ? { path: catalogPath, node: catalogNode } : undefined,
  });
  const ctx: Ctx = { plan, now, rockRidge, xattrs: rockRidge && (options.xattrs ?? true), ceBase: 0, ceAt: 0, ceBytes: undefined, catalogSector: 0 };
  // isohybrid layouts (boot code, or a GPT beside the ISO's own MBR) are padded to whole cylinders
  const cylinderAligned = options.hybridMbr !== undefined || (options.gpt !== undefined && !isProtective(options));
  const layout = layOut(plan, ctx, { joliet: checked.joliet, booting, padding: options.padding ?? DEFAULT_PADDING, cylinderAligned });
  const boot = await bootImages(tree, plan, checked, options, layout.volumeSectors);
  const systemArea = encodeSystemArea(options, layout.volumeSectors, boot, appended !== undefined);
  const size = await emitImage(sink, options, checked, { plan, ctx, layout, boot, systemArea });
  return {
    size,
    volumeSectors: layout.volumeSectors,
    directories: plan.isoDirs.length,
    files: plan.data.length,
    bootCatalogSector: booting ? ctx.catalogSector : undefined,
    biosImageSector: boot.biosData?.extent,
    efiImageSector: boot.efiData ? boot.efiData.extent : appended ? boot.appendedStart / ISO_SECTOR_SIZE : undefined,
    appendedPartition: appended ? { start: boot.appendedStart / 512, sectors: boot.appendedSize / 512 } : undefined,
    mbrPartitions: systemArea.mbrPartitions,
    gptPartitions: systemArea.gptPartitions,
  };
}
