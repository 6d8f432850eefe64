/**
 * The cpio reader: newc, crc (sums verified) and odc headers, and concatenated archives as
 * real initramfs images are built: after each trailer, zero padding is skipped and another
 * archive may follow, plain or compressed (the compressed rest is decompressed into a spooled
 * temporary file and read the same way). Later entries replace earlier ones, as the kernel does.
 */
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { detectCompression, decompressChunks, spoolToTempSource } from '../../compress/decompress.js';
import { readContent, rangeContent } from '../../tree/content.js';
import { toTreePath } from '../../tree/names.js';
import { Tree, kindFromMode, newMeta, type FileNode, type Node } from '../../tree/tree.js';
import { CRC_MAGIC, NEWC_FIELDS, NEWC_HEADER, NEWC_MAGIC, ODC_FIELDS, ODC_HEADER, ODC_MAGIC, TRAILER, pad4 } from './layout.js';

export interface CpioEntry {
  /** The archive segment and the byte offset of the header within it. */
  source: RandomAccessSource;
  offset: number;
  format: 'newc' | 'crc' | 'odc';
  name: string;
  ino: number;
  dev: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  rdevmajor: number;
  rdevminor: number;
  check: number;
  dataOffset: number;
}

/** A segment of a concatenated archive: where it starts and how it was compressed. */
export interface CpioSegment {
  source: RandomAccessSource;
  offset: number;
  compression?: string;
}

/** Names longer than this are refused as hostile (PATH_MAX is 4096). */
const MAX_NAME = 64 * 1024;

export function sniffCpio(head: Uint8Array): boolean {
  const magic = Buffer.from(head.subarray(0, 6)).toString('latin1');
  return magic === NEWC_MAGIC || magic === CRC_MAGIC || magic === ODC_MAGIC;
}

/**
 * Every entry of every segment, in archive order. `onSegment` hears of each segment as it
 * starts (the diff engine reports segments as members).
 */
export async function* readCpioEntries(
  source: RandomAccessSource,
  options: { onSegment?: (segment: CpioSegment) => void } = {},
): AsyncGenerator<CpioEntry> {
  let current = source;
  let offset = 0;
  let segments = 0;
  while (true) {
    if (++segments > 1000) throw new ReprimageError('OVERFLOW', source.name, 'more than 1000 concatenated segments');
    options.onSegment?.({ source: current, offset });
    offset = yield* readOneArchive(current, offset);
    // the kernel skips zero bytes between archives (they come in 4-byte units)
    offset = await skipZeros(current, offset);
    if (offset >= current.size) return;
    const head = await current.read(offset, Math.min(16, current.size - offset));
    if (sniffCpio(head)) continue;
    const compression = detectCompression(head);
    if (compression === undefined) {
      throw corruptError(current.name, 'cpio archive', offset, 'data after the trailer is neither a cpio archive nor compressed');
    }
    const name = `${source.name} ▸ ${compression} segment at byte ${offset}`;
    const rest = sliceChunks(current, offset);
    current = await spoolToTempSource(decompressChunks(rest, compression, name), name);
    options.onSegment?.({ source: current, offset: 0, compression });
    offset = 0;
    segments++;
    // the decompressed segment is read by the loop like any other; it may itself be followed by more
    if (current.size === 0) return;
    const innerHead = await current.read(0, Math.min(6, current.size));
    if (!sniffCpio(innerHead)) throw corruptError(name, 'cpio archive', 0, 'decompressed data is not a cpio archive');
    offset = yield* readOneArchive(current, 0);
    offset = await skipZeros(current, offset);
    if (offset >= current.size) return;
    const after = await current.read(offset, Math.min(16, current.size - offset));
    if (!sniffCpio(after)) throw corruptError(current.name, 'cpio archive', offset, 'data after the trailer is not a cpio archive');
  }
}

async function* sliceChunks(source: RandomAccessSource, from: number): AsyncIterable<Uint8Array> {
  for (let at = from; at < source.size; at += 1 << 20) yield await source.read(at, Math.min(1 << 20, source.size - at));
}

async function skipZeros(source: RandomAccessSource, offset: number): Promise<number> {
  while (offset < source.size) {
    const chunk = await source.read(offset, Math.min(4096, source.size - offset));
    const nonZero = chunk.findIndex((b) => b !== 0);
    if (nonZero >= 0) return offset + nonZero;
    offset += chunk.length;
  }
  return offset;
}

/** Reads entries up to and including the trailer; returns the offset just after it. */
async function* readOneArchive(source: RandomAccessSource, start: number): AsyncGenerator<CpioEntry, number> {
  let offset = start;
  while (true) {
    if (offset + 6 > source.size) throw truncatedError(source.name, 'cpio header', offset, offset + 6 - source.size);
    const magic = Buffer.from(await source.read(offset, 6)).toString('latin1');
    const entry =
      magic === NEWC_MAGIC || magic === CRC_MAGIC
        ? await readNewc(source, offset, magic === CRC_MAGIC ? 'crc' : 'newc')
        : magic === ODC_MAGIC
          ? await readOdc(source, offset)
          : undefined;
    if (!entry) throw corruptError(source.name, 'cpio header', offset, `bad magic ${JSON.stringify(magic)}`);
    const end = entry.dataOffset + entry.size + (entry.format === 'odc' ? 0 : pad4(entry.size));
    if (entry.dataOffset + entry.size > source.size) {
      throw truncatedError(source.name, `cpio member data of ${JSON.stringify(entry.name)}`, entry.dataOffset, entry.dataOffset + entry.size - source.size);
    }
    if (entry.name === TRAILER) return Math.min(end, source.size);
    yield entry;
    offset = end;
  }
}

async function readNewc(source: RandomAccessSource, offset: number, format: 'newc' | 'crc'): Promise<CpioEntry> {
  if (offset + NEWC_HEADER > source.size) throw truncatedError(source.name, 'cpio header', offset, offset + NEWC_HEADER - source.size);
  const text = Buffer.from(await source.read(offset, NEWC_HEADER)).toString('latin1');
  const f = {} as Record<(typeof NEWC_FIELDS)[number], number>;
  NEWC_FIELDS.forEach((name, i) => {
    const hex = text.slice(6 + i * 8, 14 + i * 8);
    if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw corruptError(source.name, 'cpio header', offset + 6 + i * 8, `${name} is not hexadecimal: ${JSON.stringify(hex)}`);
    f[name] = parseInt(hex, 16);
  });
  const name = await readName(source, offset + NEWC_HEADER, f.namesize, offset);
  const dataOffset = offset + NEWC_HEADER + f.namesize + pad4(NEWC_HEADER + f.namesize);
  return {
    source,
    offset,
    format,
    name,
    ino: f.ino,
    dev: `${f.devmajor}:${f.devminor}`,
    mode: f.mode,
    uid: f.uid,
    gid: f.gid,
    nlink: f.nlink,
    mtime: f.mtime,
    size: f.filesize,
    rdevmajor: f.rdevmajor,
    rdevminor: f.rdevminor,
    check: f.check,
    dataOffset,
  };
}

async function readOdc(source: RandomAccessSource, offset: number): Promise<CpioEntry> {
  if (offset + ODC_HEADER > source.size) throw truncatedError(source.name, 'cpio header', offset, offset + ODC_HEADER - source.size);
  const text = Buffer.from(await source.read(offset, ODC_HEADER)).toString('latin1');
  const f: Record<string, number> = {};
  for (const [name, at, width] of ODC_FIELDS) {
    const digits = text.slice(at, at + width);
    if (!/^[0-7]+$/.test(digits)) throw corruptError(source.name, 'cpio header', offset + at, `${name} is not octal: ${JSON.stringify(digits)}`);
    f[name] = parseInt(digits, 8);
  }
  const name = await readName(source, offset + ODC_HEADER, f.namesize!, offset);
  const rdev = f.rdev!;
  return {
    source,
    offset,
    format: 'odc',
    name,
    ino: f.ino!,
    dev: String(f.dev),
    mode: f.mode!,
    uid: f.uid!,
    gid: f.gid!,
    nlink: f.nlink!,
    mtime: f.mtime!,
    size: f.filesize!,
    rdevmajor: (rdev >> 8) & 0xff,
    rdevminor: rdev & 0xff,
    check: 0,
    dataOffset: offset + ODC_HEADER + f.namesize!,
  };
}

async function readName(source: RandomAccessSource, at: number, size: number, header: number): Promise<string> {
  if (size === 0) throw corruptError(source.name, 'cpio header', header, 'empty name');
  if (size > MAX_NAME) throw new ReprimageError('OVERFLOW', source.name, `cpio name of ${size} bytes at byte ${header}`);
  if (at + size > source.size) throw truncatedError(source.name, 'cpio name', at, at + size - source.size);
  const bytes = await source.read(at, size);
  if (bytes[size - 1] !== 0) throw corruptError(source.name, 'cpio header', header, 'name is not NUL-terminated');
  return Buffer.from(bytes.subarray(0, size - 1)).toString('utf8');
}

/**
 * Reads a cpio archive (concatenated and compressed segments included) into a Tree. Entries
 * sharing (dev, ino) with nlink > 1 in one segment become one node; its data comes from
 * whichever link carries it.
 */
export async function loadCpio(source: RandomAccessSource, options: { warn?: (m: string) => void } = {}): Promise<Tree> {
  const tree = new Tree();
  let links = new Map<string, Node>();
  for await (const e of readCpioEntries(source, { onSegment: () => (links = new Map()) })) await addEntry(tree, links, e);
  void options;
  return tree;
}

/** One segment of a concatenated archive and the entries it holds, as a Tree of their own. */
export interface CpioSegmentTree {
  segment: CpioSegment;
  tree: Tree;
}

/**
 * Reads each segment of a concatenated archive into its own Tree, in archive order (the kernel
 * would unpack them one over the other; the differ compares them one by one). Compressed
 * segments are spooled to temporary files: close `segment.source` of those that have a
 * `compression` when done (later plain segments may share that source).
 */
export async function loadCpioSegments(source: RandomAccessSource): Promise<CpioSegmentTree[]> {
  const out: Array<CpioSegmentTree & { links: Map<string, Node> }> = [];
  const onSegment = (segment: CpioSegment) => out.push({ segment, tree: new Tree(), links: new Map() });
  for await (const e of readCpioEntries(source, { onSegment })) {
    const current = out[out.length - 1]!;
    await addEntry(current.tree, current.links, e);
  }
  return out.map(({ segment, tree }) => ({ segment, tree }));
}

/** Places one entry into `tree`; `links` maps `dev:ino` to the nodes of this segment's hard links. */
async function addEntry(tree: Tree, links: Map<string, Node>, e: CpioEntry): Promise<void> {
  const where = `${e.source.name} (entry at byte ${e.offset})`;
  const path = toTreePath(e.name, where);
  const kind = kindFromMode(e.mode);
  if (kind === undefined) throw new ReprimageError('UNSUPPORTED', where, `unknown file type in mode 0${e.mode.toString(8)} of ${JSON.stringify(e.name)}`);
  if (e.format === 'crc' && kind === 'file') await verifyCrc(e, where);
  const meta = newMeta({ mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: { sec: e.mtime, nsec: 0 } });
  const linkKey = kind !== 'dir' && e.nlink > 1 ? `${e.dev}:${e.ino}` : undefined;
  const earlier = linkKey === undefined ? undefined : links.get(linkKey);
  if (earlier && earlier.kind === kind) {
    if (earlier.kind === 'file' && e.size > 0) (earlier as FileNode).content = rangeContent(e.source, e.dataOffset, e.size, `${e.source.name} ▸ ${path}`);
    tree.set(path, earlier);
    return;
  }
  let node: Node;
  switch (kind) {
    case 'file':
      node = { kind, ...meta, content: rangeContent(e.source, e.dataOffset, e.size, `${e.source.name} ▸ ${path}`) };
      break;
    case 'dir':
      node = { kind, ...meta, children: new Map() };
      break;
    case 'symlink': {
      if (e.size > 64 * 1024) throw new ReprimageError('OVERFLOW', where, `symlink target of ${e.size} bytes`);
      const target = Buffer.from(await readContent(rangeContent(e.source, e.dataOffset, e.size))).toString('utf8');
      node = { kind, ...meta, target };
      break;
    }
    case 'char':
    case 'block':
      node = { kind, ...meta, major: e.rdevmajor, minor: e.rdevminor };
      break;
    default:
      node = { kind, ...meta };
  }
  if (path === '' && node.kind !== 'dir') throw new ReprimageError('CORRUPT_IMAGE', where, 'the root entry is not a directory');
  if (linkKey !== undefined) links.set(linkKey, node);
  tree.set(path, node);
}

async function verifyCrc(e: CpioEntry, where: string): Promise<void> {
  let sum = 0;
  for await (const chunk of rangeContent(e.source, e.dataOffset, e.size).chunks()) {
    for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]!) >>> 0;
  }
  if (sum !== e.check) throw corruptError(where, 'cpio crc entry', e.offset, `data sum ${sum} does not match the header's ${e.check}`);
}
