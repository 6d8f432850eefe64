/**
 * The FAT12/16/32 reader: boot sector checks, the FAT, directories with VFAT long names, and
 * file contents read lazily along their cluster chains. Hostile images end in a ReprimageError
 * (never a hang or a huge allocation): bad BPB values, chains that loop, leave the volume, or
 * share clusters, directories that contain themselves, and images shorter than they declare.
 */
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { streamContent } from '../../tree/content.js';
import { joinPath } from '../../tree/names.js';
import { Tree, newDir, type DirNode, type FileNode } from '../../tree/tree.js';
import { BOOT_SECTOR_SIZE, decodeBootSector, decodeFsInfo, type BootSector, type FsInfo } from './boot-sector.js';
import {
  ATTR_DIRECTORY, ATTR_LONG_NAME, ATTR_LONG_NAME_MASK, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIR_ENTRY_FREE,
  FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, FAT32_MAX_CLUSTERS, FAT_DIR_ENTRY_SIZE, FIRST_CLUSTER,
  LFN_MAX_ENTRIES, MAX_DIR_ENTRIES, type FatType,
} from './constants.js';
import { decodeFatTime, decodeLongNameEntry, decodeShortEntry, type ShortEntry } from './dir-entry.js';
import { ClusterBitmap, FatTable, fatBytes, type ClusterRun } from './fat-table.js';
import { displayShortName, shortNameChecksum } from './names.js';

/** An opened FAT volume. */
export interface FatImage {
  readonly source: RandomAccessSource;
  readonly bootSector: BootSector;
  readonly type: FatType;
  /** The volume label: the root directory's label entry, else the boot sector's; undefined for none. */
  readonly label: string | undefined;
  /** BS_VolID, when the extended boot signature is present. */
  readonly serial: number | undefined;
  readonly clusterSize: number;
  readonly clusterCount: number;
  /** FAT32 only: the FSInfo hints. */
  readonly fsInfo: FsInfo | undefined;
  /**
   * The files and directories as a Tree. Names are the long names (or the short names with the
   * case bits applied); mtimes are the write times read as UTC; files are 0644 (0444 when
   * read-only), directories 0755, owners 0. Contents are read when streamed. The whole directory
   * structure and every chain is checked here, so a bad image fails now, not while streaming.
   */
  tree(): Promise<Tree>;
}

const MAX_FAT_BYTES = 512 * 1024 * 1024;

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Whether `head` (at least the first 512 bytes) looks like a FAT boot sector. */
export function sniffFat(head: Uint8Array): boolean {
  if (head.length < BOOT_SECTOR_SIZE || head[510] !== 0x55 || head[511] !== 0xaa) return false;
  if (!((head[0] === 0xeb && head[2] === 0x90) || head[0] === 0xe9)) return false;
  const bs = decodeBootSector(head, '');
  return (
    isPow2(bs.bytesPerSector) && bs.bytesPerSector >= 512 && bs.bytesPerSector <= 4096 &&
    isPow2(bs.sectorsPerCluster) && bs.reservedSectors >= 1 && bs.numFats >= 1 &&
    (bs.media === 0xf0 || bs.media >= 0xf8) && bs.fatSectors > 0 && bs.totalSectors > 0
  );
}

interface Layout {
  type: FatType;
  bytesPerSector: number;
  clusterSize: number;
  clusterCount: number;
  fatOffset: number;
  rootDirOffset: number;
  rootDirBytes: number;
  dataOffset: number;
}

function checkBootSector(bs: BootSector, source: RandomAccessSource): Layout {
  const name = source.name;
  const bad = (field: string, detail: string): ReprimageError => corruptError(name, `FAT boot sector (${field})`, 0, detail);
  const bps = bs.bytesPerSector;
  if (!isPow2(bps) || bps < 512 || bps > 4096) throw bad('bytes per sector', `${bps} is not a power of two from 512 to 4096`);
  if (bs.sectorsPerCluster === 0) throw bad('sectors per cluster', 'zero sectors per cluster');
  if (!isPow2(bs.sectorsPerCluster)) throw bad('sectors per cluster', `${bs.sectorsPerCluster} is not a power of two`);
  if (bs.reservedSectors === 0) throw bad('reserved sectors', 'zero reserved sectors leave no room for the boot sector');
  if (bs.numFats === 0) throw bad('number of FATs', 'zero FATs');
  if (bs.fatSectors === 0) throw bad('FAT size', 'zero sectors per FAT');
  if (bs.totalSectors === 0) throw bad('total sectors', 'zero sectors');
  const rootDirBytes = bs.fat32Layout ? 0 : bs.rootEntries * FAT_DIR_ENTRY_SIZE;
  const rootDirSectors = Math.ceil(rootDirBytes / bps);
  const firstData = bs.reservedSectors + bs.numFats * bs.fatSectors + rootDirSectors;
  if (firstData >= bs.totalSectors) throw bad('total sectors', `the ${bs.totalSectors} sectors end before the data area at sector ${firstData}`);
  const clusterCount = Math.floor((bs.totalSectors - firstData) / bs.sectorsPerCluster);
  if (clusterCount === 0) throw bad('total sectors', 'no room for a single cluster');
  let type: FatType;
  if (bs.fat32Layout) {
    type = 32;
    if (clusterCount > FAT32_MAX_CLUSTERS) throw bad('total sectors', `${clusterCount} clusters are more than FAT32 can number`);
  } else {
    type = clusterCount <= FAT12_MAX_CLUSTERS ? 12 : 16;
    if (clusterCount > FAT16_MAX_CLUSTERS) throw bad('FAT size', `${clusterCount} clusters are too many for FAT16, and the FAT32 fields are absent`);
  }
  const tableBytes = fatBytes(type, clusterCount + 2);
  if (tableBytes > bs.fatSectors * bps) throw bad('FAT size', `${bs.fatSectors} sectors cannot hold the ${clusterCount + 2} FAT entries`);
  if (tableBytes > MAX_FAT_BYTES) throw new ReprimageError('OVERFLOW', name, `the FAT of ${tableBytes} bytes is larger than reprimage reads (${MAX_FAT_BYTES})`);
  const volumeBytes = bs.totalSectors * bps;
  if (volumeBytes > source.size) throw truncatedError(name, `FAT volume of ${volumeBytes} bytes`, source.size, volumeBytes - source.size);
  return {
    type, bytesPerSector: bps, clusterSize: bs.sectorsPerCluster * bps, clusterCount,
    fatOffset: bs.reservedSectors * bps, rootDirOffset: (bs.reservedSectors + bs.numFats * bs.fatSectors) * bps,
    rootDirBytes, dataOffset: firstData * bps,
  };
}

interface RawEntry {
  name: string;
  entry: ShortEntry;
}

interface PendingLongName {
  checksum: number;
  units: number[][];
  /** The ordinal the next entry must have; 0 when the set is complete. */
  expect: number;
}

/**
 * The entries of one directory, in stored order: deleted entries, dot entries and long-name
 * sets that do not belong to the entry after them (wrong order or checksum, as after an old
 * DOS renamed a file) are dropped, as Windows and Linux drop them. Volume labels are returned
 * through `onLabel`.
 */
function parseDirectory(bytes: Uint8Array, fat32: boolean, onLabel: (name: string, entry: ShortEntry) => void): RawEntry[] {
  const out: RawEntry[] = [];
  let pending: PendingLongName | undefined;
  for (let at = 0; at + FAT_DIR_ENTRY_SIZE <= bytes.length; at += FAT_DIR_ENTRY_SIZE) {
    const first = bytes[at]!;
    if (first === 0) break;
    if (first === DIR_ENTRY_FREE) {
      pending = undefined;
      continue;
    }
    const attr = bytes[at + 11]!;
    if ((attr & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME) {
      const e = decodeLongNameEntry(bytes, at);
      if (e.last) {
        pending = e.ord >= 1 && e.ord <= LFN_MAX_ENTRIES ? { checksum: e.checksum, units: [], expect: e.ord } : undefined;
      } else if (!pending || e.ord !== pending.expect || e.checksum !== pending.checksum) {
        pending = undefined;
      }
      if (pending) {
        pending.units[e.ord - 1] = e.units;
        pending.expect = e.ord - 1;
      }
      continue;
    }
    const entry = decodeShortEntry(bytes, at, fat32);
    const longName = pending && pending.expect === 0 && pending.checksum === shortNameChecksum(entry.name) ? unitsToName(pending.units) : undefined;
    pending = undefined;
    if ((attr & ATTR_VOLUME_ID) !== 0) {
      onLabel(Buffer.from(entry.name).toString('latin1').trimEnd(), entry);
      continue;
    }
    const short = Buffer.from(entry.name).toString('latin1');
    if (short === '.          ' || short === '..         ') continue;
    out.push({ name: longName ?? displayShortName(entry.name, entry.ntRes), entry });
  }
  return out;
}

function unitsToName(parts: number[][]): string {
  let name = '';
  for (const part of parts) {
    for (const unit of part) {
      if (unit === 0) return name;
      name += String.fromCharCode(unit);
    }
  }
  return name;
}

/** Opens a FAT volume: checks the boot sector, reads the FAT and the volume label. */
export async function openFat(source: RandomAccessSource): Promise<FatImage> {
  const name = source.name;
  if (source.size < BOOT_SECTOR_SIZE) throw truncatedError(name, 'FAT boot sector', 0, BOOT_SECTOR_SIZE - source.size);
  const bs = decodeBootSector(await source.read(0, BOOT_SECTOR_SIZE), name);
  const layout = checkBootSector(bs, source);
  const fat = new FatTable(layout.type, await source.read(layout.fatOffset, fatBytes(layout.type, layout.clusterCount + 2)), layout.clusterCount, name);
  const maxDirClusters = Math.ceil((MAX_DIR_ENTRIES * FAT_DIR_ENTRY_SIZE) / layout.clusterSize);

  const readRuns = async (runs: readonly ClusterRun[]): Promise<Uint8Array> => {
    const total = runs.reduce((n, r) => n + r.count, 0) * layout.clusterSize;
    const out = new Uint8Array(total);
    let at = 0;
    for (const r of runs) {
      const bytes = r.count * layout.clusterSize;
      out.set(await source.read(layout.dataOffset + (r.first - FIRST_CLUSTER) * layout.clusterSize, bytes), at);
      at += bytes;
    }
    return out;
  };

  const dirChain = (start: number, what: string, seen: ClusterBitmap): ClusterRun[] => {
    const runs = fat.chain(start, what, seen, maxDirClusters + 1);
    if (runs.reduce((n, r) => n + r.count, 0) > maxDirClusters) {
      throw new ReprimageError('CORRUPT_IMAGE', name, `${what} is longer than ${MAX_DIR_ENTRIES} entries`);
    }
    return runs;
  };

  const readRoot = async (seen: ClusterBitmap): Promise<Uint8Array> => {
    if (layout.type !== 32) return source.read(layout.rootDirOffset, layout.rootDirBytes);
    return readRuns(dirChain(bs.rootCluster, 'the root directory', seen));
  };

  let label: string | undefined;
  let labelEntry: ShortEntry | undefined;
  parseDirectory(await readRoot(new ClusterBitmap(fat.maxCluster + 1)), layout.type === 32, (text, entry) => {
    if (labelEntry === undefined) {
      label = text;
      labelEntry = entry;
    }
  });
  if (label === undefined && bs.bootSignature === 0x29) label = bs.volumeLabel.trimEnd();
  if (label === '' || label === 'NO NAME') label = undefined;
  const fsInfo = layout.type === 32 && bs.fsInfoSector > 0 && bs.fsInfoSector < bs.reservedSectors
    ? decodeFsInfo(await source.read(bs.fsInfoSector * layout.bytesPerSector, BOOT_SECTOR_SIZE))
    : undefined;

  async function tree(): Promise<Tree> {
    const seen = new ClusterBitmap(fat.maxCluster + 1);
    const rootTime = labelEntry ? decodeFatTime(labelEntry.wrtDate, labelEntry.wrtTime) : 0;
    const root = newDir({ mode: 0o755, mtime: { sec: rootTime, nsec: 0 } });
    const result = new Tree(root);
    const dirStarts = new Set<number>([0, bs.rootCluster]);
    const stack: Array<{ path: string; node: DirNode; bytes: Uint8Array }> = [{ path: '', node: root, bytes: await readRoot(seen) }];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      for (const { name: entryName, entry } of parseDirectory(dir.bytes, layout.type === 32, () => undefined)) {
        if (entryName === '' || entryName.includes('/') || entryName.includes('\0')) {
          throw new ReprimageError('CORRUPT_IMAGE', name, `directory ${JSON.stringify(dir.path || '/')} holds an entry named ${JSON.stringify(entryName)}`);
        }
        if (entryName === '.' || entryName === '..') {
          throw new ReprimageError('PATH_ESCAPE', name, `directory ${JSON.stringify(dir.path || '/')} holds a long name ${JSON.stringify(entryName)}`);
        }
        const path = joinPath(dir.path, entryName);
        if (dir.node.children.has(entryName)) throw new ReprimageError('CORRUPT_IMAGE', name, `two entries are named ${JSON.stringify(path)}`);
        const mtime = { sec: decodeFatTime(entry.wrtDate, entry.wrtTime), nsec: 0 };
        if (entry.attr & ATTR_DIRECTORY) {
          if (dirStarts.has(entry.firstCluster)) {
            throw new ReprimageError('LINK_LOOP', name, `directory ${JSON.stringify(path)} (cluster ${entry.firstCluster}) contains itself or another directory`);
          }
          dirStarts.add(entry.firstCluster);
          const node = newDir({ mode: 0o755, mtime });
          dir.node.children.set(entryName, node);
          stack.push({ path, node, bytes: await readRuns(dirChain(entry.firstCluster, `directory ${JSON.stringify(path)}`, seen)) });
          continue;
        }
        const size = entry.fileSize;
        const needed = Math.ceil(size / layout.clusterSize);
        let runs: ClusterRun[] = [];
        if (needed > 0) {
          runs = fat.chain(entry.firstCluster, `file ${JSON.stringify(path)}`, seen, needed);
          const got = runs.reduce((n, r) => n + r.count, 0);
          if (got < needed) {
            throw new ReprimageError('CORRUPT_IMAGE', name, `file ${JSON.stringify(path)} has ${size} bytes but its cluster chain only ${got} clusters of ${layout.clusterSize}`);
          }
        }
        const node: FileNode = {
          kind: 'file', mode: entry.attr & ATTR_READ_ONLY ? 0o444 : 0o644, uid: 0, gid: 0, mtime, xattrs: new Map(),
          content: streamContent(size, `${name} ▸ ${path}`, () => readChain(runs, size)),
        };
        dir.node.children.set(entryName, node);
      }
    }
    return result;
  }

  async function* readChain(runs: readonly ClusterRun[], size: number): AsyncIterable<Uint8Array> {
    const CHUNK = 1 << 20;
    let left = size;
    for (const r of runs) {
      let offset = layout.dataOffset + (r.first - FIRST_CLUSTER) * layout.clusterSize;
      let runLeft = Math.min(r.count * layout.clusterSize, left);
      while (runLeft > 0) {
        const n = Math.min(CHUNK, runLeft);
        yield await source.read(offset, n);
        offset += n;
        runLeft -= n;
        left -= n;
      }
    }
  }

  return {
    source, bootSector: bs, type: layout.type, label, serial: bs.bootSignature === 0x29 ? bs.volumeId : undefined,
    clusterSize: layout.clusterSize, clusterCount: layout.clusterCount, fsInfo, tree,
  };
}
