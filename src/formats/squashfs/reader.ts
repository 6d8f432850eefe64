/**
 * The SquashFS 4.0 reader: superblock, id/fragment/xattr tables, every inode type, and lazy
 * file contents that decompress blocks only when streamed (sparse blocks become `dataRegions`).
 * Works on images from reprimage, mksquashfs and gensquashfs, with any of gzip, xz, zstd and
 * lz4 (legacy lzma and lzo images are UNSUPPORTED).
 *
 * Hostile input gives a ReprimageError (CORRUPT_IMAGE, OUT_OF_BOUNDS, TRUNCATED, LINK_LOOP,
 * UNSUPPORTED): every offset is checked against the table it belongs to, every declared size
 * against what the image can hold, and a directory reached twice is a loop.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { streamContent, type DataRegion } from '../../tree/content.js';
import { compareNames, joinPath, nameFromBytes } from '../../tree/names.js';
import { Tree, newDir, type DirNode, type Meta, type Node, type WalkEntry } from '../../tree/tree.js';
import { createSquashfsDecompressor, type SquashfsBlockDecompressor } from '../../compress/squashfs-codecs.js';
import {
  CompressorId,
  SQUASHFS_BLOCK_SIZE_MASK,
  SQUASHFS_BLOCK_UNCOMPRESSED,
  SQUASHFS_INVALID_FRAGMENT,
  SQUASHFS_INVALID_TABLE,
  SQUASHFS_INVALID_XATTR,
  SQUASHFS_MAGIC,
  SQUASHFS_METADATA_SIZE,
  SquashfsFlag,
  XATTR_PREFIXES,
  XATTR_PREFIX_MASK,
  XATTR_VALUE_OOL,
} from './constants.js';
import { MetadataReader } from './metadata-reader.js';
import { decodeListing } from './layout/directory.js';
import { basicInodeType, decodeDevice, readInode, type DirInode, type FileInode, type Inode } from './layout/inode.js';
import { SUPERBLOCK_SIZE, decodeSuperblock, validateSuperblock, type Superblock } from './layout/superblock.js';
import { FRAGMENT_ENTRY_SIZE, decodeFragmentEntry, decodeIdTable, type FragmentEntry } from './layout/tables.js';
import { XATTR_ID_ENTRY_SIZE, decodeXattrIdEntry, type XattrIdEntry } from './layout/xattr.js';

/** Whether `head` (the first bytes of a file) starts a SquashFS 4.0 image. */
export function sniffSquashfs(head: Uint8Array): boolean {
  if (head.length < 32) return false;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return v.getUint32(0, true) === SQUASHFS_MAGIC && v.getUint16(28, true) === 4;
}

export interface SquashfsImage {
  readonly source: RandomAccessSource;
  readonly superblock: Superblock;
  /** The compressor's name (gzip, lzma, lzo, xz, lz4, zstd). */
  readonly compressor: string;
  /** The image as a Tree; file contents are read from the source when streamed. */
  tree(): Promise<Tree>;
  /**
   * The entries one at a time in `Tree.walk`'s order (the root first as '', then depth first,
   * children in bytewise name order), without building the tree: memory stays at one listing
   * per directory level, whatever the image's size. Directories come with no children.
   */
  walk(): AsyncGenerator<WalkEntry>;
  /** Decoded structures, for listings and the differ. */
  describe(): { superblock: Superblock; compressor: string; flags: string[] };
}

const COMPRESSOR_NAMES = new Map<number, string>(Object.entries(CompressorId).map(([k, v]) => [v, k]));
const MAX_DEPTH = 4096;
/** Largest single read of a file's stored blocks (the differ compares them in these steps). */
const STORED_READ = 1 << 20;

export interface SquashfsReadOptions {
  /** Told once when xattrs with a prefix id other than user., trusted., security. are left out. */
  warn?: (message: string) => void;
}

/** Opens an image; reads and checks the superblock and the id table. */
export async function openSquashfs(source: RandomAccessSource, options: SquashfsReadOptions = {}): Promise<SquashfsImage> {
  const name = source.name;
  if (source.size < SUPERBLOCK_SIZE) throw new ReprimageError('TRUNCATED', name, `${source.size} bytes is too short for a squashfs superblock`);
  const sb = decodeSuperblock(await source.read(0, SUPERBLOCK_SIZE), name);
  validateSuperblock(sb, source.size, name);
  const compressor = COMPRESSOR_NAMES.get(sb.compressor);
  if (compressor === undefined) throw corruptError(name, 'squashfs superblock', 20, `unknown compressor id ${sb.compressor}`);
  const decompress = createSquashfsDecompressor(sb.compressor, name);
  const reader = new SquashfsReader(source, sb, decompress, options.warn);
  await reader.loadIds();
  return {
    source,
    superblock: sb,
    compressor,
    tree: () => reader.tree(),
    walk: () => reader.walk(),
    describe: () => ({
      superblock: sb,
      compressor,
      flags: Object.entries(SquashfsFlag)
        .filter(([, bit]) => (sb.flags & bit) !== 0)
        .map(([k]) => k),
    }),
  };
}

class SquashfsReader {
  readonly meta: MetadataReader;
  readonly end: number;
  readonly inodeTable: number;
  readonly dirTable: number;
  ids: number[] = [];
  #fragments: Uint8Array | undefined;
  #xattrIds: { streamStart: number; entries: Uint8Array; count: number } | undefined;
  #xattrCache = new Map<number, Map<string, Uint8Array>>();
  /** The first unknown xattr prefix id met, told once when the tree has been read (so a failure stays one line). */
  #unknownPrefix: number | undefined;
  /** Ends of the tables, in image order, for bounding each table's reads. */
  readonly #starts: number[];

  constructor(
    readonly source: RandomAccessSource,
    readonly sb: Superblock,
    readonly decompress: SquashfsBlockDecompressor,
    readonly warn: ((message: string) => void) | undefined,
  ) {
    this.meta = new MetadataReader(source, decompress, source.name);
    this.end = Number(sb.bytesUsed);
    this.inodeTable = Number(sb.inodeTable);
    this.dirTable = Number(sb.dirTable);
    this.#starts = [sb.inodeTable, sb.dirTable, sb.fragmentTable, sb.exportTable, sb.idTable, sb.xattrTable]
      .filter((t) => t !== SQUASHFS_INVALID_TABLE)
      .map(Number)
      .sort((a, b) => a - b);
  }

  get subject(): string {
    return this.source.name;
  }

  /** The first table start after `at` (or the end of the image): where a table at `at` must end. */
  #tableEnd(at: number): number {
    for (const s of this.#starts) if (s > at) return s;
    return this.end;
  }

  /** Reads a lookup table: `count` entries of `size` bytes via its u64 block pointers at `at`. */
  async #lookupTable(at: number, count: number, size: number, what: string): Promise<Uint8Array> {
    const bytes = count * size;
    const blocks = Math.ceil(bytes / SQUASHFS_METADATA_SIZE);
    if (at + blocks * 8 > this.end) throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `squashfs ${what} table of ${count} entries does not fit the image`);
    if (blocks === 0) return new Uint8Array(0);
    const ptrs = await this.source.read(at, blocks * 8);
    const v = new DataView(ptrs.buffer, ptrs.byteOffset, ptrs.byteLength);
    const out = new Uint8Array(bytes);
    for (let b = 0; b < blocks; b++) {
      const p = v.getBigUint64(b * 8, true);
      if (p >= BigInt(at)) throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `squashfs ${what} table block ${b} at ${p} is not before its index at ${at}`);
      const want = Math.min(SQUASHFS_METADATA_SIZE, bytes - b * SQUASHFS_METADATA_SIZE);
      const block = await this.meta.block(Number(p), at);
      if (block.data.length < want) throw corruptError(this.subject, `squashfs ${what} table`, Number(p), `block of ${block.data.length} bytes, ${want} needed`);
      out.set(block.data.subarray(0, want), b * SQUASHFS_METADATA_SIZE);
    }
    return out;
  }

  async loadIds(): Promise<void> {
    this.ids = decodeIdTable(await this.#lookupTable(Number(this.sb.idTable), this.sb.idCount, 4, 'id'), this.sb.idCount);
  }

  /** Recently decompressed fragment blocks: files sharing a fragment are usually read one after another. */
  readonly #fragmentBlocks = new Map<number, Promise<{ frag: FragmentEntry; data: Uint8Array }>>();

  /** A fragment block, decompressed; the last few are kept so each is decompressed once per run of readers. */
  fragmentBlock(index: number): Promise<{ frag: FragmentEntry; data: Uint8Array }> {
    let block = this.#fragmentBlocks.get(index);
    if (!block) {
      block = this.#readFragmentBlock(index);
      block.catch(() => this.#fragmentBlocks.delete(index));
      this.#fragmentBlocks.set(index, block);
      if (this.#fragmentBlocks.size > 16) this.#fragmentBlocks.delete(this.#fragmentBlocks.keys().next().value!);
    }
    return block;
  }

  async #readFragmentBlock(index: number): Promise<{ frag: FragmentEntry; data: Uint8Array }> {
    const { frag, raw } = await this.storedFragmentBlock(index);
    return { frag, data: frag.size & SQUASHFS_BLOCK_UNCOMPRESSED ? raw : await this.decompress(raw, this.sb.blockSize) };
  }

  /** Recently read fragment blocks as stored: the stored forms of neighbouring small files share them. */
  readonly #storedFragments = new Map<number, Promise<{ frag: FragmentEntry; raw: Uint8Array }>>();

  /** A fragment block as stored (compressed or not); the last few are kept, as `fragmentBlock` does. */
  storedFragmentBlock(index: number): Promise<{ frag: FragmentEntry; raw: Uint8Array }> {
    let block = this.#storedFragments.get(index);
    if (!block) {
      block = (async () => {
        const frag = await this.fragment(index);
        const stored = frag.size & SQUASHFS_BLOCK_SIZE_MASK;
        if (stored > this.sb.blockSize || stored === 0 || frag.start + stored > this.end) {
          throw corruptError(this.subject, 'squashfs fragment', frag.start, `fragment ${index} of ${stored} bytes`);
        }
        return { frag, raw: await this.source.read(frag.start, stored) };
      })();
      block.catch(() => this.#storedFragments.delete(index));
      this.#storedFragments.set(index, block);
      if (this.#storedFragments.size > 16) this.#storedFragments.delete(this.#storedFragments.keys().next().value!);
    }
    return block;
  }

  async fragment(index: number): Promise<FragmentEntry> {
    if (index >= this.sb.fragmentCount) throw corruptError(this.subject, 'squashfs inode', undefined, `fragment ${index} of ${this.sb.fragmentCount}`);
    this.#fragments ??= await this.#lookupTable(Number(this.sb.fragmentTable), this.sb.fragmentCount, FRAGMENT_ENTRY_SIZE, 'fragment');
    return decodeFragmentEntry(this.#fragments, index);
  }

  async xattrs(index: number): Promise<Map<string, Uint8Array>> {
    if (index === SQUASHFS_INVALID_XATTR || this.sb.xattrTable === SQUASHFS_INVALID_TABLE) return new Map();
    const cached = this.#xattrCache.get(index);
    if (cached) return new Map(cached);
    if (!this.#xattrIds) {
      const at = Number(this.sb.xattrTable);
      if (at + 16 > this.end) throw new ReprimageError('OUT_OF_BOUNDS', this.subject, 'squashfs xattr table header past the end');
      const h = await this.source.read(at, 16);
      const hv = new DataView(h.buffer, h.byteOffset, 16);
      const streamStart = Number(hv.getBigUint64(0, true));
      const count = hv.getUint32(8, true);
      if (streamStart > at) throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `squashfs xattr stream at ${streamStart} after its table`);
      const entries = await this.#lookupTable(at + 16, count, XATTR_ID_ENTRY_SIZE, 'xattr id');
      this.#xattrIds = { streamStart, entries, count };
    }
    const ids = this.#xattrIds;
    if (index >= ids.count) throw corruptError(this.subject, 'squashfs inode', undefined, `xattr index ${index} of ${ids.count}`);
    const e: XattrIdEntry = decodeXattrIdEntry(ids.entries, index * XATTR_ID_ENTRY_SIZE);
    const tableAt = Number(this.sb.xattrTable);
    const cur = this.meta.cursor(ids.streamStart + Number(e.ref >> 16n), Number(e.ref & 0xffffn), tableAt);
    const out = new Map<string, Uint8Array>();
    if (e.count > 65536) throw corruptError(this.subject, 'squashfs xattr list', undefined, `${e.count} entries`);
    for (let i = 0; i < e.count; i++) {
      const h = await cur.read(4);
      const type = h[0]! | (h[1]! << 8);
      const nameSize = h[2]! | (h[3]! << 8);
      const prefix = XATTR_PREFIXES[type & XATTR_PREFIX_MASK];
      if (prefix === undefined) {
        // as unsquashfs does: the pair is stepped over and left out, with one warning per image
        await cur.read(nameSize);
        const skipped = await cur.read(4);
        const size = new DataView(skipped.buffer, skipped.byteOffset, 4).getUint32(0, true);
        if (size > 1 << 24) throw corruptError(this.subject, 'squashfs xattr', undefined, `value of ${size} bytes`);
        await cur.read(type & XATTR_VALUE_OOL ? 8 : size);
        this.#unknownPrefix ??= type & XATTR_PREFIX_MASK;
        continue;
      }
      const name = prefix + nameFromBytes(await cur.read(nameSize));
      const vh = await cur.read(4);
      const vsize = new DataView(vh.buffer, vh.byteOffset, 4).getUint32(0, true);
      if (vsize > 1 << 24) throw corruptError(this.subject, 'squashfs xattr', undefined, `value of ${vsize} bytes`);
      let value: Uint8Array;
      if (type & XATTR_VALUE_OOL) {
        if (vsize !== 8) throw corruptError(this.subject, 'squashfs xattr', undefined, `out-of-line reference of ${vsize} bytes`);
        const r = await cur.read(8);
        const ref = new DataView(r.buffer, r.byteOffset, 8).getBigUint64(0, true);
        const vc = this.meta.cursor(ids.streamStart + Number(ref >> 16n), Number(ref & 0xffffn), tableAt);
        const sh = await vc.read(4);
        const size = new DataView(sh.buffer, sh.byteOffset, 4).getUint32(0, true);
        if (size > 1 << 24) throw corruptError(this.subject, 'squashfs xattr', undefined, `value of ${size} bytes`);
        value = (await vc.read(size)).slice();
      } else {
        value = (await cur.read(vsize)).slice();
      }
      out.set(name, value);
    }
    if (this.#xattrCache.size < 4096) this.#xattrCache.set(index, out);
    return new Map(out);
  }

  async inodeAt(block: number, offset: number): Promise<Inode> {
    const at = this.inodeTable + block;
    const cur = this.meta.cursor(at, offset, this.dirTable);
    return readInode(cur, {
      blockSize: this.sb.blockSize,
      // A block list cannot be longer than the inode table could hold uncompressed.
      maxVariableBytes: Math.max(65536, (this.dirTable - this.inodeTable) * 4096),
      subject: this.subject,
    });
  }

  async #meta(inode: Inode): Promise<Meta> {
    const uid = this.ids[inode.uidIndex];
    const gid = this.ids[inode.gidIndex];
    if (uid === undefined || gid === undefined) {
      throw corruptError(this.subject, 'squashfs inode', undefined, `id index ${inode.uidIndex}/${inode.gidIndex} of ${this.ids.length} (inode ${inode.inodeNumber})`);
    }
    return { mode: inode.mode, uid, gid, mtime: { sec: inode.mtime, nsec: 0 }, xattrs: await this.xattrs(inode.xattr) };
  }

  async tree(): Promise<Tree> {
    const rootRef = this.sb.rootInode;
    const root = await this.inodeAt(Number(rootRef >> 16n), Number(rootRef & 0xffffn));
    if (root.kind !== 'dir') throw corruptError(this.subject, 'squashfs root inode', undefined, `is a ${root.kind}, not a directory`);
    const tree = new Tree(newDir(await this.#meta(root)));
    const state = { visited: new Set<string>([`${rootRef}`]), links: new Map<number, Node>(), count: 0 };
    await this.#fillDir(tree.root, root, '', state, 0);
    if (this.#unknownPrefix !== undefined) this.warn?.(`${this.subject}: squashfs xattrs with unknown prefix id ${this.#unknownPrefix} (not user., trusted., security.) left out`);
    return tree;
  }

  async #fillDir(dir: DirNode, inode: DirInode, path: string, state: { visited: Set<string>; links: Map<number, Node>; count: number }, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) throw new ReprimageError('LINK_LOOP', this.subject, `squashfs directories nested deeper than ${MAX_DEPTH} at ${path}`);
    if (inode.fileSize < 3) throw corruptError(this.subject, 'squashfs directory inode', undefined, `listing size ${inode.fileSize} (${path || '/'})`);
    const size = inode.fileSize - 3;
    const dirEnd = this.#tableEnd(this.dirTable);
    const listing = size === 0 ? new Uint8Array(0) : await this.meta.cursor(this.dirTable + inode.startBlock, inode.offset, dirEnd).read(size);
    for (const e of decodeListing(listing, this.subject)) {
      const name = nameFromBytes(e.name);
      const childPath = joinPath(path, name);
      if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw new ReprimageError('PATH_ESCAPE', this.subject, `squashfs directory ${path || '/'} has an entry named ${JSON.stringify(name)}`);
      }
      if (dir.children.has(name)) throw corruptError(this.subject, 'squashfs directory', undefined, `${childPath} listed twice`);
      if (++state.count > this.sb.inodeCount * 4 + 1024) throw corruptError(this.subject, 'squashfs directory', undefined, 'more entries than the inode count allows');
      const known = e.type !== 1 ? state.links.get(e.inodeNumber) : undefined;
      if (known) {
        dir.children.set(name, known);
        continue;
      }
      const child = await this.inodeAt(e.inodeBlock, e.inodeOffset);
      if (basicInodeType(child.kind) !== e.type) {
        throw corruptError(this.subject, 'squashfs directory', undefined, `${childPath}: entry type ${e.type} but inode type ${basicInodeType(child.kind)}`);
      }
      const meta = await this.#meta(child);
      if (child.kind === 'dir') {
        this.#enterOnce(e, childPath, state.visited);
        const sub: DirNode = { kind: 'dir', ...meta, children: new Map() };
        dir.children.set(name, sub);
        await this.#fillDir(sub, child, childPath, state, depth + 1);
        continue;
      }
      const node = this.#leaf(child, meta, childPath);
      state.links.set(e.inodeNumber, node);
      dir.children.set(name, node);
    }
  }

  /** A directory reached twice is a loop. */
  #enterOnce(e: { inodeBlock: number; inodeOffset: number }, path: string, visited: Set<string>): void {
    const key = `${(BigInt(e.inodeBlock) << 16n) | BigInt(e.inodeOffset)}`;
    if (visited.has(key)) throw new ReprimageError('LINK_LOOP', this.subject, `squashfs directory ${path} is reached twice (a directory loop)`);
    visited.add(key);
  }

  /** The node of any inode but a directory. */
  #leaf(child: Exclude<Inode, DirInode>, meta: Meta, path: string): Node {
    switch (child.kind) {
      case 'file':
        return { kind: 'file', ...meta, content: this.#content(child, path) };
      case 'symlink':
        return { kind: 'symlink', ...meta, target: nameFromBytes(child.target) };
      case 'block':
      case 'char':
        return { kind: child.kind, ...meta, ...decodeDevice(child.rdev) };
      case 'fifo':
      case 'socket':
        return { kind: child.kind, ...meta };
    }
  }

  async *walk(): AsyncGenerator<WalkEntry> {
    const rootRef = this.sb.rootInode;
    const root = await this.inodeAt(Number(rootRef >> 16n), Number(rootRef & 0xffffn));
    if (root.kind !== 'dir') throw corruptError(this.subject, 'squashfs root inode', undefined, `is a ${root.kind}, not a directory`);
    yield { path: '', node: newDir(await this.#meta(root)) };
    // only inodes with more than one link are remembered (for `linkTo`), not every node
    const state = { visited: new Set<string>([`${rootRef}`]), links: new Map<number, { path: string; node: Node }>(), count: 0 };
    yield* this.#walkDir(root, '', state, 0);
    if (this.#unknownPrefix !== undefined) this.warn?.(`${this.subject}: squashfs xattrs with unknown prefix id ${this.#unknownPrefix} (not user., trusted., security.) left out`);
  }

  async *#walkDir(inode: DirInode, path: string, state: { visited: Set<string>; links: Map<number, { path: string; node: Node }>; count: number }, depth: number): AsyncGenerator<WalkEntry> {
    if (depth > MAX_DEPTH) throw new ReprimageError('LINK_LOOP', this.subject, `squashfs directories nested deeper than ${MAX_DEPTH} at ${path}`);
    if (inode.fileSize < 3) throw corruptError(this.subject, 'squashfs directory inode', undefined, `listing size ${inode.fileSize} (${path || '/'})`);
    const size = inode.fileSize - 3;
    const listing = size === 0 ? new Uint8Array(0) : await this.meta.cursor(this.dirTable + inode.startBlock, inode.offset, this.#tableEnd(this.dirTable)).read(size);
    const entries = decodeListing(listing, this.subject).map((e) => ({ e, name: nameFromBytes(e.name) }));
    // stored sorted by mksquashfs; sorted here all the same, since the walk's order is promised
    entries.sort((a, b) => compareNames(a.name, b.name));
    for (let i = 0; i < entries.length; i++) {
      const { e, name } = entries[i]!;
      const childPath = joinPath(path, name);
      if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw new ReprimageError('PATH_ESCAPE', this.subject, `squashfs directory ${path || '/'} has an entry named ${JSON.stringify(name)}`);
      }
      if (i > 0 && entries[i - 1]!.name === name) throw corruptError(this.subject, 'squashfs directory', undefined, `${childPath} listed twice`);
      if (++state.count > this.sb.inodeCount * 4 + 1024) throw corruptError(this.subject, 'squashfs directory', undefined, 'more entries than the inode count allows');
      const known = e.type !== 1 ? state.links.get(e.inodeNumber) : undefined;
      if (known) {
        yield { path: childPath, node: known.node, linkTo: known.path };
        continue;
      }
      const child = await this.inodeAt(e.inodeBlock, e.inodeOffset);
      if (basicInodeType(child.kind) !== e.type) {
        throw corruptError(this.subject, 'squashfs directory', undefined, `${childPath}: entry type ${e.type} but inode type ${basicInodeType(child.kind)}`);
      }
      const meta = await this.#meta(child);
      if (child.kind === 'dir') {
        this.#enterOnce(e, childPath, state.visited);
        yield { path: childPath, node: newDir(meta) };
        yield* this.#walkDir(child, childPath, state, depth + 1);
        continue;
      }
      const node = this.#leaf(child, meta, childPath);
      if (child.nlink > 1) state.links.set(e.inodeNumber, { path: childPath, node });
      yield { path: childPath, node };
    }
  }

  #content(inode: FileInode, path: string) {
    const bs = this.sb.blockSize;
    const origin = `${this.subject} ▸ ${path}`;
    const size = inode.fileSize;
    const hasFragment = inode.fragment !== SQUASHFS_INVALID_FRAGMENT;
    const tail = hasFragment ? size - inode.blockSizes.length * bs : 0;
    if (hasFragment && (tail <= 0 || tail >= bs)) throw corruptError(this.subject, 'squashfs file inode', undefined, `${path}: fragment tail of ${tail} bytes`);
    let regions: DataRegion[] | undefined;
    if (inode.blockSizes.includes(0)) {
      regions = [];
      inode.blockSizes.forEach((s, i) => {
        if (s === 0) return;
        const off = i * bs;
        const len = Math.min(bs, size - off);
        const last = regions![regions!.length - 1];
        if (last && last.offset + last.length === off) regions![regions!.length - 1] = { offset: last.offset, length: last.length + len };
        else regions!.push({ offset: off, length: len });
      });
      if (tail > 0) regions.push({ offset: size - tail, length: tail });
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the generator below needs the reader
    const self = this;
    // the stored form: the same codec, block layout and raw blocks mean the same bytes
    let form: string | undefined;
    const stored = {
      // built when first compared: most walks never compare most files
      get form() {
        form ??= `squashfs:${self.sb.compressor}:${bs}:${size}:${inode.blockSizes.join(',')}:${hasFragment ? `${inode.fragmentOffset}+${tail}` : '-'}`;
        return form;
      },
      async *parts(): AsyncIterable<Uint8Array> {
        // The blocks of a file are stored back to back: read them in a few large reads.
        let total = 0;
        for (const word of inode.blockSizes) {
          const n = word & SQUASHFS_BLOCK_SIZE_MASK;
          if (n > bs) throw corruptError(self.subject, 'squashfs file', inode.blocksStart, `${path}: a block stored in ${n} bytes`);
          total += n;
        }
        if (inode.blocksStart + total > self.end) throw new ReprimageError('OUT_OF_BOUNDS', self.subject, `squashfs ${path}: its blocks run past the image`);
        for (let done = 0; done < total; done += STORED_READ) yield await self.source.read(inode.blocksStart + done, Math.min(STORED_READ, total - done));
        if (tail > 0) {
          const { frag, raw } = await self.storedFragmentBlock(inode.fragment);
          yield new Uint8Array([frag.size & SQUASHFS_BLOCK_UNCOMPRESSED ? 1 : 0]);
          yield raw;
        }
      },
    };
    return { stored, ...streamContent(
      size,
      origin,
      async function* () {
        let at = inode.blocksStart;
        for (let i = 0; i < inode.blockSizes.length; i++) {
          const word = inode.blockSizes[i]!;
          const len = Math.min(bs, size - i * bs);
          if (word === 0) {
            yield new Uint8Array(len);
            continue;
          }
          const stored = word & SQUASHFS_BLOCK_SIZE_MASK;
          if (stored > bs || stored === 0) throw corruptError(self.subject, 'squashfs file', at, `${path}: block ${i} stored in ${stored} bytes`);
          if (at + stored > self.end) throw new ReprimageError('OUT_OF_BOUNDS', self.subject, `squashfs ${path}: block ${i} at ${at} runs past the image`);
          const raw = await self.source.read(at, stored);
          at += stored;
          const data = word & SQUASHFS_BLOCK_UNCOMPRESSED ? raw : await self.decompress(raw, bs);
          if (data.length !== len) throw corruptError(self.subject, 'squashfs file', at - stored, `${path}: block ${i} holds ${data.length} bytes, ${len} expected`);
          yield data;
        }
        if (tail > 0) {
          const { frag, data } = await self.fragmentBlock(inode.fragment);
          if (inode.fragmentOffset + tail > data.length) throw corruptError(self.subject, 'squashfs fragment', frag.start, `${path}: tail ${inode.fragmentOffset}+${tail} past a ${data.length}-byte fragment`);
          yield data.subarray(inode.fragmentOffset, inode.fragmentOffset + tail);
        }
      },
      regions,
    ) };
  }
}
