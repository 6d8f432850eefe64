/**
 * The Tree: the one model every reader produces and every writer consumes.
 *
 * A Tree is a root directory whose children map names to nodes. A node carries its metadata and
 * its kind-specific data (lazy contents, a link target, device numbers). A hard link is the same
 * node object reachable under two or more paths; writers find hard links by object identity and
 * count links with `linkCounts`. Directories are never shared.
 */
import { ReprimageError } from '../errors.js';
import type { Content } from './content.js';
import { compareNames, joinPath, parentOf, baseName } from './names.js';

/** Seconds since the epoch (may be negative) and nanoseconds within the second. */
export interface Time {
  sec: number;
  nsec: number;
}

export interface Meta {
  /** Permission bits including setuid, setgid and sticky (mask 0o7777); never the file type. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Time;
  /** Extended attributes by full name (`user.x`, `security.capability`); writers sort them. */
  xattrs: Map<string, Uint8Array>;
}

export interface FileNode extends Meta {
  kind: 'file';
  content: Content;
}
export interface DirNode extends Meta {
  kind: 'dir';
  children: Map<string, Node>;
}
export interface SymlinkNode extends Meta {
  kind: 'symlink';
  target: string;
}
export interface DeviceNode extends Meta {
  kind: 'block' | 'char';
  major: number;
  minor: number;
}
export interface FifoNode extends Meta {
  kind: 'fifo';
}
export interface SocketNode extends Meta {
  kind: 'socket';
}

export type Node = FileNode | DirNode | SymlinkNode | DeviceNode | FifoNode | SocketNode;
export type NodeKind = Node['kind'];

/** One visit of a walk. `linkTo` is set when the node was already visited under another path. */
export interface WalkEntry {
  path: string;
  node: Node;
  linkTo?: string;
}

/** The S_IFMT type bits of each kind, as stat(2), tar, cpio and SquashFS encode them. */
export const TYPE_BITS: Record<NodeKind, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
};

export function kindFromMode(mode: number): NodeKind | undefined {
  const t = mode & 0o170000;
  for (const [kind, bits] of Object.entries(TYPE_BITS)) if (bits === t) return kind as NodeKind;
  return undefined;
}

export const EPOCH: Time = Object.freeze({ sec: 0, nsec: 0 });

/** A map that refuses changes: the shared `NO_XATTRS`. */
class UnchangeableMap<K, V> extends Map<K, V> {
  override set(): this {
    throw new Error('internal: NO_XATTRS is shared by many nodes; give the node its own map first (ownXattrs)');
  }
  override delete(): boolean {
    throw new Error('internal: NO_XATTRS is shared by many nodes');
  }
  override clear(): void {
    throw new Error('internal: NO_XATTRS is shared by many nodes');
  }
}

/**
 * The extended attributes of every node a large loader makes without any: one empty map for all
 * of them (an empty Map per entry was a quarter of a loaded root file system's memory). It refuses
 * changes; code adding an attribute to a node it did not make calls `ownXattrs` first.
 */
export const NO_XATTRS: ReadonlyMap<string, Uint8Array> & Map<string, Uint8Array> = new UnchangeableMap<string, Uint8Array>();

/** The node's own xattrs map, made for it if it still shares NO_XATTRS. */
export function ownXattrs(node: Meta): Map<string, Uint8Array> {
  if (node.xattrs === NO_XATTRS) node.xattrs = new Map();
  return node.xattrs;
}

export function newMeta(partial: Partial<Meta> = {}): Meta {
  return {
    mode: partial.mode ?? 0o755,
    uid: partial.uid ?? 0,
    gid: partial.gid ?? 0,
    mtime: partial.mtime ?? { ...EPOCH },
    xattrs: partial.xattrs ?? new Map(),
  };
}

export function newDir(meta: Partial<Meta> = {}): DirNode {
  return { kind: 'dir', ...newMeta({ mode: 0o755, ...meta }), children: new Map() };
}

/**
 * The deepest nesting a Tree accepts (Linux has no limit, but PATH_MAX, 4096 bytes, allows at most
 * 2048 levels to be named from the root in one call): deeper paths are refused as OVERFLOW.
 */
export const MAX_TREE_DEPTH = 4096;

export class Tree {
  constructor(readonly root: DirNode = newDir()) {}

  get(path: string): Node | undefined {
    if (path === '') return this.root;
    let node: Node = this.root;
    for (const part of path.split('/')) {
      if (node.kind !== 'dir') return undefined;
      const next = node.children.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * Places `node` at `path`, replacing what was there. Missing parent directories are created
   * with `parentMeta` (root-owned 0755 at the epoch by default); a parent that exists but is not
   * a directory is a CONFLICT. Replacing a directory by a directory keeps its children.
   */
  set(path: string, node: Node, parentMeta?: Partial<Meta>): void {
    if (path === '') {
      if (node.kind !== 'dir') throw new ReprimageError('CONFLICT', '/', 'the root must be a directory');
      Object.assign(this.root, { ...node, children: this.root.children });
      return;
    }
    const parent = this.ensureDir(parentOf(path), parentMeta);
    const name = baseName(path);
    const old = parent.children.get(name);
    if (old?.kind === 'dir' && node.kind === 'dir' && old !== node) {
      for (const [k, v] of old.children) if (!node.children.has(k)) node.children.set(k, v);
    }
    parent.children.set(name, node);
  }

  /** Removes the entry at `path` (and everything under it); returns whether it existed. */
  remove(path: string): boolean {
    if (path === '') throw new ReprimageError('CONFLICT', '/', 'cannot remove the root');
    const parent = this.get(parentOf(path));
    return parent?.kind === 'dir' ? parent.children.delete(baseName(path)) : false;
  }

  /** The directory at `path`, creating missing directories on the way. */
  ensureDir(path: string, meta?: Partial<Meta>): DirNode {
    let dir = this.root;
    if (path === '') return dir;
    const parts = path.split('/');
    if (parts.length >= MAX_TREE_DEPTH) {
      // every path below is as long as its depth: a million levels would cost terabytes to walk
      throw new ReprimageError('OVERFLOW', `${path.slice(0, 64)}…`, `nested ${parts.length} directories deep, more than the ${MAX_TREE_DEPTH} reprimage accepts`);
    }
    for (const [i, part] of parts.entries()) {
      let next = dir.children.get(part);
      if (!next) {
        next = newDir(meta);
        dir.children.set(part, next);
      } else if (next.kind !== 'dir') {
        throw new ReprimageError('CONFLICT', parts.slice(0, i + 1).join('/'), `is a ${next.kind}, not a directory`);
      }
      dir = next;
    }
    return dir;
  }

  /**
   * Depth-first, each directory before its children, children in bytewise name order: the order
   * of `tar --sort=name`. The root is visited first with path ''.
   */
  *walk(): Generator<WalkEntry> {
    const seen = new Map<Node, string>();
    const stack: Array<[string, Node]> = [['', this.root]];
    while (stack.length > 0) {
      const [path, node] = stack.pop()!;
      const first = node.kind === 'dir' ? undefined : seen.get(node);
      if (first !== undefined) {
        yield { path, node, linkTo: first };
        continue;
      }
      if (node.kind !== 'dir') seen.set(node, path);
      yield { path, node };
      if (node.kind === 'dir') {
        const names = [...node.children.keys()].sort(compareNames);
        for (let i = names.length - 1; i >= 0; i--) {
          const name = names[i]!;
          stack.push([joinPath(path, name), node.children.get(name)!]);
        }
      }
    }
  }

  /**
   * Every path in bytewise order of the whole path string: the order of
   * `find . | LC_ALL=C sort` (where `a.b` sorts before `a/x`). The root comes first as ''.
   */
  *walkSortedPaths(): Generator<WalkEntry> {
    // Without listing every path first: in a directory, the entry `name` sorts by its name and
    // everything under it by `name/` (no name holds a slash, so that prefix decides every
    // comparison with a sibling), so sorting those keys per directory gives the whole order.
    const seen = new Map<Node, string>();
    const visit = (path: string, node: Node): WalkEntry => {
      const first = node.kind === 'dir' ? undefined : seen.get(node);
      if (first !== undefined) return { path, node, linkTo: first };
      if (node.kind !== 'dir') seen.set(node, path);
      return { path, node };
    };
    yield visit('', this.root);
    const stack: Array<{ dir: string; items: Array<{ key: string; name: string; under: boolean }>; next: number; node: DirNode }> = [];
    const open = (dir: string, node: DirNode) => {
      const items: Array<{ key: string; name: string; under: boolean }> = [];
      for (const [name, child] of node.children) {
        items.push({ key: name, name, under: false });
        if (child.kind === 'dir') items.push({ key: `${name}/`, name, under: true });
      }
      items.sort((a, b) => compareNames(a.key, b.key));
      stack.push({ dir, items, next: 0, node });
    };
    open('', this.root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.items.length) {
        stack.pop();
        continue;
      }
      const { name, under } = top.items[top.next++]!;
      const child = top.node.children.get(name)!;
      const path = joinPath(top.dir, name);
      if (under) open(path, child as DirNode);
      else yield visit(path, child);
    }
  }

  /**
   * The number of links of each node, as stat(2) reports st_nlink: for a directory 2 plus its
   * subdirectories, for anything else the number of paths reaching it.
   */
  linkCounts(): Map<Node, number> {
    const counts = new Map<Node, number>();
    for (const { node } of this.walk()) {
      if (node.kind === 'dir') {
        let subdirs = 0;
        for (const child of node.children.values()) if (child.kind === 'dir') subdirs++;
        counts.set(node, 2 + subdirs);
      } else {
        counts.set(node, (counts.get(node) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** The number of entries, the root included. */
  get size(): number {
    let n = 0;
    for (const _ of this.walk()) n++;
    return n;
  }
}
