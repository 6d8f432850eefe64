/**
 * The cpio reader: newc, crc (data sums verified) and odc headers, and concatenated archives as
 * real initramfs images are built and as the kernel unpacks them (init/initramfs.c): after each
 * trailer, zero bytes are skipped and another archive may follow, plain or compressed. A
 * compressed segment (gzip, zstd, lz4, xz, lzma) is decompressed into an anonymous temporary
 * file when the walk reaches it, and the archives inside are read the same way; the walk then
 * goes on after the compressed data. Later entries replace earlier ones, as the kernel does.
 */
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { detectCompression, decompressSegment, type Compression } from '../../compress/decompress.js';
import { readContent, rangeContent } from '../../tree/content.js';
import { nameFromBytes, toTreePath } from '../../tree/names.js';
import { DuplicateNames } from '../../tree/duplicates.js';
import { Tree, kindFromMode, newMeta, type FileNode, type Node } from '../../tree/tree.js';
import {
  CPIO_CRC_MAGIC,
  CPIO_MAGIC_SIZE,
  CPIO_NEWC_HEADER_SIZE,
  CPIO_NEWC_MAGIC,
  CPIO_ODC_HEADER_SIZE,
  CPIO_ODC_MAGIC,
  CPIO_TRAILER,
  decodeNewcHeader,
  decodeOdcHeader,
  isFieldError,
  pad4,
  sniffCpio,
  splitOdcRdev,
} from './layout.js';

/** One entry as the archive holds it. */
export interface CpioEntry {
  /** The source the entry lives in: the archive itself, or a decompressed segment of it. */
  source: RandomAccessSource;
  /** Byte offset of the header within `source`. */
  offset: number;
  /** Which archive it belongs to, counted from 0 over the whole file (hard links never cross archives). */
  archive: number;
  format: 'newc' | 'crc' | 'odc';
  name: string;
  ino: number;
  /** The device of the original file, `major:minor` (newc) or the packed number (odc). */
  dev: string;
  /** File type and permission bits, as stat's st_mode. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  /** Size of the data that follows this header (0 for all but the last newc hard link). */
  size: number;
  rdevmajor: number;
  rdevminor: number;
  /** crc format: the sum of the data bytes; 0 otherwise. */
  check: number;
  /** Byte offset of the data within `source`. */
  dataOffset: number;
}

/** A segment of a concatenated archive: where it starts in the file and how it was compressed. */
export interface CpioSegment {
  /** The bytes the segment's archives are read from (for compressed segments, the spooled data). */
  source: RandomAccessSource;
  /** Offset of the segment's first byte in the outer file. */
  offset: number;
  compression?: Compression;
  /** Compressed length in the outer file (compressed segments only). */
  compressedLength?: number;
}

export interface CpioReadOptions {
  /** Hears of each segment as it starts (the diff engine reports segments as members). */
  onSegment?: (segment: CpioSegment) => void;
  /** Hears about oddities that were tolerated (absolute names). */
  warn?: (message: string) => void;
  /**
   * Leave the spooled files of compressed segments open when the walk ends; the caller then
   * owns them (through `onSegment`) and closes them. loadCpio does, because its Tree reads
   * file contents from them later.
   */
  retainSegments?: boolean;
}

/** Names longer than this are refused as hostile (PATH_MAX is 4096). */
const MAX_NAME = 64 * 1024;
/** Symlink targets longer than this are refused (the kernel allows PATH_MAX). */
const MAX_LINK_TARGET = 64 * 1024;
/** More compressed segments than this in one file is taken as hostile. */
const MAX_SEGMENTS = 1000;

export { sniffCpio } from './layout.js';

/**
 * Every entry of every archive in `source`, in file order, trailers left out. Compressed
 * segments are decompressed when reached (their spooled files are closed when the walk ends).
 * Bad input throws TRUNCATED, CORRUPT_IMAGE, OVERFLOW or UNSUPPORTED naming the source and the
 * byte offset; every step advances, so hostile input cannot make it loop.
 */
export async function* readCpioEntries(source: RandomAccessSource, options: CpioReadOptions = {}): AsyncGenerator<CpioEntry> {
  const counter = { archive: 0 };
  const spooled: RandomAccessSource[] = [];
  let complete = false;
  try {
    let offset = 0;
    let segment = 0;
    while (offset < source.size) {
      if (++segment > MAX_SEGMENTS) throw new ReprimageError('OVERFLOW', source.name, `more than ${MAX_SEGMENTS} concatenated segments`);
      const head = await source.read(offset, Math.min(16, source.size - offset));
      if (sniffCpio(head)) {
        options.onSegment?.({ source, offset });
        offset = yield* readArchives(source, offset, counter);
        continue;
      }
      const compression = detectCompression(head);
      if (compression === undefined) throw corruptError(source.name, 'cpio archive', offset, 'data is neither a cpio archive nor compressed');
      const name = `${source.name} ▸ ${compression} segment at byte ${offset}`;
      const inner = await decompressSegment(source, offset, compression, name);
      spooled.push(inner.source);
      if (inner.compressedLength <= 0) throw corruptError(source.name, `${compression} segment`, offset, 'no compressed data');
      options.onSegment?.({ source: inner.source, offset, compression, compressedLength: inner.compressedLength });
      if (inner.source.size > 0) {
        const innerHead = await inner.source.read(0, Math.min(6, inner.source.size));
        if (!sniffCpio(innerHead)) throw corruptError(name, 'cpio archive', 0, 'decompressed data is not a cpio archive');
        const end = yield* readArchives(inner.source, 0, counter);
        if (end < inner.source.size) throw corruptError(name, 'cpio archive', end, 'decompressed data goes on after the last archive, and is not a cpio archive');
      }
      offset = await skipZeros(source, offset + inner.compressedLength);
    }
    complete = true;
  } finally {
    // retained segments back the caller's Tree, which a failed or abandoned walk never delivers
    if (!options.retainSegments || !complete) for (const s of spooled) await s.close();
  }
}

/**
 * Archives one after another from `start`, each followed by zero padding; stops before the
 * first bytes that start no archive and returns their offset.
 */
async function* readArchives(source: RandomAccessSource, start: number, counter: { archive: number }): AsyncGenerator<CpioEntry, number> {
  let offset = start;
  while (offset < source.size) {
    const head = await source.read(offset, Math.min(CPIO_MAGIC_SIZE, source.size - offset));
    if (!sniffCpio(head)) break;
    offset = yield* readOneArchive(source, offset, counter.archive++);
    offset = await skipZeros(source, offset);
  }
  return offset;
}

async function skipZeros(source: RandomAccessSource, offset: number): Promise<number> {
  while (offset < source.size) {
    const chunk = await source.read(offset, Math.min(64 * 1024, source.size - offset));
    const nonZero = chunk.findIndex((b) => b !== 0);
    if (nonZero >= 0) return offset + nonZero;
    offset += chunk.length;
  }
  return offset;
}

/** Entries up to the trailer; returns the offset just after the trailer (and its padding). */
async function* readOneArchive(source: RandomAccessSource, start: number, archive: number): AsyncGenerator<CpioEntry, number> {
  let offset = start;
  for (;;) {
    if (offset >= source.size) throw truncatedError(source.name, 'cpio archive (no TRAILER!!! entry)', offset);
    if (offset + CPIO_MAGIC_SIZE > source.size) throw truncatedError(source.name, 'cpio header', offset, offset + CPIO_MAGIC_SIZE - source.size);
    const magic = Buffer.from(await source.read(offset, CPIO_MAGIC_SIZE)).toString('latin1');
    let entry: CpioEntry;
    if (magic === CPIO_NEWC_MAGIC || magic === CPIO_CRC_MAGIC) entry = await readNewc(source, offset, archive, magic === CPIO_CRC_MAGIC ? 'crc' : 'newc');
    else if (magic === CPIO_ODC_MAGIC) entry = await readOdc(source, offset, archive);
    else throw corruptError(source.name, 'cpio header', offset, `bad magic ${JSON.stringify(magic)} (expected 070701, 070702 or 070707)`);
    if (entry.dataOffset + entry.size > source.size) {
      throw truncatedError(source.name, `cpio data of ${JSON.stringify(entry.name)}`, entry.dataOffset, entry.dataOffset + entry.size - source.size);
    }
    const end = entry.dataOffset + entry.size + (entry.format === 'odc' ? 0 : pad4(entry.size));
    if (entry.name === CPIO_TRAILER) return Math.min(end, source.size);
    yield entry;
    offset = end;
  }
}

async function readNewc(source: RandomAccessSource, offset: number, archive: number, format: 'newc' | 'crc'): Promise<CpioEntry> {
  if (offset + CPIO_NEWC_HEADER_SIZE > source.size) throw truncatedError(source.name, 'cpio header', offset, offset + CPIO_NEWC_HEADER_SIZE - source.size);
  const h = decodeNewcHeader(await source.read(offset, CPIO_NEWC_HEADER_SIZE));
  if (isFieldError(h)) throw corruptError(source.name, 'cpio header', offset + h.offset, `${h.field} is not hexadecimal: ${JSON.stringify(h.text)}`);
  const name = await readName(source, offset + CPIO_NEWC_HEADER_SIZE, h.namesize, offset);
  return {
    source,
    offset,
    archive,
    format,
    name,
    ino: h.ino,
    dev: `${h.devmajor}:${h.devminor}`,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    nlink: h.nlink,
    mtime: h.mtime,
    size: h.filesize,
    rdevmajor: h.rdevmajor,
    rdevminor: h.rdevminor,
    check: h.check,
    dataOffset: offset + CPIO_NEWC_HEADER_SIZE + h.namesize + pad4(CPIO_NEWC_HEADER_SIZE + h.namesize),
  };
}

async function readOdc(source: RandomAccessSource, offset: number, archive: number): Promise<CpioEntry> {
  if (offset + CPIO_ODC_HEADER_SIZE > source.size) throw truncatedError(source.name, 'cpio header', offset, offset + CPIO_ODC_HEADER_SIZE - source.size);
  const h = decodeOdcHeader(await source.read(offset, CPIO_ODC_HEADER_SIZE));
  if (isFieldError(h)) throw corruptError(source.name, 'cpio header', offset + h.offset, `${h.field} is not octal: ${JSON.stringify(h.text)}`);
  const name = await readName(source, offset + CPIO_ODC_HEADER_SIZE, h.namesize, offset);
  const { major, minor } = splitOdcRdev(h.rdev);
  return {
    source,
    offset,
    archive,
    format: 'odc',
    name,
    ino: h.ino,
    dev: String(h.dev),
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    nlink: h.nlink,
    mtime: h.mtime,
    size: h.filesize,
    rdevmajor: major,
    rdevminor: minor,
    check: 0,
    dataOffset: offset + CPIO_ODC_HEADER_SIZE + h.namesize,
  };
}

async function readName(source: RandomAccessSource, at: number, size: number, header: number): Promise<string> {
  if (size <= 1) throw corruptError(source.name, 'cpio header', header, 'empty name');
  if (size > MAX_NAME) throw new ReprimageError('OVERFLOW', source.name, `cpio name of ${size} bytes in the header at byte ${header} (at most ${MAX_NAME})`);
  if (at + size > source.size) throw truncatedError(source.name, 'cpio name', at, at + size - source.size);
  const bytes = await source.read(at, size);
  if (bytes[size - 1] !== 0) throw corruptError(source.name, 'cpio header', header, 'name is not NUL-terminated');
  const name = nameFromBytes(bytes.subarray(0, size - 1));
  if (name.includes('\0')) throw corruptError(source.name, 'cpio header', header, 'name contains a NUL byte');
  return name;
}

/**
 * Reads a cpio archive (concatenated and compressed segments included) into a Tree, lazily:
 * file contents are byte ranges of `source` or of a spooled segment, read when streamed. The
 * spooled segments are anonymous (already unlinked) files that stay open for the Tree's sake;
 * pass `onSegment` to close them when done, else they go at process exit.
 *
 * Entries of one archive that share (dev, ino, mode) with nlink > 1 become one node, whose data
 * comes from whichever link carries it, as the kernel links them. Names go through `toTreePath`:
 * `./` is stripped, `..` is a PATH_ESCAPE error, an absolute name is made relative with a warning.
 */
export async function loadCpio(source: RandomAccessSource, options: CpioReadOptions = {}): Promise<Tree> {
  const tree = new Tree();
  const state = newLinkState(source.name);
  for await (const e of readCpioEntries(source, { ...options, retainSegments: true })) await addEntry(tree, state, e, options.warn);
  if (options.warn) state.duplicates.report(options.warn);
  return tree;
}

/** One segment of a concatenated archive and the entries it holds, as a Tree of their own. */
export interface CpioSegmentTree {
  segment: CpioSegment;
  tree: Tree;
}

/**
 * Reads each segment of a concatenated archive into its own Tree, in file order (the kernel
 * would unpack them one over the other; the differ compares them one by one). Compressed
 * segments are spooled to anonymous temporary files: close `segment.source` of those that have
 * a `compression` when done.
 */
export async function loadCpioSegments(source: RandomAccessSource, options: Omit<CpioReadOptions, 'onSegment' | 'retainSegments'> = {}): Promise<CpioSegmentTree[]> {
  const out: Array<CpioSegmentTree & { links: LinkState }> = [];
  const onSegment = (segment: CpioSegment) => out.push({ segment, tree: new Tree(), links: newLinkState(source.name) });
  for await (const e of readCpioEntries(source, { ...options, onSegment, retainSegments: true })) {
    const current = out[out.length - 1]!;
    await addEntry(current.tree, current.links, e, options.warn);
  }
  if (options.warn) for (const { links } of out) links.duplicates.report(options.warn);
  return out.map(({ segment, tree }) => ({ segment, tree }));
}

/** Hard links seen in the current archive, by `dev:ino:mode` as the kernel keys them. */
interface LinkState {
  archive: number;
  nodes: Map<string, Node>;
  warnedAbsolute: boolean;
  /** Paths given twice within one archive (not across concatenated ones, which overlay). */
  duplicates: DuplicateNames;
}

function newLinkState(name: string): LinkState {
  return { archive: -1, nodes: new Map(), warnedAbsolute: false, duplicates: new DuplicateNames(name, 'entry') };
}

/** Places one entry into `tree`, joining it to an earlier hard link of the same archive. */
async function addEntry(tree: Tree, links: LinkState, e: CpioEntry, warn: ((m: string) => void) | undefined): Promise<void> {
  if (e.archive !== links.archive) {
    links.archive = e.archive;
    links.nodes = new Map(); // the kernel forgets hard links at each trailer
    links.duplicates.forgetSeen();
  }
  const where = `${e.source.name} (entry at byte ${e.offset})`;
  if (e.name.startsWith('/') && !links.warnedAbsolute) {
    links.warnedAbsolute = true;
    warn?.(`${where}: absolute name ${JSON.stringify(e.name)} made relative (and any later ones)`);
  }
  const path = toTreePath(e.name, where, { allowAbsolute: true });
  const kind = kindFromMode(e.mode);
  links.duplicates.see(path, kind === 'dir');
  if (kind === undefined) throw new ReprimageError('UNSUPPORTED', where, `unknown file type in mode 0${e.mode.toString(8)} of ${JSON.stringify(e.name)}`);
  if (e.format === 'crc' && kind === 'file') await verifyCrc(e, where);
  const meta = newMeta({ mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: { sec: e.mtime, nsec: 0 } });
  const linkKey = kind !== 'dir' && e.nlink > 1 ? `${e.dev}:${e.ino}:${e.mode}` : undefined;
  const earlier = linkKey === undefined ? undefined : links.nodes.get(linkKey);
  if (earlier && path !== '') {
    if (earlier.kind === 'file' && e.size > 0) (earlier as FileNode).content = rangeContent(e.source, e.dataOffset, e.size, `${e.source.name} ▸ ${path}`);
    tree.set(path, earlier);
    return;
  }
  const node = await nodeFromEntry(e, kind, meta, path, where);
  if (path === '' && node.kind !== 'dir') throw new ReprimageError('CORRUPT_IMAGE', where, `the root entry ${JSON.stringify(e.name)} is a ${node.kind}, not a directory`);
  if (linkKey !== undefined) links.nodes.set(linkKey, node);
  tree.set(path, node);
}

async function nodeFromEntry(e: CpioEntry, kind: Node['kind'], meta: ReturnType<typeof newMeta>, path: string, where: string): Promise<Node> {
  switch (kind) {
    case 'file':
      return { kind, ...meta, content: rangeContent(e.source, e.dataOffset, e.size, `${e.source.name} ▸ ${path}`) };
    case 'dir':
      return { kind, ...meta, children: new Map() };
    case 'symlink': {
      if (e.size > MAX_LINK_TARGET) throw new ReprimageError('OVERFLOW', where, `symlink target of ${e.size} bytes (at most ${MAX_LINK_TARGET})`);
      if (e.size === 0) throw corruptError(where, 'cpio symlink', e.offset, 'empty target');
      const target = nameFromBytes(await readContent(rangeContent(e.source, e.dataOffset, e.size)));
      return { kind, ...meta, target };
    }
    case 'char':
    case 'block':
      return { kind, ...meta, major: e.rdevmajor, minor: e.rdevminor };
    default:
      return { kind, ...meta };
  }
}

async function verifyCrc(e: CpioEntry, where: string): Promise<void> {
  let sum = 0;
  for await (const chunk of rangeContent(e.source, e.dataOffset, e.size).chunks()) {
    for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]!) >>> 0;
  }
  if (sum !== e.check) throw corruptError(where, 'cpio crc entry', e.offset, `data sum ${sum} does not match the header's ${e.check}`);
}
