/**
 * openIso: reads an ISO 9660 image (with Rock Ridge, Joliet, El Torito, MBR/GPT) from a
 * random-access source. Directory extents are read on demand when `tree()` is called; file
 * contents stay lazy (`rangeContent` of the source). Every bad input is a ReprimageError:
 * a directory seen twice is LINK_LOOP, an extent past the end OUT_OF_BOUNDS, an endless CE chain
 * or a bad boot catalog CORRUPT_IMAGE, an absurd directory size OVERFLOW.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { rangeContent, streamContent, type Content } from '../../tree/content.js';
import { Tree, kindFromMode, newDir, type DirNode, type Meta, type Node } from '../../tree/tree.js';
import { FLAG_DIRECTORY, FLAG_MULTI_EXTENT, ISO_FIRST_DESCRIPTOR_SECTOR, ISO_SECTOR_SIZE, VD_BOOT_RECORD, VD_PRIMARY, VD_SUPPLEMENTARY, VD_TERMINATOR } from './constants.js';
import { decodeDirRecord, type DirRecord } from './dir-record.js';
import { decodeBootCatalog, type BootEntry } from './el-torito.js';
import { plainIsoName } from './iso-names.js';
import { decodeUcs2 } from './joliet.js';
import { decodeAl } from './aaip.js';
import { interpretRockRidge, RRIP_IDS, type RockRidgeInfo } from './rock-ridge.js';
import { decodeCe, decodeErId, decodeSuspEntries, type SuspEntry } from './susp.js';
import { crc32, decodeGptEntries, decodeGptHeader, decodeMbr, type GptInfo, type MbrPartition } from './system-area.js';
import { decodeBootRecord, decodeVolumeDescriptor, volumeDescriptorType, type VolumeDescriptor } from './volume-descriptor.js';
import { zisofsContent } from './zisofs.js';

export type IsoNamespace = 'rockridge' | 'joliet' | 'iso9660';

export interface IsoBootImage {
  platform: number;
  /** 'bios' for platform 0, 'efi' for 0xEF, else 'other'. */
  platformName: 'bios' | 'efi' | 'other';
  bootable: boolean;
  mediaType: number;
  /** Sectors of 512 bytes the firmware loads. */
  loadSize: number;
  /** First 2048-byte sector of the boot image. */
  extent: number;
}

export interface IsoImage {
  readonly source: RandomAccessSource;
  readonly volumes: { primary: VolumeDescriptor; joliet?: VolumeDescriptor };
  /** Whether the primary tree carries Rock Ridge. */
  readonly rockRidge: boolean;
  readonly bootCatalog?: { sector: number; entries: IsoBootImage[] };
  readonly partitions: { mbr?: { diskSignature: number; partitions: MbrPartition[] }; gpt?: GptInfo };
  /** The file tree; Rock Ridge when present, else Joliet, else plain ISO 9660 names. */
  tree(options?: { namespace?: IsoNamespace }): Promise<Tree>;
}

const MAX_DESCRIPTORS = 64;
const MAX_CE_HOPS = 64;
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
const MAX_GPT_ENTRY_BYTES = 1024 * 1024;
/** "CD001" at byte 1 of sector 16. */
const SNIFF_OFFSET = ISO_FIRST_DESCRIPTOR_SECTOR * ISO_SECTOR_SIZE + 1;

/** Whether `head` (at least the first 32774 bytes) is an ISO 9660 image. */
export function sniffIso(head: Uint8Array): boolean;
export function sniffIso(source: RandomAccessSource): Promise<boolean>;
export function sniffIso(input: Uint8Array | RandomAccessSource): boolean | Promise<boolean> {
  const check = (b: Uint8Array, at: number) => b.length >= at + 5 && Buffer.from(b.subarray(at, at + 5)).toString('latin1') === 'CD001';
  if (input instanceof Uint8Array) return check(input, SNIFF_OFFSET);
  if (input.size < SNIFF_OFFSET + 5) return Promise.resolve(false);
  return input.read(SNIFF_OFFSET, 5).then((b) => check(b, 0));
}

/** Opens an image: reads the descriptors, the boot catalog and the partition tables. */
export async function openIso(source: RandomAccessSource): Promise<IsoImage> {
  const name = source.name;
  if (source.size < (ISO_FIRST_DESCRIPTOR_SECTOR + 1) * ISO_SECTOR_SIZE) {
    throw new ReprimageError('TRUNCATED', name, `${source.size} bytes is too short for an ISO 9660 image`);
  }
  let primary: VolumeDescriptor | undefined;
  let joliet: VolumeDescriptor | undefined;
  let catalogSector: number | undefined;
  for (let i = 0; ; i++) {
    const offset = (ISO_FIRST_DESCRIPTOR_SECTOR + i) * ISO_SECTOR_SIZE;
    if (i >= MAX_DESCRIPTORS) throw corruptError(name, 'volume descriptor set', offset, `no terminator within ${MAX_DESCRIPTORS} descriptors`);
    const sector = await source.read(offset, ISO_SECTOR_SIZE);
    const type = volumeDescriptorType(sector);
    if (type === undefined) {
      if (i === 0) throw corruptError(name, 'volume descriptor', offset, 'no "CD001": not an ISO 9660 image');
      throw corruptError(name, 'volume descriptor set', offset, 'ends without a terminator');
    }
    if (type === VD_TERMINATOR) break;
    if (type === VD_PRIMARY && !primary) primary = decodeVolumeDescriptor(sector, name, offset);
    else if (type === VD_SUPPLEMENTARY && !joliet) {
      const vd = decodeVolumeDescriptor(sector, name, offset);
      if (vd.joliet) joliet = vd;
    } else if (type === VD_BOOT_RECORD && catalogSector === undefined) catalogSector = decodeBootRecord(sector);
  }
  if (!primary) throw corruptError(name, 'volume descriptor set', ISO_FIRST_DESCRIPTOR_SECTOR * ISO_SECTOR_SIZE, 'no primary volume descriptor');
  if (primary.logicalBlockSize !== ISO_SECTOR_SIZE) {
    throw new ReprimageError('UNSUPPORTED', name, `logical block size ${primary.logicalBlockSize} (only 2048 is supported)`);
  }

  const ctx = new ReadContext(source);
  const rootRecord = decodeDirRecord(primary.rootDirectoryRecord, 0, name, ISO_FIRST_DESCRIPTOR_SECTOR * ISO_SECTOR_SIZE + 156);
  if (!rootRecord) throw corruptError(name, 'root directory record', undefined, 'empty');
  const rr = await ctx.detectRockRidge(rootRecord);

  let bootCatalog: IsoImage['bootCatalog'];
  if (catalogSector !== undefined) {
    const offset = catalogSector * ISO_SECTOR_SIZE;
    if (offset + ISO_SECTOR_SIZE > source.size) throw new ReprimageError('OUT_OF_BOUNDS', name, `El Torito boot catalog at sector ${catalogSector} lies past the end`);
    const entries = decodeBootCatalog(await source.read(offset, ISO_SECTOR_SIZE), name, offset);
    bootCatalog = { sector: catalogSector, entries: entries.map(bootImage) };
  }
  const partitions = await readPartitions(source);

  return {
    source,
    volumes: { primary, joliet },
    rockRidge: rr !== undefined,
    bootCatalog,
    partitions,
    async tree(options = {}) {
      const ns = options.namespace ?? (rr !== undefined ? 'rockridge' : joliet ? 'joliet' : 'iso9660');
      if (ns === 'rockridge' && rr === undefined) throw new ReprimageError('NOT_FOUND', name, 'the image has no Rock Ridge entries');
      if (ns === 'joliet' && !joliet) throw new ReprimageError('NOT_FOUND', name, 'the image has no Joliet tree');
      const root = ns === 'joliet' ? decodeDirRecord(joliet!.rootDirectoryRecord, 0, name, 0) : rootRecord;
      if (!root) throw corruptError(name, 'root directory record', undefined, 'empty');
      return ctx.readTree(root, ns, rr?.skip ?? 0);
    },
  };
}

function bootImage(e: BootEntry): IsoBootImage {
  return {
    platform: e.platform,
    platformName: e.platform === 0 ? 'bios' : e.platform === 0xef ? 'efi' : 'other',
    bootable: e.bootable,
    mediaType: e.mediaType,
    loadSize: e.sectorCount,
    extent: e.loadRba,
  };
}

async function readPartitions(source: RandomAccessSource): Promise<IsoImage['partitions']> {
  const head = await source.read(0, 1024);
  const mbr = decodeMbr(head.subarray(0, 512));
  const header = decodeGptHeader(head.subarray(512), source.name, 512);
  if (!header) return { mbr };
  const bytes = header.entryCount * header.entrySize;
  if (header.entrySize < 128 || bytes > MAX_GPT_ENTRY_BYTES) throw corruptError(source.name, 'GPT header', 512, `${header.entryCount} entries of ${header.entrySize} bytes`);
  const at = header.entriesLba * 512;
  if (at + bytes > source.size) throw new ReprimageError('OUT_OF_BOUNDS', source.name, `GPT entries at LBA ${header.entriesLba} lie past the end`);
  const entries = await source.read(at, bytes);
  if (crc32(entries) !== header.entriesCrc) throw corruptError(source.name, 'GPT partition entries', at, 'CRC mismatch');
  return {
    mbr,
    gpt: {
      diskGuid: header.diskGuid,
      firstUsableLba: header.firstUsableLba,
      lastUsableLba: header.lastUsableLba,
      alternateLba: header.alternateLba,
      partitions: decodeGptEntries(entries, header.entryCount, header.entrySize),
    },
  };
}

interface RecordInfo {
  record: DirRecord;
  /** Extra extents of a multi-extent file, in order (the first is `record`). */
  sections: DirRecord[];
  rr: RockRidgeInfo;
}

class ReadContext {
  constructor(private readonly source: RandomAccessSource) {}

  get name(): string {
    return this.source.name;
  }

  /** SP in the root's "." record means SUSP; an RRIP ER or any PX/NM entry means Rock Ridge. */
  async detectRockRidge(root: DirRecord): Promise<{ skip: number } | undefined> {
    const bytes = await this.readExtent(root.extent, Math.min(root.dataLength, ISO_SECTOR_SIZE), 'root directory');
    const dot = decodeDirRecord(bytes, 0, this.name, root.extent * ISO_SECTOR_SIZE);
    if (!dot) return undefined;
    const su = dot.systemUse;
    if (su.length < 7 || su[0] !== 0x53 || su[1] !== 0x50 || su[4] !== 0xbe || su[5] !== 0xef) return undefined;
    const skip = su[6]!;
    const entries = await this.suspEntries(dot, 0);
    const rr = entries.some((e) => (e.signature === 'ER' && RRIP_IDS.has(decodeErId(e))) || e.signature === 'PX' || e.signature === 'RR');
    return rr ? { skip } : undefined;
  }

  async readExtent(extent: number, length: number, what: string): Promise<Uint8Array> {
    const offset = extent * ISO_SECTOR_SIZE;
    if (length > MAX_DIRECTORY_BYTES) throw new ReprimageError('OVERFLOW', this.name, `${what} at sector ${extent} claims ${length} bytes`);
    if (offset + length > this.source.size) throw new ReprimageError('OUT_OF_BOUNDS', this.name, `${what} at sector ${extent} (${length} bytes) lies past the end of the image`);
    return this.source.read(offset, length);
  }

  /** All SUSP entries of a record, following CE continuation areas (bounded). */
  async suspEntries(record: DirRecord, skip: number): Promise<SuspEntry[]> {
    const entries = decodeSuspEntries(record.systemUse.subarray(Math.min(skip, record.systemUse.length)), this.name, record.extent * ISO_SECTOR_SIZE);
    let ce = entries.find((e) => e.signature === 'CE');
    for (let hops = 0; ce; hops++) {
      if (hops >= MAX_CE_HOPS) throw corruptError(this.name, 'Rock Ridge continuation chain', undefined, `more than ${MAX_CE_HOPS} CE entries (a loop?)`);
      const c = decodeCe(ce);
      if (!c) throw corruptError(this.name, 'SUSP CE entry', undefined, 'too short');
      if (c.length > ISO_SECTOR_SIZE || c.offset >= ISO_SECTOR_SIZE) throw corruptError(this.name, 'SUSP CE entry', undefined, `continuation of ${c.length} bytes at offset ${c.offset}`);
      const at = c.sector * ISO_SECTOR_SIZE + c.offset;
      if (at + c.length > this.source.size) throw new ReprimageError('OUT_OF_BOUNDS', this.name, `Rock Ridge continuation area at sector ${c.sector} lies past the end`);
      const more = decodeSuspEntries(await this.source.read(at, c.length), this.name, at);
      entries.push(...more);
      ce = more.find((e) => e.signature === 'CE');
    }
    return entries;
  }

  async readTree(root: DirRecord, ns: IsoNamespace, skip: number): Promise<Tree> {
    const useRr = ns === 'rockridge';
    const rootBytes = await this.readExtent(root.extent, root.dataLength, 'root directory');
    const rootDot = decodeDirRecord(rootBytes, 0, this.name, root.extent * ISO_SECTOR_SIZE);
    const rootRr = useRr && rootDot ? interpretRockRidge(await this.suspEntries(rootDot, 0)) : {};
    const tree = new Tree(newDir(this.meta(rootDot ?? root, rootRr, true)));
    const visited = new Set<number>([root.extent]);
    const byIno = new Map<string, Node>();
    let relocations = false;
    const stack: Array<{ dir: DirNode; record: DirRecord; bytes?: Uint8Array; path: string }> = [{ dir: tree.root, record: root, bytes: rootBytes, path: '' }];
    while (stack.length > 0) {
      const { dir, record, path, bytes: known } = stack.pop()!;
      const bytes = known ?? (await this.readExtent(record.extent, record.dataLength, `directory /${path}`));
      const infos = await this.records(bytes, record.extent, useRr, skip);
      for (const info of infos) {
        const r = info.record;
        if (info.rr.relocated) {
          relocations = true;
          continue;
        }
        const name = this.entryName(r, info.rr, ns, path);
        if (name === undefined || dir.children.has(name)) continue;
        const childPath = path === '' ? name : `${path}/${name}`;
        let isDir = (r.flags & FLAG_DIRECTORY) !== 0;
        let dirRecord = r;
        let rr = info.rr;
        if (useRr && rr.childLink !== undefined) {
          // A placeholder for a relocated directory: its "." record says how big it is.
          const first = await this.readExtent(rr.childLink, ISO_SECTOR_SIZE, `relocated directory /${childPath}`);
          const dot = decodeDirRecord(first, 0, this.name, rr.childLink * ISO_SECTOR_SIZE);
          if (!dot) throw corruptError(this.name, 'relocated directory', rr.childLink * ISO_SECTOR_SIZE, 'no "." record');
          dirRecord = { ...dot, extent: rr.childLink };
          const dotRr = interpretRockRidge(await this.suspEntries(dot, skip));
          rr = { ...dotRr, ...rr, mode: dotRr.mode ?? rr.mode };
          isDir = true;
        }
        const meta = this.meta(r, rr, isDir);
        if (isDir) {
          if (visited.has(dirRecord.extent)) throw new ReprimageError('LINK_LOOP', this.name, `directory /${childPath} (sector ${dirRecord.extent}) is reached twice`);
          visited.add(dirRecord.extent);
          const node = newDir(meta);
          dir.children.set(name, node);
          stack.push({ dir: node, record: dirRecord, path: childPath });
          continue;
        }
        const kind = useRr && rr.mode !== undefined ? kindFromMode(rr.mode) ?? 'file' : 'file';
        // Hard links: the same PX inode number (RRIP 1.12), else the same extent (RRIP 1.10 writers).
        const linkKey = kind === 'file' && (rr.nlink ?? 1) > 1 ? (rr.ino ? `ino:${rr.ino}` : r.dataLength > 0 ? `extent:${r.extent}:${r.dataLength}` : undefined) : undefined;
        if (linkKey !== undefined) {
          const earlier = byIno.get(linkKey);
          if (earlier) {
            dir.children.set(name, earlier);
            continue;
          }
        }
        let node: Node;
        if (kind === 'symlink') node = { kind, ...meta, target: rr.symlink ?? '' };
        else if (kind === 'block' || kind === 'char') node = { kind, ...meta, major: rr.device?.major ?? 0, minor: rr.device?.minor ?? 0 };
        else if (kind === 'fifo' || kind === 'socket') node = { kind, ...meta };
        else node = { kind: 'file', ...meta, content: this.content(info, childPath) };
        if (linkKey !== undefined) byIno.set(linkKey, node);
        dir.children.set(name, node);
      }
    }
    // genisoimage's rr_moved holds only relocated (RE) directories; Rock Ridge readers hide it.
    if (useRr && relocations) {
      for (const n of ['rr_moved', '.rr_moved']) {
        const d = tree.root.children.get(n);
        if (d?.kind === 'dir' && d.children.size === 0) tree.root.children.delete(n);
      }
    }
    return tree;
  }

  /** The records of one directory extent except "." and "..", multi-extent sections joined. */
  async records(bytes: Uint8Array, extent: number, useRr: boolean, skip: number): Promise<RecordInfo[]> {
    const out: RecordInfo[] = [];
    let pending: DirRecord[] = [];
    for (let at = 0; at < bytes.length; ) {
      const r = decodeDirRecord(bytes, at, this.name, extent * ISO_SECTOR_SIZE);
      if (!r) {
        at = (Math.floor(at / ISO_SECTOR_SIZE) + 1) * ISO_SECTOR_SIZE;
        continue;
      }
      at += r.length;
      if (r.fileId.length === 1 && (r.fileId[0] === 0 || r.fileId[0] === 1)) continue;
      if (r.flags & FLAG_MULTI_EXTENT && !(r.flags & FLAG_DIRECTORY)) {
        pending.push(r);
        continue;
      }
      const sections = pending.length > 0 && sameId(pending[0]!.fileId, r.fileId) ? [...pending, r] : [r];
      pending = [];
      const first = sections[0]!;
      const rr = useRr ? interpretRockRidge(await this.suspEntries(first, skip)) : {};
      out.push({ record: first, sections, rr });
    }
    return out;
  }

  entryName(r: DirRecord, rr: RockRidgeInfo, ns: IsoNamespace, parent: string): string | undefined {
    let name: string;
    if (ns === 'rockridge' && rr.name !== undefined) name = rr.name;
    else if (ns === 'joliet') name = plainIsoName(decodeUcs2(r.fileId));
    else name = plainIsoName(Buffer.from(r.fileId).toString('latin1'));
    if (rr.nameIsDot && rr.name === undefined && ns === 'rockridge') return undefined;
    const where = parent === '' ? '/' : `/${parent}/`;
    if (name === '' || name === '.') throw corruptError(this.name, 'directory record', undefined, `empty name in ${where}`);
    if (name === '..') throw new ReprimageError('PATH_ESCAPE', this.name, `entry named '..' in ${where}`);
    if (name.includes('/') || name.includes('\0')) throw corruptError(this.name, 'directory record', undefined, `name ${JSON.stringify(name)} in ${where} contains '/' or NUL`);
    return name;
  }

  meta(r: DirRecord, rr: RockRidgeInfo, isDir: boolean): Meta {
    const mtime = rr.mtime ?? r.recordingDate ?? 0;
    return {
      mode: rr.mode !== undefined ? rr.mode & 0o7777 : isDir ? 0o555 : 0o444,
      uid: rr.uid ?? 0,
      gid: rr.gid ?? 0,
      mtime: { sec: mtime, nsec: 0 },
      xattrs: rr.attributeList ? decodeAl(rr.attributeList, this.name) : new Map(),
    };
  }

  /** Lazy contents: one range of the image, or several joined for a multi-extent file. */
  content(info: RecordInfo, path: string): Content {
    const ranges = info.sections.map((s) => {
      const offset = (s.extent + s.extendedAttributeLength) * ISO_SECTOR_SIZE;
      if (s.dataLength > 0 && offset + s.dataLength > this.source.size) {
        throw new ReprimageError('OUT_OF_BOUNDS', this.name, `/${path}: data at sector ${s.extent} (${s.dataLength} bytes) lies past the end of the image`);
      }
      return { offset, length: s.dataLength };
    });
    const origin = `${this.name} ▸ ${path}`;
    // zisofs (a Rock Ridge ZF entry): the real size and bytes, as the kernel and xorriso give them
    const zf = info.rr.zisofs;
    if (zf?.algorithm === 'pz' && ranges.length === 1) return zisofsContent(this.source, ranges[0]!.offset, ranges[0]!.length, zf, origin);
    if (ranges.length === 1) return rangeContent(this.source, ranges[0]!.offset, ranges[0]!.length, origin);
    const size = ranges.reduce((n, r) => n + r.length, 0);
    const source = this.source;
    return streamContent(size, origin, async function* () {
      for (const r of ranges) yield* rangeContent(source, r.offset, r.length, origin).chunks();
    });
  }
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
