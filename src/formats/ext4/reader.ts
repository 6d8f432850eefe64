/**
 * The ext2/3/4 reader: superblock and group descriptors, inodes, extent trees and block maps,
 * linear, hashed and inline directories, xattrs in the inode and in a block, with every
 * metadata_csum checksum verified. The whole directory structure and every file's block map is
 * read and checked when the Tree is built, so a bad image fails there, not while streaming;
 * file contents stay on the image and are read when streamed.
 *
 * Hostile images end in a ReprimageError, never a hang or a huge allocation: see the limits in
 * read-mapping.ts (block numbers, overlapping or repeated extents, a block budget shared by all
 * files) and here (directories reached twice are a LINK_LOOP, inode numbers are checked).
 */
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { bytesContent, readContent } from '../../tree/content.js';
import { joinPath, nameFromBytes } from '../../tree/names.js';
import { Tree, kindFromMode, type DirNode, type Meta, type Node } from '../../tree/tree.js';
import { COMPAT, HASH, IFLAG, INCOMPAT, ROOT_INO, SB, decodeDev, getU32 } from './layout.js';
import { BlockCache } from './read-cache.js';
import { parseDirBlock, parseInlineDir, type DirEntry } from './read-directory.js';
import { readGroupTable, type GroupTable } from './read-groups.js';
import { readInode, type Inode } from './read-inode.js';
import { runsContent } from './read-content.js';
import { BlockBudget, readMapping, type MappingContext } from './read-mapping.js';
import { replayJournal, restoreEscaped, type ReplayedBlock } from './read-journal.js';
import { featureNames, formatUuid, readSuperblock, type Ext4Superblock } from './read-superblock.js';
import { readBlockXattrs, readInodeXattrs, type XattrReadContext } from './read-xattrs.js';

export { sniffExt4 } from './read-superblock.js';

/** An opened ext2/3/4 file system. */
export interface Ext4Image {
  readonly source: RandomAccessSource;
  readonly superblock: Ext4Superblock;
  readonly uuid: string;
  readonly label: string;
  /** Feature flags by name (`hasJournal`, `extents`, `bit64`, `metadataCsum`, …). */
  readonly features: readonly string[];
  /** The superblock's identifying fields as text, for `diff`. */
  describe(): Record<string, string | number>;
  /**
   * The files as a Tree: names, modes, owners, mtimes with nanoseconds, link targets, device
   * numbers, xattrs (POSIX ACLs in getfattr's form; `system.data` left out) and lazy contents.
   * Hard links are one node. `lost+found` is included, as debugfs rdump gives it.
   */
  tree(): Promise<Tree>;
}

export interface Ext4ReadOptions {
  warn?: (message: string) => void;
}

/** The largest symlink target a block can hold; anything longer is corrupt. */
const MAX_SYMLINK = 65536;
/**
 * At most this many names in all directories together. Directory blocks are bounded by the image
 * size, but 8-byte records of hard links to one inode could still describe a Tree far larger than
 * memory; no real file system comes near this.
 */
const MAX_ENTRIES = 1 << 24;
/** The longest path, and the most path characters in all, the Tree may hold. */
const MAX_PATH = 32 * 1024;
const MAX_PATH_CHARS = 2 ** 30;
/** Directory blocks read per request. */
const DIR_READ_BYTES = 256 * 1024;

export async function openExt4(image: RandomAccessSource, options: Ext4ReadOptions = {}): Promise<Ext4Image> {
  let source = image;
  let sb = await readSuperblock(source);
  let groups = await readGroupTable(source, sb);
  /** What could not be replayed, told after the tree is read (or in its error line). */
  let notReplayed: string | undefined;
  if (sb.featureIncompat & INCOMPAT.recover) {
    // not unmounted cleanly: what e2fsck or a mount would show is the image with its journal replayed
    const replayed = await replayedSource(source, sb, groups);
    if (replayed.fastCommit) notReplayed = "the ext4 journal's fast-commit blocks were not replayed (its regular transactions were)";
    if (replayed.source) {
      source = replayed.source;
      sb = await readSuperblock(source);
      groups = await readGroupTable(source, sb);
    } else if ((sb.featureCompat & COMPAT.hasJournal) !== 0 && getU32(sb.raw, SB.journalInum) === 0) {
      notReplayed = 'the ext4 journal on another device holds changes not yet replayed';
    }
  }
  const features = featureNames(sb);
  const uuid = formatUuid(sb.uuid);
  return {
    source,
    superblock: sb,
    uuid,
    label: sb.label,
    features,
    describe() {
      const hashName = Object.entries(HASH).find(([, v]) => v === sb.defHashVersion)?.[0] ?? String(sb.defHashVersion);
      return {
        uuid,
        label: sb.label,
        features: features.join(' '),
        'block size': sb.blockSize,
        blocks: sb.blocksCount,
        inodes: sb.inodesCount,
        'inode size': sb.inodeSize,
        groups: sb.groupCount,
        'blocks per group': sb.blocksPerGroup,
        'inodes per group': sb.inodesPerGroup,
        'hash seed': formatUuid(sb.hashSeed),
        'default hash': hashName,
        'created': sb.mkfsTime,
        'last written': sb.wtime,
        'checksum seed': sb.metadataCsum ? sb.csumSeed.toString(16).padStart(8, '0') : '(none)',
      };
    },
    tree: async () => {
      const what = notReplayed;
      if (what === undefined) return new TreeReader(source, sb, groups, options.warn).read();
      // an external journal (or fast commits) cannot be replayed: say so once, after the tree is
      // read, or as part of the one error line if the stale image does not read
      let tree: Tree;
      try {
        tree = await new TreeReader(source, sb, groups, options.warn).read();
      } catch (e) {
        if (e instanceof ReprimageError) throw new ReprimageError(e.code, e.subject, `${e.detail} (${what})`, { cause: e });
        throw e;
      }
      options.warn?.(`${source.name}: ${what}; read the file system as it is on disk`);
      return tree;
    },
  };
}

/**
 * The image with its internal journal replayed over it (see read-journal.ts); no source when
 * there is nothing to replay or the journal is on another device. `fastCommit`: the journal has
 * fast commits, which are not replayed.
 */
async function replayedSource(source: RandomAccessSource, sb: Ext4Superblock, groups: GroupTable): Promise<{ source?: RandomAccessSource; fastCommit: boolean }> {
  const inum = getU32(sb.raw, SB.journalInum);
  if (!(sb.featureCompat & COMPAT.hasJournal) || inum === 0) return { fastCommit: false };
  const cache = new BlockCache(source, sb.blockSize);
  const inode = await readInode(cache, sb, groups, inum);
  const runs = await readMapping({ sb, cache, budget: new BlockBudget(sb, source.name) }, inode);
  const replay = await replayJournal({ runs, blockSize: sb.blockSize, name: source.name, readBlock: (n) => source.read(n * sb.blockSize, sb.blockSize) }, sb.blocksCount);
  return { source: replay.blocks.size === 0 ? undefined : overlaySource(source, sb.blockSize, replay.blocks), fastCommit: replay.fastCommit };
}

/** `base` with whole blocks replaced by the journal's copies of them. */
function overlaySource(base: RandomAccessSource, blockSize: number, blocks: ReadonlyMap<number, ReplayedBlock>): RandomAccessSource {
  return {
    name: base.name,
    size: base.size,
    async read(offset, length) {
      const bytes = await base.read(offset, length);
      if (length === 0) return bytes;
      const first = Math.floor(offset / blockSize);
      const last = Math.floor((offset + length - 1) / blockSize);
      const hits: Array<[number, ReplayedBlock]> = [];
      if (last - first < blocks.size) {
        for (let n = first; n <= last; n++) {
          const b = blocks.get(n);
          if (b) hits.push([n, b]);
        }
      } else {
        for (const [n, b] of blocks) if (n >= first && n <= last) hits.push([n, b]);
      }
      if (hits.length === 0) return bytes;
      const out = bytes.slice();
      for (const [n, b] of hits) {
        const data = restoreEscaped(await base.read(b.physical * blockSize, blockSize), b);
        const from = Math.max(offset, n * blockSize);
        const to = Math.min(offset + length, (n + 1) * blockSize);
        out.set(data.subarray(from - n * blockSize, to - n * blockSize), from - offset);
      }
      return out;
    },
    close: () => base.close(),
  };
}

class TreeReader {
  readonly cache: BlockCache;
  readonly ctx: MappingContext;
  readonly name: string;
  /** Non-directories already read, by inode number: hard links share the node. */
  readonly files = new Map<number, Node>();
  /** Directories already reached, by inode number, with their path: a second visit is a loop. */
  readonly dirs = new Map<number, string>();
  entryCount = 0;
  /** Parsed xattr blocks and ea_inode values, shared by the inodes that refer to them. */
  readonly xattrBlocks = new Map<number, Map<string, Uint8Array>>();
  readonly valueInodes = new Map<number, Uint8Array>();
  pathChars = 0;
  /** Attributes skipped for an unknown name index: how many, and the first inode holding one. */
  readonly unknownIndexes = new Set<number>();
  unknownSkipped = 0;
  firstUnknownOwner = 0;

  constructor(
    readonly source: RandomAccessSource,
    readonly sb: Ext4Superblock,
    readonly groups: GroupTable,
    readonly warn: ((message: string) => void) | undefined,
  ) {
    this.cache = new BlockCache(source, sb.blockSize);
    this.ctx = { sb, cache: this.cache, budget: new BlockBudget(sb, source.name) };
    this.name = source.name;
  }

  async read(): Promise<Tree> {
    const rootInode = await this.inode(ROOT_INO, '/');
    if (kindFromMode(rootInode.mode) !== 'dir') throw corruptError(this.name, 'ext4 root inode', rootInode.offset, `mode 0${rootInode.mode.toString(8)} is not a directory`);
    const { meta, inline: rootInline } = await this.metaOf(rootInode);
    const tree = new Tree();
    Object.assign(tree.root, meta);
    this.dirs.set(ROOT_INO, '/');
    const stack: Array<{ inode: Inode; node: DirNode; path: string; inline: Uint8Array | undefined }> = [];
    stack.push({ inode: rootInode, node: tree.root, path: '', inline: rootInline });
    while (stack.length > 0) {
      const dir = stack.pop()!;
      for (const entry of await this.entries(dir.inode, dir.inline)) {
        const childName = this.entryName(entry, dir);
        if (childName === undefined) continue;
        if (++this.entryCount > MAX_ENTRIES) this.tooManyEntries();
        const path = joinPath(dir.path, childName);
        // directories nested without end would make each path, and the sum of paths, huge
        this.pathChars += path.length;
        if (path.length > MAX_PATH || this.pathChars > MAX_PATH_CHARS) {
          throw new ReprimageError('OVERFLOW', this.name, `ext4 path /${path.slice(0, 64)}… is ${path.length} characters deep; paths longer than ${MAX_PATH} or ${MAX_PATH_CHARS} in all are refused`);
        }
        if (dir.node.children.has(childName)) throw corruptError(this.name, `ext4 directory /${dir.path}`, undefined, `the name ${JSON.stringify(childName)} appears twice`);
        const known = this.files.get(entry.ino);
        if (known) {
          dir.node.children.set(childName, known);
          continue;
        }
        const seenAt = this.dirs.get(entry.ino);
        if (seenAt !== undefined) {
          throw new ReprimageError('LINK_LOOP', this.name, `ext4 directory inode ${entry.ino} is reached both as ${seenAt === '/' ? '/' : '/' + seenAt} and as /${path} (a directory loop)`);
        }
        const inode = await this.inode(entry.ino, path);
        const { meta, inline } = await this.metaOf(inode);
        const node = await this.node(inode, meta, inline, path);
        dir.node.children.set(childName, node);
        if (node.kind === 'dir') {
          this.dirs.set(entry.ino, path);
          stack.push({ inode, node, path, inline });
        } else {
          this.files.set(entry.ino, node);
        }
      }
    }
    if (this.unknownSkipped > 0) {
      const indexes = [...this.unknownIndexes].sort((a, b) => a - b).join(', ');
      this.warn?.(`${this.name}: ${this.unknownSkipped} ext4 xattr(s) with unknown name index ${indexes} left out (the first on inode ${this.firstUnknownOwner})`);
    }
    return tree;
  }

  unknownXattrIndex(index: number, owner: number): void {
    if (this.unknownSkipped++ === 0) this.firstUnknownOwner = owner;
    this.unknownIndexes.add(index);
  }

  tooManyEntries(): never {
    throw new ReprimageError('OVERFLOW', this.name, `more than ${MAX_ENTRIES} directory entries: too many to be an honest ext4 image`);
  }

  /** The name of an entry, or undefined for "." and ".."; names with '/' or NUL are corrupt. */
  entryName(entry: DirEntry, dir: { inode: Inode; path: string }): string | undefined {
    const n = entry.name;
    if ((n.length === 1 && n[0] === 0x2e) || (n.length === 2 && n[0] === 0x2e && n[1] === 0x2e)) return undefined;
    if (n.includes(0x2f) || n.includes(0)) {
      throw corruptError(this.name, `ext4 directory /${dir.path} (inode ${dir.inode.ino})`, undefined, `entry name ${JSON.stringify(Buffer.from(n).toString('latin1'))} contains '/' or NUL`);
    }
    return nameFromBytes(n);
  }

  async inode(ino: number, path: string): Promise<Inode> {
    const inode = await readInode(this.cache, this.sb, this.groups, ino);
    if (inode.mode === 0 || inode.linksCount === 0) {
      throw corruptError(this.name, `ext4 inode ${ino} (${path === '/' ? '/' : '/' + path})`, inode.offset, 'is unused (mode 0 or no links) but a directory names it');
    }
    if (kindFromMode(inode.mode) === undefined) throw corruptError(this.name, `ext4 inode ${ino} (/${path})`, inode.offset, `unknown file type in mode 0${inode.mode.toString(8)}`);
    return inode;
  }

  /** Mode, owner, mtime and xattrs; and the `system.data` value of an inline inode. */
  async metaOf(inode: Inode): Promise<{ meta: Meta; inline: Uint8Array | undefined }> {
    const xctx: XattrReadContext = {
      readValueInode: (inum, size, owner) => this.valueInode(inum, size, owner),
      unknownIndex: (index, owner) => this.unknownXattrIndex(index, owner),
    };
    const xattrs = await readInodeXattrs(inode, this.name, xctx);
    if (inode.fileAcl !== 0) {
      const { sb } = this;
      if (inode.fileAcl < sb.firstDataBlock || inode.fileAcl >= sb.blocksCount) {
        throw new ReprimageError('OUT_OF_BOUNDS', this.name, `ext4 inode ${inode.ino}: xattr block ${inode.fileAcl} is outside the file system (blocks ${sb.firstDataBlock}..${sb.blocksCount - 1})`);
      }
      // an xattr block is shared by every inode with the same attributes: parse it once and
      // share its values, so many inodes naming one block cannot multiply memory
      let shared = this.xattrBlocks.get(inode.fileAcl);
      if (!shared) {
        shared = await readBlockXattrs(sb, await this.cache.block(inode.fileAcl), inode.fileAcl, inode, this.name, xctx);
        this.xattrBlocks.set(inode.fileAcl, shared);
      }
      for (const [k, v] of shared) {
        if (xattrs.has(k)) throw corruptError(this.name, `ext4 xattrs of inode ${inode.ino}`, undefined, `${k} is both in the inode and in its xattr block`);
        xattrs.set(k, v);
      }
    }
    const inline = xattrs.get('system.data');
    xattrs.delete('system.data');
    return { meta: { mode: inode.mode & 0o7777, uid: inode.uid, gid: inode.gid, mtime: inode.mtime, xattrs }, inline };
  }

  async node(inode: Inode, meta: Meta, inline: Uint8Array | undefined, path: string): Promise<Node> {
    const kind = kindFromMode(inode.mode)!;
    switch (kind) {
      case 'dir':
        return { kind, ...meta, children: new Map() };
      case 'file':
        if (inode.flags & IFLAG.inlineData) return { kind, ...meta, content: bytesContent(this.inlineBytes(inode, inline), `${this.name} ▸ ${path}`) };
        return { kind, ...meta, content: runsContent(this.source, this.sb.blockSize, inode.size, await readMapping(this.ctx, inode), `${this.name} ▸ ${path}`) };
      case 'symlink':
        return { kind, ...meta, target: nameFromBytes(await this.symlinkTarget(inode, inline)) };
      case 'block':
      case 'char': {
        const { major, minor } = decodeDev(getU32(inode.block, 0), getU32(inode.block, 4));
        return { kind, ...meta, major, minor };
      }
      case 'fifo':
      case 'socket':
        return { kind, ...meta };
    }
  }

  async symlinkTarget(inode: Inode, inline: Uint8Array | undefined): Promise<Uint8Array> {
    const bad = (detail: string) => corruptError(this.name, `ext4 symlink inode ${inode.ino}`, inode.offset, detail);
    if (inode.size === 0 || inode.size > MAX_SYMLINK) throw bad(`target of ${inode.size} bytes`);
    if (inode.flags & IFLAG.inlineData) return this.inlineBytes(inode, inline);
    // a fast symlink keeps its target in i_block and owns no blocks (an xattr block aside)
    const eaSectors = inode.fileAcl !== 0 ? this.sb.blockSize / 512 : 0;
    // (the kernel's test; e2fsprogs looks at the size only, which agrees on any sane image)
    if (inode.sectors - eaSectors === 0) {
      if (inode.size >= inode.block.length) throw bad(`fast symlink target of ${inode.size} bytes does not fit i_block`);
      return inode.block.slice(0, inode.size);
    }
    const runs = await readMapping(this.ctx, inode);
    return readContent(runsContent(this.source, this.sb.blockSize, inode.size, runs, `${this.name} ▸ symlink inode ${inode.ino}`));
  }

  /** The bytes of an inline file: i_block, then the system.data value. */
  inlineBytes(inode: Inode, inline: Uint8Array | undefined): Uint8Array {
    const extra = inline ?? new Uint8Array(0);
    const room = inode.block.length + extra.length;
    if (inode.size > room) throw corruptError(this.name, `ext4 inline data of inode ${inode.ino}`, inode.offset, `size ${inode.size} but only ${room} bytes inline`);
    const out = new Uint8Array(inode.size);
    out.set(inode.block.subarray(0, Math.min(inode.size, inode.block.length)));
    if (inode.size > inode.block.length) out.set(extra.subarray(0, inode.size - inode.block.length), inode.block.length);
    return out;
  }

  async entries(inode: Inode, inline: Uint8Array | undefined): Promise<DirEntry[]> {
    const { sb } = this;
    const ctx = {
      sb,
      inode,
      name: this.name,
      htree: (inode.flags & IFLAG.index) !== 0 && (sb.featureCompat & COMPAT.dirIndex) !== 0,
    };
    if (inode.flags & IFLAG.inlineData) return parseInlineDir(ctx, inline);
    const bs = sb.blockSize;
    const blocks = Math.ceil(inode.size / bs);
    const out: DirEntry[] = [];
    for (const run of await readMapping(this.ctx, inode)) {
      if (run.unwritten) continue;
      const usable = Math.min(run.length, blocks - run.logical);
      const perRead = Math.max(1, Math.floor(DIR_READ_BYTES / bs));
      for (let i = 0; i < usable; i += perRead) {
        const n = Math.min(perRead, usable - i);
        const at = (run.physical + i) * bs;
        const bytes = await this.source.read(at, n * bs);
        for (let j = 0; j < n; j++) {
          for (const e of parseDirBlock(ctx, bytes.subarray(j * bs, (j + 1) * bs), run.logical + i + j, at + j * bs)) out.push(e);
        }
        // checked while reading: 8-byte records could otherwise fill memory before the count below
        if (this.entryCount + out.length > MAX_ENTRIES + 2) this.tooManyEntries();
      }
    }
    return out;
  }

  /** An xattr value kept in its own inode (ea_inode). */
  async valueInode(inum: number, size: number, owner: number): Promise<Uint8Array> {
    const bad = (detail: string) => corruptError(this.name, `ext4 xattr value inode ${inum} of inode ${owner}`, undefined, detail);
    if (!(this.sb.featureIncompat & INCOMPAT.eaInode)) throw bad('ea_inode values without the ea_inode feature');
    if (inum === owner) throw bad('an inode holding its own xattr value');
    const known = this.valueInodes.get(inum);
    if (known) {
      if (known.length !== size) throw bad(`holds ${known.length} bytes, the entry says ${size}`);
      return known;
    }
    const inode = await readInode(this.cache, this.sb, this.groups, inum);
    if (!(inode.flags & IFLAG.eaInode)) throw bad('the inode is not marked as an xattr value inode');
    if (inode.size !== size) throw bad(`holds ${inode.size} bytes, the entry says ${size}`);
    // its blocks are checked but not charged: one value inode may be shared by many files
    const ctx: MappingContext = { ...this.ctx, budget: new BlockBudget(this.sb, this.name) };
    const value = await readContent(runsContent(this.source, this.sb.blockSize, size, await readMapping(ctx, inode), `${this.name} ▸ xattr inode ${inum}`));
    this.valueInodes.set(inum, value);
    return value;
  }
}
