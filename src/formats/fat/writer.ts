/**
 * The FAT12/16/32 writer. One pass, appending only (it works on any Sink, also a pipe, and at
 * any position of a sink that already holds other bytes):
 *
 *   reserved sectors │ FAT 1 │ FAT 2 │ root directory (FAT12/16) │ clusters 2, 3, … │ free
 *   (boot sector,      built from the contiguous runs                in tree.walk() order
 *    FSInfo, backups)
 *
 * Every byte is a function of the Tree and the options: names in bytewise order, clusters given
 * out in walk order, all times from `options.buildTime` or from mtimes clamped to it, stored as UTC.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { Meta, Tree } from '../../tree/tree.js';
import { BOOT_SECTOR_SIZE, FSINFO_UNKNOWN, encodeBootSector, encodeFsInfo } from './boot-sector.js';
import {
  ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_READ_ONLY, ATTR_VOLUME_ID, FAT_DIR_ENTRY_SIZE, FIRST_CLUSTER, type FatType,
} from './constants.js';
import { encodeFatTime, encodeLongNameEntries, encodeShortEntry } from './dir-entry.js';
import { buildFat } from './fat-table.js';
import { computeGeometry, type Geometry } from './geometry.js';
import { shortNameChecksum } from './names.js';
import { allocate, planTree, totalClustersNeeded, type DirPlan, type TreePlan } from './plan.js';

/** Options of `writeFat`; only `volumeSerial` and `buildTime` are required. */
export interface FatWriteOptions {
  /** FAT type; chosen by size as mkfs.fat does when absent (512 MiB and more: FAT32). */
  fatType?: FatType;
  /**
   * Volume size in bytes, a multiple of 512. When absent: the smallest whole number of MiB (at
   * least 1) at which the tree fits with at least 10 % of the clusters left free.
   */
  size?: number;
  /** Bytes per sector: only 512. */
  sectorSize?: number;
  /** Bytes per cluster (a power of two, 512 to 64 KiB); chosen by size as mkfs.fat does. */
  clusterSize?: number;
  /** Volume label, at most 11 characters FAT allows in labels; stored upper-cased. None by default. */
  label?: string;
  /** The volume serial number (BS_VolID); derive it from the seed (docs/design.md rule 4). */
  volumeSerial: number;
  /** SOURCE_DATE_EPOCH in seconds: the label's time; file and directory mtimes are clamped to it. */
  buildTime: number;
  /** BS_OEMName, at most 8 printable ASCII characters; "mkfs.fat" by default. */
  oemName?: string;
  /** Reserved sectors before the first FAT (FAT32: at least 8); mkfs.fat's default when absent. */
  reservedSectors?: number;
  /** Number of FATs, 1 or 2; 2 by default. */
  numFats?: number;
  /** BPB_HiddSec: the volume's first sector on its disk, when it sits in a partition. */
  hiddenSectors?: number;
  /** Leave out entries FAT cannot store (with a warning) instead of failing. */
  skipUnsupported?: boolean;
}

/** What `writeFat` wrote: the geometry it chose, the space used, and warnings. */
export interface FatWriteReport {
  fatType: FatType;
  /** Bytes written: the volume size. */
  size: number;
  /** Sectors of the file system (the size cut to whole tracks, as mkfs.fat does). */
  totalSectors: number;
  sectorSize: number;
  clusterSize: number;
  clusterCount: number;
  usedClusters: number;
  fatSectors: number;
  reservedSectors: number;
  /** Root directory slots (0 on FAT32). */
  rootEntries: number;
  /** Byte offset of cluster 2 from the start of the volume. */
  dataOffset: number;
  volumeSerial: number;
  /** The label as stored, or undefined. */
  label: string | undefined;
  files: number;
  directories: number;
  /** Entries left out (skipUnsupported), and a FAT32 volume with fewer clusters than FAT32 should have. */
  warnings: string[];
}

const MIB = 1024 * 1024;
const MAX_DEFAULT_SIZE = 2 ** 41; // 2 TiB: beyond this FAT32 with 32 KiB clusters runs out of sectors
const ZEROS = new Uint8Array(MIB);
const LABEL_BAD = new Set([...'*?.,;:/\\|+=<>[]"']);

function checkOptions(o: FatWriteOptions): void {
  const u32 = (v: number | undefined, name: string): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new ReprimageError('USAGE', 'fat', `${name} must be an integer from 0 to 2^32 − 1, not ${v}`);
    }
  };
  u32(o.volumeSerial, 'volumeSerial');
  if (o.volumeSerial === undefined) throw new ReprimageError('USAGE', 'fat', 'volumeSerial is required (derive it from the seed)');
  u32(o.hiddenSectors, 'hiddenSectors');
  if (!Number.isFinite(o.buildTime)) throw new ReprimageError('USAGE', 'fat', `time must be SOURCE_DATE_EPOCH in seconds, not ${o.buildTime}`);
  if (o.fatType !== undefined && ![12, 16, 32].includes(o.fatType)) throw new ReprimageError('USAGE', 'fat', `fatType must be 12, 16 or 32, not ${o.fatType}`);
  const oem = o.oemName ?? 'mkfs.fat';
  if (oem.length > 8 || !/^[\x20-\x7e]*$/.test(oem)) throw new ReprimageError('USAGE', 'fat', `oemName ${JSON.stringify(oem)} is not at most 8 printable ASCII characters`);
}

/** The label as stored (11 characters, upper case), or undefined for none. */
export function normalizeLabel(label: string | undefined): string | undefined {
  if (label === undefined || label.trim() === '' || label.trim().toUpperCase() === 'NO NAME') return undefined;
  const upper = label.toUpperCase();
  if (upper.length > 11) throw new ReprimageError('USAGE', 'fat', `label ${JSON.stringify(label)} is longer than 11 characters`);
  if (upper.startsWith(' ')) throw new ReprimageError('USAGE', 'fat', `label ${JSON.stringify(label)} starts with a space`);
  for (const ch of upper) {
    if (ch < ' ' || ch > '~' || LABEL_BAD.has(ch)) throw new ReprimageError('USAGE', 'fat', `label ${JSON.stringify(label)} contains ${JSON.stringify(ch)}, which FAT labels cannot hold`);
  }
  return upper.padEnd(11, ' ');
}

/** Picks the geometry: the given size, or the smallest whole number of MiB that fits the tree. */
function chooseGeometry(plan: TreePlan, o: FatWriteOptions, numFats: number): { geometry: Geometry; size: number; needed: number } {
  const base = {
    sectorSize: o.sectorSize ?? 512, fatType: o.fatType, clusterSize: o.clusterSize,
    reservedSectors: o.reservedSectors, numFats, minRootEntries: plan.root.slots,
  };
  const need = (g: Geometry): number => totalClustersNeeded(plan, g.sectorsPerCluster * g.sectorSize, g.fatType === 32);
  if (o.size !== undefined) {
    const geometry = computeGeometry({ ...base, size: o.size, allowSmallFat32: o.fatType === 32 });
    const needed = need(geometry);
    if (needed > geometry.clusterCount) {
      const cb = geometry.sectorsPerCluster * geometry.sectorSize;
      throw new ReprimageError('USAGE', 'fat', `the tree needs ${needed} clusters of ${cb} bytes, but a ${o.size}-byte FAT${geometry.fatType} volume has ${geometry.clusterCount}`);
    }
    return { geometry, size: o.size, needed };
  }
  // Past these sizes a forced type cannot hold more clusters, so the search stops there.
  const limit = o.fatType === 12 ? 300 * MIB : o.fatType === 16 ? 4608 * MIB : MAX_DEFAULT_SIZE;
  for (let size = MIB; size <= limit;) {
    let geometry: Geometry | undefined;
    try {
      geometry = computeGeometry({ ...base, size });
    } catch (e) {
      if (!(e instanceof ReprimageError) || e.code !== 'USAGE' || !/cannot be FAT|too small/.test(e.detail)) throw e;
    }
    if (geometry) {
      const needed = need(geometry);
      const wanted = needed + Math.ceil(needed / 10);
      if (wanted <= geometry.clusterCount) return { geometry, size, needed };
      const deficit = (wanted - geometry.clusterCount) * geometry.sectorsPerCluster * geometry.sectorSize;
      size += Math.max(MIB, Math.ceil(deficit / MIB) * MIB);
    } else {
      size += MIB;
    }
  }
  throw new ReprimageError('USAGE', 'fat', `the tree does not fit in a FAT${o.fatType ?? ''} volume of ${limit / MIB} MiB`);
}

/** Seconds of an entry's times: its mtime clamped to SOURCE_DATE_EPOCH. */
function entryTime(meta: Meta, time: number): number {
  return Math.min(meta.mtime.sec, time);
}

/** The bytes of one directory: dot entries, label, then each child's long-name and short entries. */
function encodeDirectory(dir: DirPlan, bytes: number, label: string | undefined, time: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  const put = (name: Uint8Array, attr: number, ntRes: number, seconds: number, firstCluster: number, fileSize: number): void => {
    const t = encodeFatTime(seconds);
    encodeShortEntry({
      name, attr, ntRes, crtTimeTenth: t.tenths, crtTime: t.time, crtDate: t.date, lstAccDate: t.date,
      firstCluster, wrtTime: t.time, wrtDate: t.date, fileSize,
    }, out, at);
    at += FAT_DIR_ENTRY_SIZE;
  };
  const own = entryTime(dir.node, time);
  if (dir.parent) {
    put(ascii11('.'), ATTR_DIRECTORY, 0, own, dir.first, 0);
    // ".." of a directory in the root points at cluster 0, also on FAT32 (fatgen103 §6.7).
    put(ascii11('..'), ATTR_DIRECTORY, 0, own, dir.parent.parent ? dir.parent.first : 0, 0);
  } else if (label !== undefined) {
    put(ascii11(label), ATTR_VOLUME_ID, 0, time, 0, 0);
  }
  for (const child of dir.children) {
    const short = ascii11(child.choice.short);
    if (child.choice.needsLongName) at += encodeLongNameEntries(child.name, shortNameChecksum(short), out, at);
    const t = child.target;
    const attr = t.kind === 'dir' ? ATTR_DIRECTORY : ATTR_ARCHIVE | ((t.node.mode & 0o222) === 0 ? ATTR_READ_ONLY : 0);
    put(short, attr, child.choice.caseFlags, entryTime(t.node, time), t.first, t.kind === 'file' ? t.node.content.size : 0);
  }
  return out;
}

function ascii11(text: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < Math.min(11, text.length); i++) out[i] = text.charCodeAt(i);
  return out;
}

async function writeZeros(sink: Sink, bytes: number): Promise<void> {
  for (let left = bytes; left > 0; left -= ZEROS.length) await sink.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
}

/**
 * Writes `tree` as a FAT volume at the sink's current position and returns what it wrote.
 * Guarantees: the output bytes depend only on the tree and the options (not on TZ, umask, the
 * clock or the tree's insertion order); `fsck.fat -n` finds nothing to fix. Errors: USAGE for
 * impossible options (a size too small for the tree, a bad label), UNSUPPORTED for entries FAT
 * cannot store (unless `skipUnsupported`), CONFLICT for names that differ only in case, IO when a
 * file's contents do not have their declared size.
 */
export async function writeFat(tree: Tree, sink: Sink, options: FatWriteOptions): Promise<FatWriteReport> {
  checkOptions(options);
  const label = normalizeLabel(options.label);
  const numFats = options.numFats ?? 2;
  const plan = planTree(tree, label !== undefined, options.skipUnsupported ?? false);
  const { geometry: g, size, needed } = chooseGeometry(plan, options, numFats);
  const warnings = [...plan.warnings];
  if (g.fatType === 32 && g.clusterCount < 65525) {
    warnings.push(`FAT32 with only ${g.clusterCount} clusters: readers that go by the cluster count (Windows) take it for FAT16`);
  }
  const clusterBytes = g.sectorsPerCluster * g.sectorSize;
  const runs = allocate(plan, clusterBytes, g.fatType === 32);
  const free = g.clusterCount - needed;
  const start = sink.position;

  // Reserved sectors: boot sector; on FAT32 also FSInfo (1) and their backups (6, 7).
  const reserved = new Uint8Array(g.reservedSectors * g.sectorSize);
  const boot = encodeBootSector({
    fatType: g.fatType, oemName: options.oemName ?? 'mkfs.fat', bytesPerSector: g.sectorSize,
    sectorsPerCluster: g.sectorsPerCluster, reservedSectors: g.reservedSectors, numFats: g.numFats,
    rootEntries: g.rootEntries, totalSectors: g.totalSectors, media: g.media, fatSectors: g.fatSectors,
    sectorsPerTrack: g.sectorsPerTrack, numHeads: g.numHeads, hiddenSectors: options.hiddenSectors ?? 0,
    driveNumber: g.driveNumber, volumeId: options.volumeSerial, volumeLabel: label ?? 'NO NAME',
    rootCluster: plan.root.first, fsInfoSector: 1, backupBootSector: 6,
  });
  reserved.set(boot, 0);
  if (g.fatType === 32) {
    const fsInfo = encodeFsInfo(free, free > 0 ? FIRST_CLUSTER + needed : FSINFO_UNKNOWN);
    reserved.set(fsInfo, BOOT_SECTOR_SIZE);
    reserved.set(boot, 6 * BOOT_SECTOR_SIZE);
    reserved.set(fsInfo, 7 * BOOT_SECTOR_SIZE);
  }
  await sink.write(reserved);

  const fat = buildFat(g.fatType, g.fatSectors, g.sectorSize, g.media, runs);
  for (let i = 0; i < g.numFats; i++) await sink.write(fat);

  if (g.fatType !== 32) await sink.write(encodeDirectory(plan.root, g.rootDirSectors * g.sectorSize, label, options.buildTime));

  for (const obj of plan.order) {
    if (obj.clusters === 0) continue;
    const bytes = obj.clusters * clusterBytes;
    if (obj.kind === 'dir') {
      await sink.write(encodeDirectory(obj, bytes, label, options.buildTime));
      continue;
    }
    const content = obj.node.content;
    let seen = 0;
    for await (const chunk of content.chunks()) {
      seen += chunk.length;
      if (seen > content.size) throw new ReprimageError('IO', obj.path, `its contents (${content.origin}) gave more than the declared ${content.size} bytes`);
      await sink.write(chunk);
    }
    if (seen !== content.size) throw new ReprimageError('IO', obj.path, `its contents (${content.origin}) gave ${seen} of the declared ${content.size} bytes`);
    await writeZeros(sink, bytes - seen);
  }
  await writeZeros(sink, start + size - sink.position);
  return {
    fatType: g.fatType, size, totalSectors: g.totalSectors, sectorSize: g.sectorSize, clusterSize: clusterBytes,
    clusterCount: g.clusterCount, usedClusters: needed, fatSectors: g.fatSectors, reservedSectors: g.reservedSectors,
    rootEntries: g.rootEntries, dataOffset: g.firstDataSector * g.sectorSize, volumeSerial: options.volumeSerial,
    label: label?.trimEnd(), files: plan.files, directories: plan.directories, warnings,
  };
}
