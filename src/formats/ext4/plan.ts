/**
 * The plan of an ext4 image: inode numbers, what each inode needs, and (for one geometry) the
 * blocks each gets. Everything is decided before a byte is written, in a fixed order:
 *
 * - inode 2 is the root, 11 is lost+found, then 12, 13, … in `tree.walk()` order (each
 *   directory before its children, names bytewise); a hard link reuses its first inode;
 * - blocks are handed out in increasing order: the journal, then per inode (in inode order)
 *   its xattr block, its data and its extent tree blocks.
 *
 * Nothing here reads file contents: a file's blocks follow from its size and data regions.
 */
import { ReprimageError } from '../../errors.js';
import type { Content } from '../../tree/content.js';
import { compareNames, nameBytes } from '../../tree/names.js';
import { TYPE_BITS, newDir, type DirNode, type Node, type Tree } from '../../tree/tree.js';
import { directoryShape, type DirEntryIn, type DirHashing } from './directory.js';
import { extentTreeBlocks, splitLongRuns, type Extent } from './extents.js';
import { BlockAllocator, INODE_SIZE, type Geometry } from './geometry.js';
import {
  EXTRA_ISIZE, FAST_SYMLINK_MAX, FT, GOOD_OLD_FIRST_INO, GOOD_OLD_INODE_SIZE, ROOT_INO,
} from './layout.js';
import { planXattrs, xattrEntries, type XattrPlan } from './xattr.js';

export const IBODY_SIZE = INODE_SIZE - GOOD_OLD_INODE_SIZE - EXTRA_ISIZE;
const LOST_AND_FOUND = 'lost+found';
/** The range of a signed 32-bit seconds count extended by two epoch bits. */
const TIME_MIN = -(2 ** 31);
const TIME_MAX = 2 ** 31 + 3 * 2 ** 32 - 1;
const NO_XATTRS: XattrPlan = Object.freeze({ inInode: [], inBlock: [] });

export interface InodePlan {
  ino: number;
  node: Node;
  /** For messages: the path of a directory (the only inodes whose writing can fail on a name); '' for the others. */
  path: string;
  /** i_mode with type bits. */
  mode: number;
  links: number;
  size: number;
  xattrs: XattrPlan;
  /** Logical block runs holding data (before allocation), ascending. */
  logicalRuns: Array<{ logical: number; length: number }>;
  dataBlocks: number;
  /**
   * Directories: the children's names sorted bytewise (their bytes and nodes are looked up when
   * the directory is written: kept for every directory of a large tree they cost megabytes), the
   * lost+found this writer adds under the root, and the parent's node.
   */
  childNames?: string[];
  addedLostAndFound?: DirNode;
  parent?: Node;
  htree?: boolean;
  minBlocks?: number;
  /** Symlink target bytes. */
  target?: Uint8Array;
  // filled by allocation:
  xattrBlock: number;
  extents: Extent[];
  treeBlocks: number[];
}

export interface TreePlan {
  inodes: InodePlan[];
  byNode: Map<Node, InodePlan>;
  /** The highest inode number used. */
  lastIno: number;
  dirCount: number;
}

function fileTypeOf(node: Node): number {
  switch (node.kind) {
    case 'file': return FT.regFile;
    case 'dir': return FT.dir;
    case 'char': return FT.chrdev;
    case 'block': return FT.blkdev;
    case 'fifo': return FT.fifo;
    case 'socket': return FT.sock;
    case 'symlink': return FT.symlink;
  }
}

/** The child `name` of a directory's plan. */
function childOf(plan: InodePlan, name: string): Node {
  if (plan.addedLostAndFound && name === LOST_AND_FOUND) return plan.addedLostAndFound;
  return (plan.node as DirNode).children.get(name)!;
}

export function direntsOf(plan: InodePlan, byNode: Map<Node, InodePlan>): DirEntryIn[] {
  return plan.childNames!.map((name) => {
    const child = childOf(plan, name);
    return { name: nameBytes(name), ino: byNode.get(child)!.ino, fileType: fileTypeOf(child) };
  });
}

/** The logical blocks holding data: all of them for dense contents, else those the regions touch. */
function logicalRunsOf(content: Content, blockSize: number): Array<{ logical: number; length: number }> {
  if (content.size === 0) return [];
  if (content.dataRegions === undefined) return [{ logical: 0, length: Math.ceil(content.size / blockSize) }];
  const regions = [...content.dataRegions].sort((a, b) => a.offset - b.offset);
  const runs: Array<{ logical: number; length: number }> = [];
  for (const r of regions) {
    if (r.length === 0) continue;
    const first = Math.floor(r.offset / blockSize);
    const end = Math.ceil(Math.min(r.offset + r.length, content.size) / blockSize);
    const last = runs[runs.length - 1];
    if (last && first <= last.logical + last.length) last.length = Math.max(last.length, end - last.logical);
    else if (end > first) runs.push({ logical: first, length: end - first });
  }
  return runs;
}

/**
 * Numbers the inodes of `tree` and works out what each needs. A `lost+found` directory is
 * added under the root (as mke2fs makes it) unless the tree has an entry of that name.
 */
export function planTree(tree: Tree, blockSize: number, hashing: DirHashing, options: { lostAndFound: boolean; time: number }): TreePlan {
  // one walk serves numbering and link counts (a non-directory's links: the paths reaching it)
  const visits = [...tree.walk()];
  const counts = new Map<Node, number>();
  for (const { node } of visits) if (node.kind !== 'dir') counts.set(node, (counts.get(node) ?? 0) + 1);
  const inodes: InodePlan[] = [];
  const byNode = new Map<Node, InodePlan>();
  let dirCount = 0;
  const rootLpf = tree.root.children.get(LOST_AND_FOUND);
  const extraLpf: DirNode | undefined = !rootLpf && options.lostAndFound ? newDir({ mode: 0o700, mtime: { sec: options.time, nsec: 0 } }) : undefined;
  const lpf = rootLpf?.kind === 'dir' ? rootLpf : extraLpf;
  const parents = new Map<Node, Node>();

  const add = (node: Node, path: string, ino: number): InodePlan => {
    const subject = path === '' ? '/' : path;
    if (node.mtime.sec < TIME_MIN || node.mtime.sec > TIME_MAX) {
      throw new ReprimageError('UNSUPPORTED', subject, `the time ${node.mtime.sec} is outside what ext4 stores (December 1901 to April 2446)`);
    }
    if (!(node.uid >= 0 && node.uid <= 0xffffffff && node.gid >= 0 && node.gid <= 0xffffffff)) {
      throw new ReprimageError('UNSUPPORTED', subject, `owner ${node.uid}:${node.gid} does not fit ext4's 32-bit ids`);
    }
    if ((node.kind === 'char' || node.kind === 'block') && !(node.major >= 0 && node.major <= 0xfff && node.minor >= 0 && node.minor <= 0xfffff)) {
      throw new ReprimageError('UNSUPPORTED', subject, `device ${node.major}:${node.minor} does not fit ext4's 12-bit major and 20-bit minor`);
    }
    const plan: InodePlan = {
      ino, node, path: node.kind === 'dir' ? subject : '', mode: TYPE_BITS[node.kind] | (node.mode & 0o7777), links: counts.get(node) ?? 1, size: 0,
      xattrs: node.xattrs.size === 0 ? NO_XATTRS : planXattrs(xattrEntries(node.xattrs, subject), IBODY_SIZE, blockSize, subject),
      logicalRuns: [], dataBlocks: 0, xattrBlock: 0, extents: [], treeBlocks: [],
    };
    switch (node.kind) {
      case 'file':
        if (node.content.size > 2 ** 32 * blockSize) throw new ReprimageError('UNSUPPORTED', subject, `a file of ${node.content.size} bytes is larger than ext4 extents address with ${blockSize}-byte blocks`);
        plan.size = node.content.size;
        plan.logicalRuns = logicalRunsOf(node.content, blockSize);
        break;
      case 'symlink': {
        const target = nameBytes(node.target);
        if (target.length >= blockSize) throw new ReprimageError('UNSUPPORTED', subject, `a symlink target of ${target.length} bytes does not fit in one ${blockSize}-byte block`);
        plan.target = target;
        plan.size = target.length;
        if (target.length > FAST_SYMLINK_MAX) plan.logicalRuns = [{ logical: 0, length: 1 }];
        break;
      }
      case 'dir': {
        dirCount++;
        if (node === tree.root && extraLpf) plan.addedLostAndFound = extraLpf;
        const names = [...node.children.keys()];
        if (plan.addedLostAndFound) names.push(LOST_AND_FOUND);
        names.sort(compareNames); // bytewise UTF-8, as tree.walk() orders them
        plan.childNames = names;
        let links = 2;
        const shapeEntries: DirEntryIn[] = names.map((n) => {
          const bytes = nameBytes(n);
          if (bytes.length > 255) throw new ReprimageError('UNSUPPORTED', subject, `the name '${n}' is longer than 255 bytes`);
          const child = childOf(plan, n);
          if (child.kind === 'dir') {
            parents.set(child, node);
            links++;
          }
          return { name: bytes, ino: 0, fileType: 0 };
        });
        if (links > 65000) links = 1; // dir_nlink: "many"
        plan.links = links;
        plan.minBlocks = node === lpf ? Math.max(1, 16384 / blockSize) : 1;
        const shape = directoryShape(shapeEntries, blockSize, hashing, subject, plan.minBlocks);
        plan.htree = shape.kind === 'htree';
        plan.size = shape.blocks * blockSize;
        plan.logicalRuns = [{ logical: 0, length: shape.blocks }];
        break;
      }
      default:
        break;
    }
    plan.dataBlocks = plan.logicalRuns.reduce((n, r) => n + r.length, 0);
    inodes.push(plan);
    byNode.set(node, plan);
    return plan;
  };

  add(tree.root, '', ROOT_INO);
  if (lpf) add(lpf, LOST_AND_FOUND, GOOD_OLD_FIRST_INO);
  let next = lpf ? GOOD_OLD_FIRST_INO + 1 : GOOD_OLD_FIRST_INO;
  for (const { path, node, linkTo } of visits) {
    if (path === '' || linkTo !== undefined || node === lpf) continue;
    add(node, path, next++);
  }
  for (const p of inodes) if (p.node.kind === 'dir') p.parent = parents.get(p.node) ?? tree.root;
  inodes.sort((a, b) => a.ino - b.ino);
  return { inodes, byNode, lastIno: next - 1, dirCount };
}

/** The journal inode's allocation. */
export interface JournalPlan {
  blocks: number;
  extents: Extent[];
  treeBlocks: number[];
}

/** Blocks needed beyond the fixed metadata, roughly (extent tree blocks estimated). */
export function estimateBlocks(plan: TreePlan, blockSize: number): number {
  let n = 0;
  for (const p of plan.inodes) {
    n += p.dataBlocks + (p.xattrs.inBlock.length > 0 ? 1 : 0);
    n += extentTreeBlocks(p.logicalRuns.length + Math.floor(p.dataBlocks / 32768), blockSize);
  }
  return n;
}

/** Gives every inode (and the journal) its blocks; throws OutOfSpace when they do not fit. */
export function allocate(plan: TreePlan, geometry: Geometry, journalBlocks: number, subject: string): { journal: JournalPlan; allocator: BlockAllocator } {
  const alloc = new BlockAllocator(geometry, subject);
  const none: never[] = [];
  const place = (runs: Array<{ logical: number; length: number }>): Extent[] => {
    if (runs.length === 0) return none;
    const out: Extent[] = [];
    let long = false;
    for (const r of runs) {
      let logical = r.logical;
      let left = r.length;
      while (left > 0) {
        const p = alloc.take(left);
        out.push({ logical, physical: p.start, length: p.length });
        if (p.length > 32768) long = true;
        logical += p.length;
        left -= p.length;
      }
    }
    return long ? splitLongRuns(out) : out;
  };
  const treeBlocksFor = (extents: Extent[]): number[] => {
    const count = extentTreeBlocks(extents.length, geometry.blockSize);
    if (count === 0) return none;
    const out: number[] = [];
    for (const r of alloc.takeRuns(count)) for (let i = 0; i < r.length; i++) out.push(r.start + i);
    return out;
  };
  const jExtents = place([{ logical: 0, length: journalBlocks }]);
  const journal: JournalPlan = { blocks: journalBlocks, extents: jExtents, treeBlocks: treeBlocksFor(jExtents) };
  for (const p of plan.inodes) {
    p.xattrBlock = p.xattrs.inBlock.length > 0 ? alloc.take(1).start : 0;
    p.extents = place(p.logicalRuns);
    p.treeBlocks = treeBlocksFor(p.extents);
  }
  return { journal, allocator: alloc };
}
