/**
 * The writer's model of the image: which directory records each directory holds in the ISO 9660
 * tree (with deep directories relocated, RRIP §4.1.5) and in the Joliet tree, with identifiers
 * assigned and records sorted. Everything here is a pure function of the Tree and the options.
 */
import { ReprimageError } from '../../errors.js';
import type { Content } from '../../tree/content.js';
import { compareNames, joinPath } from '../../tree/names.js';
import type { DirNode, Meta, Node, Tree } from '../../tree/tree.js';
import { ISO_MAX_DIRECTORY_DEPTH } from './constants.js';
import { assignIsoIds, sortByIdentifier } from './iso-names.js';
import { assignJolietIds } from './joliet.js';

/** A file's data, stored once however many paths (hard links) reach it. */
export interface DataPlan {
  node: Node;
  path: string;
  content: Content;
  size: number;
  extent: number;
  /** Bytes to write instead of the content (a boot image with its boot info table patched). */
  replacement?: Uint8Array;
}

export interface DirPlan {
  path: string;
  node: DirNode;
  /** The parent in the real tree (undefined for the root). */
  parent?: DirPlan;
  /** The parent in the ISO 9660 hierarchy: the root for a relocated directory. */
  isoParent?: DirPlan;
  /** ISO 9660 level, the root being 1. */
  level: number;
  relocated: boolean;
  isoRecords: RecordPlan[];
  jolietRecords: RecordPlan[];
  /** 1-based numbers in the ISO and Joliet path tables. */
  number: number;
  jolietNumber: number;
  isoId: string;
  jolietId: string;
  extent: number;
  size: number;
  jolietExtent: number;
  jolietSize: number;
}

export type RecordTarget =
  | { kind: 'dir'; dir: DirPlan }
  | { kind: 'relocated'; dir: DirPlan }
  | { kind: 'placeholder'; dir: DirPlan }
  | { kind: 'file'; data: DataPlan }
  | { kind: 'special' }
  | { kind: 'catalog' };

export interface RecordPlan {
  /** The identifier in this namespace (ISO 9660 d-characters or Joliet). */
  id: string;
  /** The real name (Rock Ridge NM). */
  name: string;
  node: Node;
  target: RecordTarget;
  /** The identifier's bytes, encoded once by the writer (Latin-1 or UCS-2 BE). */
  idBytes?: Uint8Array;
}

export interface Plan {
  root: DirPlan;
  /** Directories in ISO path table order. */
  isoDirs: DirPlan[];
  /** Directories in Joliet path table order. */
  jolietDirs: DirPlan[];
  /** File data in extent order. */
  data: DataPlan[];
  /** Data plan of each file node (hard links share one). */
  dataOf: Map<Node, DataPlan>;
  /** Inode numbers for Rock Ridge PX, in walk order. */
  inodes: Map<Node, number>;
  linkCounts: Map<Node, number>;
}

export interface PlanOptions {
  /** Move directories deeper than ECMA-119's 8 levels into /rr_moved (RRIP relocation). */
  relocate: boolean;
  /** The time stamp of the synthetic rr_moved directory. */
  rrMovedTime: number;
  sortWeights?: ReadonlyMap<string, number>;
  /** A synthetic boot catalog file: its tree path and the node carrying its metadata. */
  catalog?: { path: string; node: Node };
}

/** Builds the plan; a catalog path that collides with a tree entry is a CONFLICT. */
export function planImage(tree: Tree, options: PlanOptions): Plan {
  const linkCounts = tree.linkCounts();
  const inodes = new Map<Node, number>();
  const dataOf = new Map<Node, DataPlan>();
  const order: DataPlan[] = [];
  const dirs = new Map<DirNode, DirPlan>();
  const newDir = (path: string, node: DirNode, parent?: DirPlan): DirPlan => ({
    path, node, parent, isoParent: parent, level: parent ? parent.level + 1 : 1, relocated: false,
    isoRecords: [], jolietRecords: [], number: 0, jolietNumber: 0, isoId: '', jolietId: '',
    extent: 0, size: 0, jolietExtent: 0, jolietSize: 0,
  });
  const root = newDir('', tree.root);
  dirs.set(tree.root, root);

  for (const { path, node, linkTo } of tree.walk()) {
    if (!inodes.has(node)) inodes.set(node, inodes.size + 1);
    if (node.kind === 'file' && linkTo === undefined) {
      const data: DataPlan = { node, path, content: node.content, size: node.content.size, extent: 0 };
      dataOf.set(node, data);
      order.push(data);
    }
  }
  if (options.catalog && tree.get(options.catalog.path) !== undefined) {
    throw new ReprimageError('CONFLICT', options.catalog.path, 'the boot catalog path is already taken by an entry of the tree');
  }
  if (options.catalog) inodes.set(options.catalog.node, inodes.size + 1);

  // Breadth-first over the real tree: decide each directory's ISO parent and level.
  const relocatedDirs: DirPlan[] = [];
  let movedDir: DirPlan | undefined;
  const queue: DirPlan[] = [root];
  for (let qi = 0; qi < queue.length; qi++) {
    const dir = queue[qi]!;
    for (const name of [...dir.node.children.keys()].sort(compareNames)) {
      const child = dir.node.children.get(name)!;
      if (child.kind !== 'dir') continue;
      const plan = newDir(joinPath(dir.path, name), child, dir);
      dirs.set(child, plan);
      plan.level = dir.level + 1;
      if (options.relocate && plan.level > ISO_MAX_DIRECTORY_DEPTH) {
        movedDir ??= newDir(RR_MOVED_NAME, { kind: 'dir', ...rrMovedMeta(options.rrMovedTime), children: new Map() }, root);
        plan.relocated = true;
        plan.isoParent = movedDir;
        plan.level = 3;
        relocatedDirs.push(plan);
      }
      queue.push(plan);
    }
  }

  // Records of each directory, with identifiers, in both namespaces.
  for (const dir of queue) {
    const names = [...dir.node.children.keys()].sort(compareNames);
    const entries = names.map((name) => ({ name, node: dir.node.children.get(name)! }));
    if (options.catalog && parentPath(options.catalog.path) === dir.path) {
      const name = baseOf(options.catalog.path);
      entries.push({ name, node: options.catalog.node });
      entries.sort((a, b) => compareNames(a.name, b.name));
    }
    const isoIds = assignIsoIds(entries.map((e) => ({ name: e.name, dir: e.node.kind === 'dir' })));
    const jolietIds = assignJolietIds(entries.map((e) => ({ name: e.name, dir: e.node.kind === 'dir' })));
    entries.forEach((e, i) => {
      const target = targetOf(e.node, dirs, dataOf, options);
      const isoTarget: RecordTarget = target.kind === 'dir' && target.dir.relocated ? { kind: 'placeholder', dir: target.dir } : target;
      dir.isoRecords.push({ id: isoIds[i]!, name: e.name, node: e.node, target: isoTarget });
      // Like xorriso, the Joliet tree holds only directories and regular files.
      if (target.kind !== 'special') dir.jolietRecords.push({ id: jolietIds[i]!, name: e.name, node: e.node, target });
      if (target.kind === 'dir') {
        target.dir.jolietId = jolietIds[i]!;
        if (!target.dir.relocated) target.dir.isoId = isoIds[i]!;
      }
    });
  }
  // Relocated directories become children of "rr_moved" in the root, as genisoimage places them
  // (libarchive insists on that name); rr_moved exists only in the ISO 9660 tree.
  if (movedDir) {
    if (tree.root.children.has(RR_MOVED_NAME)) {
      throw new ReprimageError('CONFLICT', RR_MOVED_NAME, 'deep directories need relocation into rr_moved, which the tree already has');
    }
    const moved = movedDir;
    const taken = new Set(root.isoRecords.map((r) => r.id));
    moved.isoId = assignIsoIds([{ name: RR_MOVED_NAME, dir: true }], taken)[0]!;
    inodes.set(moved.node, inodes.size + 1);
    linkCounts.set(moved.node, 2 + relocatedDirs.length);
    root.isoRecords.push({ id: moved.isoId, name: RR_MOVED_NAME, node: moved.node, target: { kind: 'dir', dir: moved } });
    const ids = assignIsoIds(relocatedDirs.map((d) => ({ name: baseOf(d.path), dir: true })));
    relocatedDirs.forEach((d, i) => {
      d.isoId = ids[i]!;
      moved.isoRecords.push({ id: d.isoId, name: baseOf(d.path), node: d.node, target: { kind: 'relocated', dir: d } });
    });
    queue.push(moved);
  }
  for (const dir of queue) {
    sortByIdentifier(dir.isoRecords, (r) => r.id);
    // Joliet identifiers sort like ISO ones (compareJolietIds is compareIdentifiers)
    sortByIdentifier(dir.jolietRecords, (r) => r.id);
  }

  const isoDirs = pathTableOrder(root, (d) => d.isoRecords, 'iso');
  const jolietDirs = pathTableOrder(root, (d) => d.jolietRecords, 'joliet');

  // File data: tree.walk() order, then stable by descending sort weight (mkisofs -sort).
  const weights = options.sortWeights;
  let data = order;
  if (weights && weights.size > 0) {
    const weightOf = new Map<Node, number>();
    for (const { path, node } of tree.walk()) {
      const w = weights.get(path);
      if (w !== undefined) weightOf.set(node, Math.max(weightOf.get(node) ?? -Infinity, w));
    }
    data = order.map((d, i) => ({ d, i, w: weightOf.get(d.node) ?? 0 }))
      .sort((a, b) => b.w - a.w || a.i - b.i)
      .map((x) => x.d);
  }
  return { root, isoDirs, jolietDirs, data, dataOf, inodes, linkCounts };
}

function targetOf(node: Node, dirs: Map<DirNode, DirPlan>, dataOf: Map<Node, DataPlan>, options: PlanOptions): RecordTarget {
  if (options.catalog && node === options.catalog.node) return { kind: 'catalog' };
  if (node.kind === 'dir') return { kind: 'dir', dir: dirs.get(node)! };
  if (node.kind === 'file') return { kind: 'file', data: dataOf.get(node)! };
  return { kind: 'special' };
}

/** Directories by level, then parent number, then identifier (ECMA-119 §9.4); numbers them. */
function pathTableOrder(root: DirPlan, records: (d: DirPlan) => RecordPlan[], ns: 'iso' | 'joliet'): DirPlan[] {
  const out: DirPlan[] = [root];
  const setNumber = (d: DirPlan, n: number) => {
    if (ns === 'iso') d.number = n;
    else d.jolietNumber = n;
  };
  setNumber(root, 1);
  for (let i = 0; i < out.length; i++) {
    for (const r of records(out[i]!)) {
      const t = r.target;
      const child = t.kind === 'dir' || (ns === 'iso' && t.kind === 'relocated') ? t.dir : undefined;
      if (!child) continue;
      out.push(child);
      setNumber(child, out.length);
    }
  }
  if (out.length > 0xffff) {
    throw new ReprimageError('UNSUPPORTED', '/', `${out.length} directories: ISO 9660 path tables hold at most 65535`);
  }
  return out;
}

function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Name of the directory that holds relocated directories (genisoimage's choice). */
export const RR_MOVED_NAME = 'rr_moved';

function rrMovedMeta(time: number): Meta {
  return { mode: 0o555, uid: 0, gid: 0, mtime: { sec: time, nsec: 0 }, xattrs: new Map() };
}

/** Metadata of the synthetic boot catalog file. */
export function catalogMeta(creationTime: number): Meta {
  return { mode: 0o444, uid: 0, gid: 0, mtime: { sec: creationTime, nsec: 0 }, xattrs: new Map() };
}
