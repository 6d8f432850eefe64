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
import { compareNames, joinPath, nameFromBytes } from '../../tree/names.js';
import { NO_XATTRS, Tree, newDir, type DirNode, type Meta, type Node, type WalkEntry } from '../../tree/tree.js';
import { createSquashfsDecompressor, type SquashfsBlockDecompressor } from '../../compress/squashfs-codecs.js';
import {
  CompressorId,
  SQUASHFS_BLOCK_SIZE_MASK,
  SQUASHFS_BLOCK_UNCOMPRESSED,
  SQUASHFS_INVALID_TABLE,
  SQUASHFS_INVALID_XATTR,
  SQUASHFS_MAGIC,
  SQUASHFS_METADATA_SIZE,
  SquashfsFlag,
  XATTR_PREFIXES,
  XATTR_PREFIX_MASK,
  XATTR_VALUE_OOL,
} from './constants.js';
import { MetadataReader, NotHeld } from './metadata-reader.js';
import { SquashfsFileContent, type FileDataReader } from './file-content.js';
import { ListingDecoder, decodeListing, type DirEntry } from './layout/directory.js';
import { basicInodeType, decodeDevice, readInode, type DirInode, type Inode, type InodeReadLimits } from './layout/inode.js';
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
   * Nodes without xattrs share the unchangeable NO_XATTRS (call ownXattrs before adding one).
   */
  walk(): AsyncGenerator<WalkEntry>;
  /** Decoded structures, for listings and the differ. */
  describe(): { superblock: Superblock; compressor: string; flags: string[] };
  /** Blocks decompressed so far, by kind (what a comparison of stored forms saves). */
  decompressed(): SquashfsDecompressCounts;
}

export interface SquashfsDecompressCounts {
  metadataBlocks: number;
  dataBlocks: number;
  fragmentBlocks: number;
}

const COMPRESSOR_NAMES = new Map<number, string>(Object.entries(CompressorId).map(([k, v]) => [v, k]));
const MAX_DEPTH = 4096;

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
    decompressed: () => ({ metadataBlocks: reader.meta.decompressed, dataBlocks: reader.dataBlocks, fragmentBlocks: reader.fragmentBlocks }),
  };
}

/** Where a walk stands in one directory. */
interface WalkLevel {
  path: string;
  depth: number;
  /** The next entry in name order, undefined after the last. */
  next(): { e: DirEntry; name: string } | undefined;
  /** The name of the entry before (two equal names are a corrupt listing). */
  previous: string | undefined;
}

class SquashfsReader implements FileDataReader {
  readonly meta: MetadataReader;
  /** Data and fragment blocks decompressed so far. */
  dataBlocks = 0;
  fragmentBlocks = 0;
  readonly #inodeLimits: InodeReadLimits;
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
    this.#inodeLimits = {
      blockSize: sb.blockSize,
      // A block list cannot be longer than the inode table could hold uncompressed.
      maxVariableBytes: Math.max(65536, (this.dirTable - this.inodeTable) * 4096),
      subject: this.subject,
    };
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
    if (frag.size & SQUASHFS_BLOCK_UNCOMPRESSED) return { frag, data: raw };
    this.fragmentBlocks++;
    return { frag, data: await this.decompress(raw, this.sb.blockSize) };
  }

  decompressData(raw: Uint8Array): Promise<Uint8Array> {
    this.dataBlocks++;
    return this.decompress(raw, this.sb.blockSize);
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

  heldFragment(index: number): FragmentEntry | undefined {
    return this.#fragments === undefined || index >= this.sb.fragmentCount ? undefined : decodeFragmentEntry(this.#fragments, index);
  }

  /**
   * Reads the fragment table ahead of a walk, so that files' stored forms are known without a
   * read each. A damaged table is left for the files that need it to report, as it would be
   * without this read.
   */
  async #preloadFragments(): Promise<void> {
    if (this.sb.fragmentCount === 0 || this.#fragments !== undefined) return;
    try {
      await this.fragment(0);
    } catch {
      // told by the first file whose tail is read
    }
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

  /**
   * The inode at (block, offset) of the inode table: decoded straight from the metadata blocks
   * held when they are there (no promise per inode), else after reading them.
   */
  inodeAt(block: number, offset: number): Inode | Promise<Inode> {
    const cur = this.meta.cursor(this.inodeTable + block, offset, this.dirTable);
    try {
      return readInode({ read: (n) => cur.readHeld(n) }, this.#inodeLimits);
    } catch (e) {
      if (!(e instanceof NotHeld)) throw e;
    }
    return this.#inodeRead(this.inodeTable + block, offset);
  }

  /** An inode whose blocks are not all held: its bytes read, in steps doubling until it fits. */
  async #inodeRead(at: number, offset: number): Promise<Inode> {
    for (let want = 512; ; want *= 2) {
      const bytes = await this.meta.cursor(at, offset, this.dirTable).readUpTo(want);
      let used = 0;
      const read = (n: number) => {
        if (used + n > bytes.length) throw new NotHeld();
        used += n;
        return bytes.subarray(used - n, used);
      };
      try {
        return readInode({ read }, this.#inodeLimits);
      } catch (e) {
        if (!(e instanceof NotHeld)) throw e;
        // the table ended before the inode did: reading it whole says where and why
        if (bytes.length < want) await this.meta.cursor(at, offset, this.dirTable).read(want);
        if (bytes.length < want) throw corruptError(this.subject, 'squashfs inode', at, 'runs past the inode table');
      }
    }
  }

  /**
   * An inode's metadata; a promise only when it has xattrs to read. Without xattrs it gets a new
   * empty map, or with `shared` the one NO_XATTRS (for walks, whose nodes are only looked at).
   */
  #meta(inode: Inode, shared = false): Meta | Promise<Meta> {
    const uid = this.ids[inode.uidIndex];
    const gid = this.ids[inode.gidIndex];
    if (uid === undefined || gid === undefined) {
      throw corruptError(this.subject, 'squashfs inode', undefined, `id index ${inode.uidIndex}/${inode.gidIndex} of ${this.ids.length} (inode ${inode.inodeNumber})`);
    }
    const mtime = { sec: inode.mtime, nsec: 0 };
    if (inode.xattr === SQUASHFS_INVALID_XATTR || this.sb.xattrTable === SQUASHFS_INVALID_TABLE) return { mode: inode.mode, uid, gid, mtime, xattrs: shared ? NO_XATTRS : new Map() };
    return this.xattrs(inode.xattr).then((xattrs) => ({ mode: inode.mode, uid, gid, mtime, xattrs }));
  }

  async tree(): Promise<Tree> {
    const rootRef = this.sb.rootInode;
    const root = await this.inodeAt(Number(rootRef >> 16n), Number(rootRef & 0xffffn));
    if (root.kind !== 'dir') throw corruptError(this.subject, 'squashfs root inode', undefined, `is a ${root.kind}, not a directory`);
    const tree = new Tree(newDir(await this.#meta(root)));
    await this.#preloadFragments();
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
        const sub = this.#dirNode(meta);
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

  /** The node of any inode but a directory (fields written out: object spreads are slow here). */
  #leaf(child: Exclude<Inode, DirInode>, meta: Meta, path: string): Node {
    const { mode, uid, gid, mtime, xattrs } = meta;
    switch (child.kind) {
      case 'file':
        return { kind: 'file', mode, uid, gid, mtime, xattrs, content: new SquashfsFileContent(this, child, path) };
      case 'symlink':
        return { kind: 'symlink', mode, uid, gid, mtime, xattrs, target: nameFromBytes(child.target) };
      case 'block':
      case 'char': {
        const { major, minor } = decodeDevice(child.rdev);
        return { kind: child.kind, mode, uid, gid, mtime, xattrs, major, minor };
      }
      case 'fifo':
      case 'socket':
        return { kind: child.kind, mode, uid, gid, mtime, xattrs };
    }
  }

  /** A directory's node, without children. */
  #dirNode({ mode, uid, gid, mtime, xattrs }: Meta): DirNode {
    return { kind: 'dir', mode, uid, gid, mtime, xattrs, children: new Map() };
  }

  async *walk(): AsyncGenerator<WalkEntry> {
    const rootRef = this.sb.rootInode;
    const root = await this.inodeAt(Number(rootRef >> 16n), Number(rootRef & 0xffffn));
    if (root.kind !== 'dir') throw corruptError(this.subject, 'squashfs root inode', undefined, `is a ${root.kind}, not a directory`);
    yield { path: '', node: newDir(await this.#meta(root)) };
    await this.#preloadFragments();
    // only inodes with more than one link are remembered (for `linkTo`), not every node
    const visited = new Set<string>([`${rootRef}`]);
    const links = new Map<number, { path: string; node: Node }>();
    let count = 0;
    // one listing per directory level, walked with a stack rather than nested generators, so
    // that an entry deep in the tree costs one step, not one per level
    const stack = [await this.#listing(root, '', 0)];
    while (stack.length > 0) {
      const level = stack[stack.length - 1]!;
      const { path, depth } = level;
      const next = level.next();
      if (next === undefined) {
        stack.pop();
        continue;
      }
      const { e, name } = next;
      const childPath = joinPath(path, name);
      if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw new ReprimageError('PATH_ESCAPE', this.subject, `squashfs directory ${path || '/'} has an entry named ${JSON.stringify(name)}`);
      }
      if (level.previous === name) throw corruptError(this.subject, 'squashfs directory', undefined, `${childPath} listed twice`);
      level.previous = name;
      if (++count > this.sb.inodeCount * 4 + 1024) throw corruptError(this.subject, 'squashfs directory', undefined, 'more entries than the inode count allows');
      const known = e.type !== 1 ? links.get(e.inodeNumber) : undefined;
      if (known) {
        yield { path: childPath, node: known.node, linkTo: known.path };
        continue;
      }
      const read = this.inodeAt(e.inodeBlock, e.inodeOffset);
      const child = read instanceof Promise ? await read : read;
      if (basicInodeType(child.kind) !== e.type) {
        throw corruptError(this.subject, 'squashfs directory', undefined, `${childPath}: entry type ${e.type} but inode type ${basicInodeType(child.kind)}`);
      }
      const m = this.#meta(child, true);
      const meta = m instanceof Promise ? await m : m;
      if (child.kind === 'dir') {
        this.#enterOnce(e, childPath, visited);
        yield { path: childPath, node: this.#dirNode(meta) };
        stack.push(await this.#listing(child, childPath, depth + 1));
        continue;
      }
      const node = this.#leaf(child, meta, childPath);
      if (child.nlink > 1) links.set(e.inodeNumber, { path: childPath, node });
      yield { path: childPath, node };
    }
    if (this.#unknownPrefix !== undefined) this.warn?.(`${this.subject}: squashfs xattrs with unknown prefix id ${this.#unknownPrefix} (not user., trusted., security.) left out`);
  }

  /**
   * A directory's entries in bytewise name order, one at a time. A listing stored in that order
   * (mksquashfs and reprimage sort them) is decoded as the walk goes, so that a directory of
   * thousands of entries holds none of them for long (held objects are what grows V8's young
   * generation); any other is decoded whole and sorted.
   */
  async #listing(inode: DirInode, path: string, depth: number): Promise<WalkLevel> {
    if (depth > MAX_DEPTH) throw new ReprimageError('LINK_LOOP', this.subject, `squashfs directories nested deeper than ${MAX_DEPTH} at ${path}`);
    if (inode.fileSize < 3) throw corruptError(this.subject, 'squashfs directory inode', undefined, `listing size ${inode.fileSize} (${path || '/'})`);
    const size = inode.fileSize - 3;
    const listing = size === 0 ? new Uint8Array(0) : await this.meta.cursor(this.dirTable + inode.startBlock, inode.offset, this.#tableEnd(this.dirTable)).read(size);
    // the byte order of two stored names is the order of their names (compareNames)
    const scan = new ListingDecoder(listing, this.subject, false);
    let sorted = true;
    for (let e = scan.next(), before: Uint8Array | undefined; e !== undefined && sorted; before = e.name, e = scan.next()) {
      if (before !== undefined && Buffer.compare(before, e.name) > 0) sorted = false;
    }
    let next: () => { e: DirEntry; name: string } | undefined;
    if (sorted) {
      const decoder = new ListingDecoder(listing, this.subject, false);
      next = () => {
        const e = decoder.next();
        return e && { e, name: nameFromBytes(e.name) };
      };
    } else {
      const entries = decodeListing(listing, this.subject, false).map((e) => ({ e, name: nameFromBytes(e.name) }));
      entries.sort((a, b) => compareNames(a.name, b.name));
      let i = 0;
      next = () => entries[i++];
    }
    return { path, depth, next, previous: undefined };
  }
}
