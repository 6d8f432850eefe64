/**
 * writeIso: a Tree → an ISO 9660 image with Rock Ridge and Joliet, optionally El Torito boot
 * entries (BIOS and UEFI), an isohybrid MBR and a GPT. The layout is computed first; then the
 * image is written front to back in one pass, so any Sink works (a pipe too) and file contents
 * stream with bounded memory.
 *
 * Layout (2048-byte sectors): 0–15 system area · 16 primary descriptor · boot record · Joliet
 * descriptor · terminator · boot catalog · path tables (ISO L, M, Joliet L, M) · ISO directories
 * (each followed by the Rock Ridge continuation areas of its records) · Joliet directories · file data · padding · appended ESP ·
 * backup GPT.
 */
import { ReprimageError, usageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { Content } from '../../tree/content.js';
import { copyToSink, readContent } from '../../tree/content.js';
import { baseName, displayName, hasEscapedBytes, nameBytes, toTreePath } from '../../tree/names.js';
import { TYPE_BITS, type Node, type Tree } from '../../tree/tree.js';
import { encodeAl } from './aaip.js';
import {
  EL_TORITO_MEDIA_NO_EMULATION,
  EL_TORITO_PLATFORM_EFI,
  EL_TORITO_PLATFORM_X86,
  FLAG_DIRECTORY,
  FLAG_MULTI_EXTENT,
  ISO_FIRST_DESCRIPTOR_SECTOR,
  ISO_MAX_EXTENT_SIZE,
  ISO_SECTOR_SIZE,
  ISO_SYSTEM_AREA_SECTORS,
  VD_PRIMARY,
  VD_SUPPLEMENTARY,
} from './constants.js';
import { DIR_RECORD_MAX_SIZE, DOTDOT_ID, DOT_ID, dirRecordSize, encodeDirRecord, systemUseOffset } from './dir-record.js';
import { encodeBootCatalog, patchBootInfoTable, type BootEntry } from './el-torito.js';
import { encodeUcs2 } from './joliet.js';
import { encodePathTable, pathTableSize, type PathTableEntry } from './path-table.js';
import { catalogMeta, planImage, type DataPlan, type DirPlan, type Plan, type RecordPlan } from './plan.js';
import { encodeCl, encodeNm, encodePl, encodePn, encodePx, encodeRe, encodeRripEr, encodeSl, encodeTf } from './rock-ridge.js';
import { encodeCe, encodeSp, layoutSusp } from './susp.js';
import {
  GPT_ENTRIES_SECTORS,
  GPT_TYPE_BASIC_DATA,
  GPT_TYPE_EFI_SYSTEM,
  MBR_BOOT_CODE_SIZE,
  MBR_CYLINDER_BYTES,
  crc32,
  encodeGptEntries,
  encodeGptHeader,
  encodeMbr,
  encodeProtectiveMbr,
  type GptPartition,
  type MbrPartition,
} from './system-area.js';
import { encodeBootRecord, encodeTerminator, encodeVolumeDescriptor, type VolumeDescriptor } from './volume-descriptor.js';

export interface IsoWriteOptions {
  /** Volume identifier (at most 32 ASCII characters; Joliet keeps the first 16). */
  volumeId: string;
  publisher?: string;
  applicationId?: string;
  systemId?: string;
  volumeSetId?: string;
  dataPreparerId?: string;
  /** SOURCE_DATE_EPOCH: every volume descriptor date; file times are clamped to it. */
  creationTime: number;
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
  sortWeights?: Map<string, number>;
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

const ZEROS = new Uint8Array(64 * 1024);
const DEFAULT_PADDING = 300 * 1024;
const MAX_BOOT_INFO_IMAGE = 64 * 1024 * 1024;

/**
 * Joliet names are UCS-2: bytes that are not UTF-8 have no place there and become "_" (as
 * characters outside the BMP do). Rock Ridge, which Linux reads, keeps the exact bytes; one
 * warning names the first such entry.
 */
function warnJolietNames(tree: Tree, warn: (message: string) => void): void {
  let first: string | undefined;
  let count = 0;
  for (const { path } of tree.walk()) {
    if (!hasEscapedBytes(baseName(path))) continue;
    first ??= path;
    count++;
  }
  if (first === undefined) return;
  const more = count > 1 ? ` (and ${count - 1} more)` : '';
  warn(`${displayName(first)}${more}: name is not UTF-8; its Joliet name has "_" for those bytes (the Rock Ridge name keeps them)`);
}

function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / ISO_SECTOR_SIZE);
}

/**
 * Writes `tree` as an ISO image to `sink`. Output bytes depend only on the tree, the options and
 * the reprimage version. Bad options are USAGE errors; a content that yields a different number
 * of bytes than it declared is an IO error.
 */
export async function writeIso(tree: Tree, sink: Sink, options: IsoWriteOptions): Promise<IsoWriteReport> {
  const rockRidge = options.rockRidge ?? true;
  const joliet = options.joliet ?? true;
  if (joliet && options.warn) warnJolietNames(tree, options.warn);
  const now = Math.floor(options.creationTime);
  checkText('volumeId', options.volumeId, 32);
  for (const [key, width] of [['publisher', 128], ['applicationId', 128], ['systemId', 32], ['volumeSetId', 128], ['dataPreparerId', 128]] as const) {
    if (options[key] !== undefined) checkText(key, options[key]!, width);
  }
  if (!Number.isSafeInteger(now)) throw usageError(`creationTime ${options.creationTime} is not a time in seconds`, 'creationTime');
  if (options.hybridMbr && !options.bios) throw usageError('an isohybrid MBR needs a BIOS boot image (bios.bootImage)', 'hybridMbr');
  if (options.hybridMbr && options.hybridMbr.length < MBR_BOOT_CODE_SIZE) {
    throw usageError(`the MBR template has ${options.hybridMbr.length} bytes, at least ${MBR_BOOT_CODE_SIZE} needed`, 'hybridMbr');
  }

  // Boot images and the catalog.
  const biosPath = options.bios ? toTreePath(options.bios.bootImage, 'bios.bootImage', { allowAbsolute: true }) : undefined;
  const efiPath = options.efi && 'bootImage' in options.efi ? toTreePath(options.efi.bootImage, 'efi.bootImage', { allowAbsolute: true }) : undefined;
  const appended = options.efi && 'appendedImage' in options.efi ? options.efi.appendedImage : undefined;
  const booting = biosPath !== undefined || options.efi !== undefined;
  for (const [what, path] of [['bios.bootImage', biosPath], ['efi.bootImage', efiPath]] as const) {
    if (path !== undefined && tree.get(path)?.kind !== 'file') throw new ReprimageError('NOT_FOUND', what, `${path} is not a regular file of the tree`);
  }
  const catalogPath = booting
    ? toTreePath(options.bootCatalog ?? (biosPath?.startsWith('isolinux/') ? 'isolinux/boot.cat' : 'boot.catalog'), 'bootCatalog', { allowAbsolute: true })
    : undefined;
  if (catalogPath !== undefined && !options.hideBootCatalog) {
    const parent = tree.get(catalogPath.includes('/') ? catalogPath.slice(0, catalogPath.lastIndexOf('/')) : '');
    if (parent?.kind !== 'dir') throw new ReprimageError('NOT_FOUND', 'bootCatalog', `the directory of ${catalogPath} is not in the tree`);
  }
  const catalogNode: Node | undefined = catalogPath !== undefined ? { kind: 'file', ...catalogMeta(now), content: { size: ISO_SECTOR_SIZE, origin: 'boot catalog', chunks: async function* () {} } } : undefined;

  const plan = planImage(tree, {
    relocate: options.relocateDeepDirectories ?? false,
    rrMovedTime: now,
    sortWeights: options.sortWeights,
    catalog: catalogPath !== undefined && catalogNode && !options.hideBootCatalog ? { path: catalogPath, node: catalogNode } : undefined,
  });
  const ctx: Ctx = { plan, now, rockRidge, xattrs: rockRidge && (options.xattrs ?? true), ceBase: 0, ceAt: 0, ceBytes: undefined, catalogSector: 0, rripCache: new Map() };

  // Fixed sectors at the start.
  let next = ISO_FIRST_DESCRIPTOR_SECTOR + 1 + (booting ? 1 : 0) + (joliet ? 1 : 0) + 1;
  if (booting) ctx.catalogSector = next++;
  const isoTable = pathTable(plan.isoDirs, (d) => d.isoId, (d) => d.isoParent, (d) => d.number, 'iso');
  const jolietTable = joliet ? pathTable(plan.jolietDirs, (d) => d.jolietId, (d) => d.parent, (d) => d.jolietNumber, 'joliet') : undefined;
  const isoTableSize = pathTableSize(isoTable);
  const tableSectors = sectorsFor(isoTableSize);
  const isoL = next;
  const isoM = isoL + tableSectors;
  next = isoM + tableSectors;
  let jolietL = 0;
  let jolietM = 0;
  const jolietTableSize = jolietTable ? pathTableSize(jolietTable) : 0;
  if (jolietTable) {
    jolietL = next;
    jolietM = jolietL + sectorsFor(jolietTableSize);
    next = jolietM + sectorsFor(jolietTableSize);
  }

  // Directory sizes; pass 1 also sizes each directory's continuation areas, which follow it.
  const ceSectorsOf = new Map<DirPlan, number>();
  for (const dir of plan.isoDirs) {
    ctx.ceAt = 0;
    dir.size = encodeIsoDirectory(dir, ctx, false).length;
    ceSectorsOf.set(dir, Math.ceil(ctx.ceAt / ISO_SECTOR_SIZE));
  }
  for (const dir of plan.isoDirs) {
    dir.extent = next;
    next += dir.size / ISO_SECTOR_SIZE + ceSectorsOf.get(dir)!;
  }
  if (joliet) {
    for (const dir of plan.jolietDirs) {
      dir.jolietSize = encodeJolietDirectory(dir, ctx, false).length;
      dir.jolietExtent = next;
      next += dir.jolietSize / ISO_SECTOR_SIZE;
    }
  }

  // File data.
  for (const data of plan.data) {
    data.extent = data.size === 0 ? 0 : next;
    next += sectorsFor(data.size);
  }
  const dataEnd = next;
  let volumeSectors = dataEnd + sectorsFor(options.padding ?? DEFAULT_PADDING);
  // A GPT without isohybrid boot code gets a protective MBR, as the UEFI specification asks
  // (xorriso: "MBR protective-msdos-label … GPT"); isohybrid layouts are padded to cylinders.
  const protective = options.gpt !== undefined && options.hybridMbr === undefined;
  if (options.hybridMbr || (options.gpt && !protective)) {
    const perCylinder = MBR_CYLINDER_BYTES / ISO_SECTOR_SIZE;
    volumeSectors = Math.ceil(volumeSectors / perCylinder) * perCylinder;
  }

  // Boot images.
  const biosData = biosPath !== undefined ? plan.dataOf.get(tree.get(biosPath)!) : undefined;
  const efiData = efiPath !== undefined ? plan.dataOf.get(tree.get(efiPath)!) : undefined;
  const appendedStart = volumeSectors * ISO_SECTOR_SIZE;
  const appendedSize = appended ? sectorsFor(appended.size) * ISO_SECTOR_SIZE : 0;
  if (biosData && (options.bios!.bootInfoTable ?? false)) {
    if (biosData.size > MAX_BOOT_INFO_IMAGE) throw new ReprimageError('UNSUPPORTED', biosPath!, `boot image of ${biosData.size} bytes is too large for a boot info table`);
    biosData.replacement = patchBootInfoTable(await readContent(biosData.content), biosData.extent);
  }
  const bootEntries: BootEntry[] = [];
  if (biosData) {
    const loadSize = options.bios!.loadSize ?? Math.min(0xffff, sectorsFor(biosData.size) * 4);
    if (!Number.isInteger(loadSize) || loadSize < 1 || loadSize > 0xffff) throw usageError(`load size ${loadSize} is not 1..65535`, 'bios.loadSize');
    bootEntries.push({ platform: EL_TORITO_PLATFORM_X86, bootable: true, mediaType: EL_TORITO_MEDIA_NO_EMULATION, loadSegment: 0, systemType: 0, sectorCount: loadSize, loadRba: biosData.extent });
  }
  if (efiData || appended) {
    const size = efiData ? efiData.size : appendedSize;
    const rba = efiData ? efiData.extent : appendedStart / ISO_SECTOR_SIZE;
    bootEntries.push({ platform: EL_TORITO_PLATFORM_EFI, bootable: true, mediaType: EL_TORITO_MEDIA_NO_EMULATION, loadSegment: 0, systemType: 0, sectorCount: Math.min(0xffff, Math.ceil(size / 512)), loadRba: rba });
  }

  // System area: MBR and GPT.
  const totalBeforeGpt = appendedStart + appendedSize;
  const gptBackupSectors = options.gpt ? GPT_ENTRIES_SECTORS + 1 : 0;
  const total512 = totalBeforeGpt / 512 + gptBackupSectors;
  const mbrPartitions: MbrPartition[] = [];
  const gptPartitions: GptPartition[] = [];
  const isoSectors512 = (volumeSectors * ISO_SECTOR_SIZE) / 512;
  const espRange = appended
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
  let systemArea = new Uint8Array(ISO_SYSTEM_AREA_SECTORS * ISO_SECTOR_SIZE);
  let gptBackup: Uint8Array | undefined;
  if (protective) systemArea.set(encodeProtectiveMbr(total512, options.mbrId ?? 0));
  else if (options.hybridMbr) systemArea.set(encodeMbr(options.hybridMbr, biosData ? biosData.extent * 4 : 0, options.mbrId ?? 0, mbrPartitions));
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
    systemArea.set(encodeGptHeader({ ...common, myLba: 1, alternateLba: last, entriesLba: 2 }), 512);
    systemArea.set(entries, 1024);
    gptBackup = new Uint8Array(gptBackupSectors * 512);
    gptBackup.set(entries, 0);
    gptBackup.set(encodeGptHeader({ ...common, myLba: last, alternateLba: 1, entriesLba: last - GPT_ENTRIES_SECTORS }), entries.length);
  }

  // Emit, front to back.
  const out = new Writer(sink);
  await out.bytes(systemArea);
  systemArea = new Uint8Array(0);
  const rootRecord = (extent: number, size: number) => encodeDirRecord({ extent, dataLength: size, recordingDate: clamp(plan.root.node, now), flags: FLAG_DIRECTORY, fileId: DOT_ID });
  const descriptor = (type: typeof VD_PRIMARY | typeof VD_SUPPLEMENTARY): VolumeDescriptor => {
    const isJoliet = type === VD_SUPPLEMENTARY;
    const volumeId = isJoliet ? options.volumeId.slice(0, 16) : options.volumeId;
    return {
      type, joliet: isJoliet, systemId: options.systemId ?? '', volumeId, volumeSetId: options.volumeSetId ?? '',
      publisherId: options.publisher ?? '', dataPreparerId: options.dataPreparerId ?? '', applicationId: options.applicationId ?? '',
      copyrightFileId: '', abstractFileId: '', bibliographicFileId: '', volumeSpaceSize: volumeSectors, volumeSetSize: 1,
      volumeSequenceNumber: 1, logicalBlockSize: ISO_SECTOR_SIZE,
      pathTableSize: isJoliet ? jolietTableSize : isoTableSize,
      typeLPathTable: isJoliet ? jolietL : isoL, typeMPathTable: isJoliet ? jolietM : isoM,
      rootDirectoryRecord: isJoliet ? rootRecord(plan.root.jolietExtent, plan.root.jolietSize) : rootRecord(plan.root.extent, plan.root.size),
      creationDate: now, modificationDate: now, expirationDate: undefined, effectiveDate: undefined,
    };
  };
  await out.bytes(encodeVolumeDescriptor(descriptor(VD_PRIMARY)));
  if (booting) await out.bytes(encodeBootRecord(ctx.catalogSector));
  if (joliet) await out.bytes(encodeVolumeDescriptor(descriptor(VD_SUPPLEMENTARY)));
  await out.bytes(encodeTerminator());
  if (booting) await out.bytes(encodeBootCatalog(bootEntries));
  for (const [table, kind] of [[isoTable, 'L'], [isoTable, 'M'], [jolietTable, 'L'], [jolietTable, 'M']] as const) {
    if (!table) continue;
    for (const e of table) e.extent = table === isoTable ? e.dir.extent : e.dir.jolietExtent;
    await out.padded(encodePathTable(table, kind));
  }
  for (const dir of plan.isoDirs) {
    ctx.ceAt = 0;
    ctx.ceBase = dir.extent + dir.size / ISO_SECTOR_SIZE;
    ctx.ceBytes = new Uint8Array(ceSectorsOf.get(dir)! * ISO_SECTOR_SIZE);
    await out.bytes(encodeIsoDirectory(dir, ctx, true));
    await out.bytes(ctx.ceBytes);
  }
  if (joliet) for (const dir of plan.jolietDirs) await out.bytes(encodeJolietDirectory(dir, ctx));
  for (const data of plan.data) {
    if (data.replacement) await out.padded(data.replacement);
    else await out.content(data.content, data.path);
  }
  if (out.position !== dataEnd * ISO_SECTOR_SIZE) throw new Error(`iso writer: data ended at ${out.position}, planned ${dataEnd * ISO_SECTOR_SIZE}`);
  await out.zeros(volumeSectors * ISO_SECTOR_SIZE - out.position);
  if (appended) await out.content(appended, 'efi.appendedImage');
  if (gptBackup) await out.bytes(gptBackup);
  await sink.flush();

  return {
    size: out.position,
    volumeSectors,
    directories: plan.isoDirs.length,
    files: plan.data.length,
    bootCatalogSector: booting ? ctx.catalogSector : undefined,
    biosImageSector: biosData?.extent,
    efiImageSector: efiData ? efiData.extent : appended ? appendedStart / ISO_SECTOR_SIZE : undefined,
    appendedPartition: appended ? { start: appendedStart / 512, sectors: appendedSize / 512 } : undefined,
    mbrPartitions,
    gptPartitions,
  };
}

function checkText(name: string, value: string, width: number): void {
  if (typeof value !== 'string' || value.length > width || !/^[\x20-\x7e]*$/.test(value)) {
    throw usageError(`${JSON.stringify(value)} must be at most ${width} printable ASCII characters`, name);
  }
}

interface Ctx {
  plan: Plan;
  now: number;
  rockRidge: boolean;
  /** Write AAIP AL entries for nodes with xattrs. */
  xattrs: boolean;
  /** First sector of the continuation areas, and the next free byte within them. */
  ceBase: number;
  ceAt: number;
  /** Pass 2 only: the bytes of every continuation area. */
  ceBytes: Uint8Array | undefined;
  catalogSector: number;
  /** Rock Ridge entries by node and name: both passes (and hard links) encode them once. */
  rripCache: Map<Node, Map<string | undefined, Uint8Array[]>>;
}

function clamp(node: Node, now: number): number {
  return Math.min(node.mtime.sec, now);
}

type TableEntry = PathTableEntry & { dir: DirPlan };

function pathTable(dirs: DirPlan[], id: (d: DirPlan) => string, parent: (d: DirPlan) => DirPlan | undefined, number: (d: DirPlan) => number, ns: 'iso' | 'joliet'): TableEntry[] {
  return dirs.map((d) => {
    const p = parent(d);
    const idBytes = p === undefined ? DOT_ID : ns === 'iso' ? Buffer.from(id(d), 'latin1') : encodeUcs2(id(d));
    return { id: idBytes, extent: 0, parent: p === undefined ? 1 : number(p), dir: d };
  });
}

/** Appends records to a directory's extent; a record never crosses a sector boundary. */
class DirectoryBytes {
  readonly #parts: Uint8Array[] = [];
  #size = 0;

  /** `measure`: keep only the size (pass 1); finish() then returns zeros of that size. */
  constructor(private readonly measure = false) {}

  add(record: Uint8Array): void {
    const used = this.#size % ISO_SECTOR_SIZE;
    if (used + record.length > ISO_SECTOR_SIZE) this.#pad(ISO_SECTOR_SIZE - used);
    if (!this.measure) this.#parts.push(record);
    this.#size += record.length;
  }

  #pad(n: number): void {
    if (n > 0 && !this.measure) this.#parts.push(new Uint8Array(n));
    this.#size += n;
  }

  finish(): Uint8Array {
    this.#pad((ISO_SECTOR_SIZE - (this.#size % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
    if (this.#size === 0) this.#pad(ISO_SECTOR_SIZE);
    return this.measure ? new Uint8Array(this.#size) : Buffer.concat(this.#parts);
  }
}

/** The Rock Ridge entries of a record for `node` named `name` (name undefined for . and ..); a fresh array the caller may extend. */
function rripEntries(ctx: Ctx, node: Node, name: string | undefined): Uint8Array[] {
  let byName = ctx.rripCache.get(node);
  if (!byName) ctx.rripCache.set(node, (byName = new Map()));
  let entries = byName.get(name);
  if (!entries) byName.set(name, (entries = encodeRripEntries(ctx, node, name)));
  return [...entries];
}

function encodeRripEntries(ctx: Ctx, node: Node, name: string | undefined): Uint8Array[] {
  const { plan, now } = ctx;
  const type = TYPE_BITS[node.kind];
  const entries = [encodePx(type | (node.mode & 0o7777), plan.linkCounts.get(node) ?? 1, node.uid, node.gid, plan.inodes.get(node) ?? 0), encodeTf(clamp(node, now))];
  if (name !== undefined) entries.push(...encodeNm(nameBytes(name)));
  if (node.kind === 'symlink') entries.push(...encodeSl(node.target));
  if (node.kind === 'block' || node.kind === 'char') entries.push(encodePn(node.major, node.minor));
  // A directory's attributes go with its record in the parent (and the root's with its "."), not "." and "..".
  if (ctx.xattrs && name !== undefined) entries.push(...encodeAl(node.xattrs));
  return entries;
}

/** Stands in for records whose bytes pass 1 does not need: only their length counts. */
const SIZE_ONLY = new Uint8Array(256);

/** Encodes a record, spilling system use entries into continuation areas when they do not fit. */
function recordWithSusp(ctx: Ctx, fields: { extent: number; dataLength: number; recordingDate: number; flags: number; fileId: Uint8Array }, entries: Uint8Array[], emit: boolean): Uint8Array {
  const space = DIR_RECORD_MAX_SIZE - 1 - systemUseOffset(fields.fileId.length);
  const layout = layoutSusp(entries, space, ISO_SECTOR_SIZE);
  // Place the areas; each sits within one sector.
  const places = layout.areas.map((area) => {
    const length = area.reduce((n, e) => n + e.length, 0) + (area === layout.areas[layout.areas.length - 1] ? 0 : 28);
    if ((ctx.ceAt % ISO_SECTOR_SIZE) + length > ISO_SECTOR_SIZE) ctx.ceAt += ISO_SECTOR_SIZE - (ctx.ceAt % ISO_SECTOR_SIZE);
    const at = ctx.ceAt;
    ctx.ceAt += length;
    return { at, length };
  });
  const ce = (i: number) => encodeCe(ctx.ceBase + Math.floor(places[i]!.at / ISO_SECTOR_SIZE), places[i]!.at % ISO_SECTOR_SIZE, places[i]!.length);
  if (emit && ctx.ceBytes) {
    layout.areas.forEach((area, i) => {
      let at = places[i]!.at;
      for (const e of i + 1 < layout.areas.length ? [...area, ce(i + 1)] : area) {
        ctx.ceBytes!.set(e, at);
        at += e.length;
      }
    });
  }
  if (!emit) {
    // Pass 1 needs only the record's length (and the continuation areas placed above).
    let suLength = layout.areas.length > 0 ? 28 : 0;
    for (const e of layout.inRecord) suLength += e.length;
    return SIZE_ONLY.subarray(0, dirRecordSize(fields.fileId.length, suLength));
  }
  const su = layout.areas.length > 0 ? [...layout.inRecord, ce(0)] : layout.inRecord;
  return encodeDirRecord({ ...fields, systemUse: Buffer.concat(su) });
}

/** One ISO 9660 directory extent: ".", "..", then the records in identifier order. */
function encodeIsoDirectory(dir: DirPlan, ctx: Ctx, emit: boolean): Uint8Array {
  const { plan, now, rockRidge } = ctx;
  const out = new DirectoryBytes(!emit);
  const isoParent = dir.isoParent ?? dir;
  const realParent = dir.parent ?? dir;
  // "." (with SP and the ER in the root) and "..".
  const dotEntries = rockRidge ? rripEntries(ctx, dir.node, undefined) : [];
  if (rockRidge && dir === plan.root) {
    dotEntries.unshift(encodeSp(0));
    if (ctx.xattrs) dotEntries.push(...encodeAl(dir.node.xattrs));
    dotEntries.push(encodeRripEr());
  }
  out.add(recordWithSusp(ctx, { extent: dir.extent, dataLength: dir.size, recordingDate: clamp(dir.node, now), flags: FLAG_DIRECTORY, fileId: DOT_ID }, dotEntries, emit));
  const dotdotEntries = rockRidge ? rripEntries(ctx, realParent.node, undefined) : [];
  if (rockRidge && dir.relocated) dotdotEntries.push(encodePl(realParent.extent));
  out.add(recordWithSusp(ctx, { extent: isoParent.extent, dataLength: isoParent.size, recordingDate: clamp(isoParent.node, now), flags: FLAG_DIRECTORY, fileId: DOTDOT_ID }, dotdotEntries, emit));
  for (const r of dir.isoRecords) {
    for (const rec of isoRecords(r, ctx, emit)) out.add(rec);
  }
  return out.finish();
}

function isoRecords(r: RecordPlan, ctx: Ctx, emit: boolean): Uint8Array[] {
  const { now, rockRidge } = ctx;
  const fileId = (r.idBytes ??= Buffer.from(r.id, 'latin1'));
  const entries = rockRidge ? rripEntries(ctx, r.node, r.name) : [];
  const date = clamp(r.node, now);
  const t = r.target;
  switch (t.kind) {
    case 'dir':
      return [recordWithSusp(ctx, { extent: t.dir.extent, dataLength: t.dir.size, recordingDate: date, flags: FLAG_DIRECTORY, fileId }, entries, emit)];
    case 'relocated':
      if (rockRidge) entries.push(encodeRe());
      return [recordWithSusp(ctx, { extent: t.dir.extent, dataLength: t.dir.size, recordingDate: date, flags: FLAG_DIRECTORY, fileId }, entries, emit)];
    case 'placeholder':
      if (rockRidge) entries.push(encodeCl(t.dir.extent));
      return [recordWithSusp(ctx, { extent: 0, dataLength: 0, recordingDate: date, flags: 0, fileId }, entries, emit)];
    case 'catalog':
      return [recordWithSusp(ctx, { extent: ctx.catalogSector, dataLength: ISO_SECTOR_SIZE, recordingDate: date, flags: 0, fileId }, entries, emit)];
    case 'special':
      return [recordWithSusp(ctx, { extent: 0, dataLength: 0, recordingDate: date, flags: 0, fileId }, entries, emit)];
    case 'file':
      return sections(t.data).map((s) => recordWithSusp(ctx, { extent: s.extent, dataLength: s.length, recordingDate: date, flags: s.last ? 0 : FLAG_MULTI_EXTENT, fileId }, entries, emit));
  }
}

/** The extents of a file: one, or several of ISO_MAX_EXTENT_SIZE bytes for files of 4 GiB and more. */
function sections(data: DataPlan): Array<{ extent: number; length: number; last: boolean }> {
  if (data.size <= 0xffffffff) return [{ extent: data.extent, length: data.size, last: true }];
  const out = [];
  for (let at = 0; at < data.size; at += ISO_MAX_EXTENT_SIZE) {
    const length = Math.min(ISO_MAX_EXTENT_SIZE, data.size - at);
    out.push({ extent: data.extent + at / ISO_SECTOR_SIZE, length, last: at + length >= data.size });
  }
  return out;
}

const encodeRecord = encodeDirRecord;
/** A record's length only, for pass 1 of the Joliet directories. */
function measureRecord(r: { fileId: Uint8Array }): Uint8Array {
  return SIZE_ONLY.subarray(0, dirRecordSize(r.fileId.length, 0));
}

/** One Joliet directory extent (no system use entries). */
function encodeJolietDirectory(dir: DirPlan, ctx: Ctx, emit = true): Uint8Array {
  const { now } = ctx;
  const out = new DirectoryBytes(!emit);
  const encodeDirRecord = emit ? encodeRecord : measureRecord;
  const parent = dir.parent ?? dir;
  out.add(encodeDirRecord({ extent: dir.jolietExtent, dataLength: dir.jolietSize, recordingDate: clamp(dir.node, now), flags: FLAG_DIRECTORY, fileId: DOT_ID }));
  out.add(encodeDirRecord({ extent: parent.jolietExtent, dataLength: parent.jolietSize, recordingDate: clamp(parent.node, now), flags: FLAG_DIRECTORY, fileId: DOTDOT_ID }));
  for (const r of dir.jolietRecords) {
    const fileId = (r.idBytes ??= encodeUcs2(r.id));
    const date = clamp(r.node, now);
    const t = r.target;
    if (t.kind === 'dir') out.add(encodeDirRecord({ extent: t.dir.jolietExtent, dataLength: t.dir.jolietSize, recordingDate: date, flags: FLAG_DIRECTORY, fileId }));
    else if (t.kind === 'file') for (const s of sections(t.data)) out.add(encodeDirRecord({ extent: s.extent, dataLength: s.length, recordingDate: date, flags: s.last ? 0 : FLAG_MULTI_EXTENT, fileId }));
    else if (t.kind === 'catalog') out.add(encodeDirRecord({ extent: ctx.catalogSector, dataLength: ISO_SECTOR_SIZE, recordingDate: date, flags: 0, fileId }));
    else out.add(encodeDirRecord({ extent: 0, dataLength: 0, recordingDate: date, flags: 0, fileId }));
  }
  return out.finish();
}

/** Sequential output with sector padding and streamed contents. */
class Writer {
  #written = 0;
  constructor(private readonly sink: Sink) {}

  /** Bytes written by this writer (the image may start anywhere in the sink). */
  get position(): number {
    return this.#written;
  }

  async bytes(b: Uint8Array): Promise<void> {
    if (b.length > 0) await this.sink.write(b);
    this.#written += b.length;
  }

  async zeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, ZEROS.length);
      await this.bytes(ZEROS.subarray(0, k));
      n -= k;
    }
  }

  async padded(b: Uint8Array): Promise<void> {
    await this.bytes(b);
    await this.zeros((ISO_SECTOR_SIZE - (b.length % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
  }

  async content(content: Content, path: string): Promise<void> {
    if (await copyToSink(content, this.sink)) {
      // straight from the file into the sink's buffer
      this.#written += content.size;
      await this.zeros((ISO_SECTOR_SIZE - (content.size % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
      return;
    }
    let seen = 0;
    for await (const chunk of content.chunks()) {
      seen += chunk.length;
      if (seen > content.size) break;
      await this.bytes(chunk);
    }
    if (seen !== content.size) {
      throw new ReprimageError('IO', path, `${content.origin} gave ${seen} bytes where ${content.size} were declared`);
    }
    await this.zeros((ISO_SECTOR_SIZE - (seen % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
  }
}
