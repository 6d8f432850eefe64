/**
 * Volume geometry: FAT type, cluster size, FAT size, reserved sectors and root directory size
 * for a given volume size, chosen the way mkfs.fat 4.2 chooses them for an image file, so an
 * image of N bytes from reprimage has the same BPB numbers as `mkfs.fat -C IMG N/1024`.
 *
 * mkfs.fat's rules, restated: floppy sizes (360/720/1200/1440/2880 KiB) get the floppy formats;
 * 512 MiB and more is FAT32; FAT32 clusters grow with the size (fatgen103's table); FAT12/16 try
 * 2 KiB clusters first and double until the cluster count fits the type; FAT16 wins over FAT12
 * when it gives more clusters. Above 8192 sectors the reserved area, the root directory and
 * each FAT are padded to whole clusters so that clusters are aligned, and the sector count is
 * cut to a whole number of "tracks" (sectors per track), as DOS and mtools expect.
 */
import { ReprimageError } from '../../errors.js';
import {
  FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, FAT32_MIN_CLUSTERS, MKFS_MAX_FAT32_CLUSTERS, MKFS_MIN_FAT16_CLUSTERS,
  FAT_DIR_ENTRY_SIZE, type FatType,
} from './constants.js';

/** What the caller fixes; everything left out is chosen as mkfs.fat chooses it. */
export interface GeometryRequest {
  /** Volume size in bytes (a multiple of the sector size). */
  size: number;
  sectorSize: number;
  fatType?: FatType;
  /** Cluster size in bytes; chosen by size when absent. */
  clusterSize?: number;
  /** Reserved sectors before the first FAT; 1 (FAT12/16) or 32 (FAT32) when absent. */
  reservedSectors?: number;
  numFats: number;
  /** The root directory needs at least this many 32-byte slots (FAT12/16). */
  minRootEntries?: number;
  /** Allow FAT32 with fewer than 65525 clusters (mkfs.fat does when FAT32 is asked for). */
  allowSmallFat32?: boolean;
}

/** The numbers of a volume's boot sector, and where its regions start. */
export interface Geometry {
  fatType: FatType;
  sectorSize: number;
  /** Sectors of the file system (≤ size / sectorSize: cut to whole tracks). */
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: number;
  fatSectors: number;
  /** 0 on FAT32. */
  rootEntries: number;
  rootDirSectors: number;
  /** First sector of cluster 2. */
  firstDataSector: number;
  clusterCount: number;
  media: number;
  sectorsPerTrack: number;
  numHeads: number;
  driveNumber: number;
}

interface Floppy { sectorsPerTrack: number; heads: number; media: number; sectorsPerCluster: number; rootEntries: number }
/** mkfs.fat's floppy formats, by size in KiB. */
const FLOPPIES: Record<number, Floppy> = {
  360: { sectorsPerTrack: 9, heads: 2, media: 0xfd, sectorsPerCluster: 2, rootEntries: 112 },
  720: { sectorsPerTrack: 9, heads: 2, media: 0xf9, sectorsPerCluster: 2, rootEntries: 112 },
  1200: { sectorsPerTrack: 15, heads: 2, media: 0xf9, sectorsPerCluster: 1, rootEntries: 224 },
  1440: { sectorsPerTrack: 18, heads: 2, media: 0xf0, sectorsPerCluster: 1, rootEntries: 224 },
  2880: { sectorsPerTrack: 36, heads: 2, media: 0xf0, sectorsPerCluster: 2, rootEntries: 224 },
};

const MIB = 1024 * 1024;

/** CHS numbers for a disk without geometry: SD card rules below 256 MiB, LBA-assist above. */
function chs(sectors: number): { heads: number; sectorsPerTrack: number } {
  if (sectors <= 524288) {
    const heads = sectors <= 32768 ? 2 : sectors <= 65536 ? 4 : sectors <= 262144 ? 8 : 16;
    return { heads, sectorsPerTrack: sectors <= 4096 ? 16 : 32 };
  }
  const heads = sectors <= 16 * 63 * 1024 ? 16 : sectors <= 32 * 63 * 1024 ? 32 : sectors <= 64 * 63 * 1024 ? 64 : sectors <= 128 * 63 * 1024 ? 128 : 255;
  return { heads, sectorsPerTrack: 63 };
}

const cdiv = (a: number, b: number): number => Math.ceil(a / b);

interface Candidate { clusters: number; fatSectors: number }

/**
 * Computes the geometry, or throws USAGE naming the option that makes it impossible (a size
 * too small or too large for the type, a cluster size that gives a cluster count outside it).
 */
export function computeGeometry(req: GeometryRequest): Geometry {
  const ss = req.sectorSize;
  if (ss !== 512) throw new ReprimageError('USAGE', 'fat', `sector size ${ss} is not supported (only 512)`);
  if (!Number.isSafeInteger(req.size) || req.size <= 0 || req.size % ss !== 0) {
    throw new ReprimageError('USAGE', 'fat', `size ${req.size} is not a positive multiple of ${ss} bytes`);
  }
  const nf = req.numFats;
  if (!Number.isInteger(nf) || nf < 1 || nf > 2) throw new ReprimageError('USAGE', 'fat', `numFats must be 1 or 2, not ${nf}`);
  let sectors = req.size / ss;
  const floppy = FLOPPIES[req.size / 1024];
  const geo = chs(sectors);
  let sectorsPerTrack = floppy?.sectorsPerTrack ?? geo.sectorsPerTrack;
  const numHeads = floppy?.heads ?? geo.heads;
  const media = floppy?.media ?? 0xf8;
  let spc = floppy?.sectorsPerCluster ?? 4;
  let rootEntries = floppy?.rootEntries ?? 512;
  let fatType = req.fatType;
  if (fatType === undefined && req.size >= 512 * MIB) fatType = 32;
  if (fatType === 32) {
    spc = sectors > 32 * 1024 * 1024 * 2 ? 64 : sectors > 16 * 1024 * 1024 * 2 ? 32 : sectors > 8 * 1024 * 1024 * 2 ? 16 : sectors > 260 * 1024 * 2 ? 8 : 1;
  }
  if (req.minRootEntries !== undefined && req.minRootEntries > rootEntries) {
    rootEntries = cdiv(req.minRootEntries, ss / FAT_DIR_ENTRY_SIZE) * (ss / FAT_DIR_ENTRY_SIZE);
    if (rootEntries > 0xffff - 15) throw new ReprimageError('USAGE', 'fat', `the root directory needs ${req.minRootEntries} slots; FAT12/16 allow at most 65520`);
  }
  if (sectors > 0xffffffff) throw new ReprimageError('USAGE', 'fat', `size ${req.size} is more than 2^32 sectors`);
  sectors = Math.floor(sectors / sectorsPerTrack) * sectorsPerTrack;
  const align = sectors > 8192;
  const alignTo = (n: number, to: number): number => (align ? cdiv(n, to) * to : n);
  const reserved0 = req.reservedSectors ?? (fatType === 32 ? 32 : 1);
  if (!Number.isInteger(reserved0) || reserved0 < 1 || reserved0 > 0xffff) throw new ReprimageError('USAGE', 'fat', `reservedSectors ${reserved0} is out of range`);
  if (fatType === 32 && reserved0 < 8) throw new ReprimageError('USAGE', 'fat', 'FAT32 needs at least 8 reserved sectors (boot, FSInfo and their backups at 6 and 7)');
  let maxSpc = 128;
  if (req.clusterSize !== undefined) {
    const c = req.clusterSize / ss;
    if (!Number.isInteger(c) || c < 1 || c > 128 || (c & (c - 1)) !== 0) {
      throw new ReprimageError('USAGE', 'fat', `cluster size ${req.clusterSize} is not a power of two from ${ss} to ${128 * ss} bytes`);
    }
    spc = maxSpc = c;
  }
  const rootDirSectors = cdiv(rootEntries * FAT_DIR_ENTRY_SIZE, ss);
  let c12: Candidate = { clusters: 0, fatSectors: 0 };
  let c16: Candidate = { clusters: 0, fatSectors: 0 };
  let c32: Candidate = { clusters: 0, fatSectors: 0 };
  for (; spc <= maxSpc; spc *= 2) {
    const data32 = sectors - alignTo(reserved0, spc);
    const data1216 = data32 - alignTo(rootDirSectors, spc);
    c12 = { clusters: 0, fatSectors: 0 };
    c16 = { clusters: 0, fatSectors: 0 };
    c32 = { clusters: 0, fatSectors: 0 };
    if (data1216 > 0) {
      // Estimate the cluster count, size the FAT for it, then count what really fits beside it.
      let n = Math.floor((2 * (data1216 * ss + nf * 3)) / (2 * spc * ss + nf * 3));
      let fat = alignTo(cdiv(((n + 2) * 3 + 1) >> 1, ss), spc);
      n = Math.floor((data1216 - nf * fat) / spc);
      if (n > 0 && n <= Math.min(Math.floor((fat * 2 * ss) / 3), FAT12_MAX_CLUSTERS)) c12 = { clusters: n, fatSectors: fat };
      n = Math.floor((data1216 * ss + nf * 4) / (spc * ss + nf * 2));
      fat = alignTo(cdiv((n + 2) * 2, ss), spc);
      n = Math.floor((data1216 - nf * fat) / spc);
      if (n >= MKFS_MIN_FAT16_CLUSTERS && n <= Math.min(Math.floor((fat * ss) / 2), FAT16_MAX_CLUSTERS)) c16 = { clusters: n, fatSectors: fat };
    }
    if (data32 > 0) {
      let n = Math.floor((data32 * ss + nf * 8) / (spc * ss + nf * 4));
      const fat = alignTo(cdiv((n + 2) * 4, ss), spc);
      n = Math.floor((data32 - nf * fat) / spc);
      const fits = n > 0 && n <= Math.min(Math.floor((fat * ss) / 4), MKFS_MAX_FAT32_CLUSTERS);
      if (fits && (n >= FAT32_MIN_CLUSTERS || (fatType === 32 && req.allowSmallFat32))) c32 = { clusters: n, fatSectors: fat };
    }
    if ((c12.clusters && (fatType === undefined || fatType === 12)) || (c16.clusters && (fatType === undefined || fatType === 16)) || (c32.clusters && fatType === 32)) break;
  }
  const type: FatType = fatType ?? (c16.clusters > c12.clusters ? 16 : 12);
  const chosen = type === 12 ? c12 : type === 16 ? c16 : c32;
  if (chosen.clusters === 0) {
    const why = req.clusterSize !== undefined ? ` with ${req.clusterSize}-byte clusters` : '';
    throw new ReprimageError('USAGE', 'fat', `a ${req.size}-byte volume cannot be FAT${type}${why} (too few or too many clusters)`);
  }
  const finalSpc = Math.min(spc, maxSpc);
  const reservedSectors = alignTo(reserved0, finalSpc);
  const finalRootEntries = type === 32 ? 0 : align ? alignTo(rootDirSectors, finalSpc) * (ss / FAT_DIR_ENTRY_SIZE) : rootEntries;
  const finalRootSectors = cdiv(finalRootEntries * FAT_DIR_ENTRY_SIZE, ss);
  const firstDataSector = reservedSectors + nf * chosen.fatSectors + finalRootSectors;
  if (sectors < firstDataSector + 64) throw new ReprimageError('USAGE', 'fat', `a ${req.size}-byte volume is too small for a FAT file system`);
  if (reservedSectors > 0xffff || finalRootEntries > 0xffff || (type !== 32 && chosen.fatSectors > 0xffff)) {
    throw new ReprimageError('USAGE', 'fat', `a ${req.size}-byte volume does not fit the FAT${type} boot sector fields`);
  }
  if (floppy === undefined && sectorsPerTrack === 0) sectorsPerTrack = 1;
  return {
    fatType: type, sectorSize: ss, totalSectors: sectors, sectorsPerCluster: finalSpc, reservedSectors, numFats: nf,
    fatSectors: chosen.fatSectors, rootEntries: finalRootEntries, rootDirSectors: finalRootSectors, firstDataSector,
    clusterCount: chosen.clusters, media, sectorsPerTrack, numHeads, driveNumber: media === 0xf8 ? 0x80 : 0,
  };
}
