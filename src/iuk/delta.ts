/**
 * The difference between two Trees, as what must be laid over the old one to get the new one.
 *
 * Two shapes of result, one walk:
 * - a *layer* (the SquashFS delta of a kit): added and changed entries, a whiteout for each
 *   removed one, and opaque directories where a directory was replaced; stacked on the old tree
 *   with overlay semantics it gives the new tree (overlay.ts);
 * - a *file update* (the boot files of a kit): added and changed entries, plus a list of paths to
 *   delete first (each with everything under it).
 *
 * Entries of the result are copies of the new tree's nodes (hard links among them kept), so the
 * caller may clamp their times without touching the new tree. Every directory on the way to a
 * change is present, with the new tree's metadata: in a merged view the upper directory's
 * metadata is the one shown.
 */
import { ReprimageError } from '../errors.js';
import { compareNames, joinPath } from '../tree/names.js';
import { Tree, type DirNode, type Node, type Time } from '../tree/tree.js';
import { sameMeta, sameNode } from './same-node.js';
import { AUFS_OPAQUE, OPAQUE_VALUE, OVERLAY_OPAQUE_XATTR, aufsOpaqueMarker, classifyEntry, whiteoutFor, type WhiteoutStyle } from './whiteouts.js';

export interface DeltaStats {
  /** Entries that exist only in the new tree (a new directory counts once, with what is under it). */
  added: number;
  /** Entries in both trees whose type, metadata or bytes differ. */
  changed: number;
  /** Entries of the old tree that are gone (a removed directory counts once). */
  removed: number;
  /** Directories replaced whole (nothing of the old one kept). */
  replaced: number;
  /** Paths of the above, for reports; each list in bytewise order. */
  paths: { added: string[]; changed: string[]; removed: string[]; replaced: string[] };
}

export type DeltaMode = { kind: 'layer'; whiteouts: WhiteoutStyle; time: Time } | { kind: 'files' };

export interface Delta {
  tree: Tree;
  /** For the `files` mode: the paths to delete before laying the tree over, in bytewise order. */
  deletions: string[];
  stats: DeltaStats;
}

export async function computeDelta(oldTree: Tree, newTree: Tree, mode: DeltaMode): Promise<Delta> {
  const builder = new DeltaBuilder(mode, linkGroups(oldTree), linkGroups(newTree));
  const root = builder.shell(newTree.root);
  await builder.compareDirs(oldTree.root, newTree.root, root, '');
  const tree = new Tree(root);
  builder.completeLinkGroups(tree, newTree);
  if (mode.kind === 'layer') builder.checkRepresentable(tree, mode.whiteouts);
  return { tree, deletions: builder.deletions, stats: builder.stats };
}

/** Every path of each non-directory node reached by more than one path (a hard-link group). */
function linkGroups(tree: Tree): Map<Node, string[]> {
  const paths = new Map<Node, string[]>();
  for (const { path, node } of tree.walk()) {
    if (node.kind === 'dir') continue;
    const list = paths.get(node);
    if (list) list.push(path);
    else paths.set(node, [path]);
  }
  for (const [node, list] of paths) if (list.length < 2) paths.delete(node);
  return paths;
}

/** A directory is taken as replaced when it had entries and none of their names survives. */
function isReplacedDir(oldDir: DirNode, newDir: DirNode): boolean {
  if (oldDir.children.size === 0) return false;
  for (const name of oldDir.children.keys()) if (newDir.children.has(name)) return false;
  return true;
}

class DeltaBuilder {
  readonly stats: DeltaStats = { added: 0, changed: 0, removed: 0, replaced: 0, paths: { added: [], changed: [], removed: [], replaced: [] } };
  readonly deletions: string[] = [];
  /** Copies of the new tree's non-directory nodes, one per node, so hard links stay links. */
  readonly #copies = new Map<Node, Node>();
  /** The whiteouts and markers made here; anything else looking like one cannot be carried. */
  readonly #made = new Set<Node>();

  constructor(
    private readonly mode: DeltaMode,
    private readonly oldLinks: Map<Node, string[]>,
    private readonly newLinks: Map<Node, string[]>,
  ) {}

  /** The same hard-link group (as a sorted list of paths) on both sides. */
  sameLinks(o: Node, n: Node): boolean {
    return (this.oldLinks.get(o) ?? []).join('\0') === (this.newLinks.get(n) ?? []).join('\0');
  }

  /**
   * A hard-link group of the new tree is carried whole or not at all: in a union mount a link
   * only joins entries of the same layer. So every path of a group of which one path is in the
   * delta is put into it (with its directories), as a link to the same copied node.
   */
  completeLinkGroups(delta: Tree, newTree: Tree): void {
    const inDelta = new Set<Node>();
    for (const { node } of delta.walk()) inDelta.add(node);
    for (const [node, paths] of this.newLinks) {
      const copy = this.#copies.get(node);
      if (copy === undefined || !inDelta.has(copy)) continue;
      for (const path of paths) {
        if (delta.get(path) === copy) continue;
        const parts = path.split('/');
        let dir = delta.root;
        let walked = '';
        for (const part of parts.slice(0, -1)) {
          walked = joinPath(walked, part);
          let next = dir.children.get(part);
          if (next === undefined) {
            next = this.shell(newTree.get(walked) as DirNode);
            dir.children.set(part, next);
          }
          dir = next as DirNode;
        }
        dir.children.set(parts[parts.length - 1]!, copy);
        this.note('changed', path);
      }
    }
  }

  shell(dir: DirNode): DirNode {
    return { ...dir, xattrs: new Map(dir.xattrs), mtime: { ...dir.mtime }, children: new Map() };
  }

  copy(node: Node): Node {
    if (node.kind === 'dir') {
      const out = this.shell(node);
      for (const name of [...node.children.keys()].sort(compareNames)) out.children.set(name, this.copy(node.children.get(name)!));
      return out;
    }
    let c = this.#copies.get(node);
    if (!c) {
      c = { ...node, xattrs: new Map(node.xattrs), mtime: { ...node.mtime } };
      this.#copies.set(node, c);
    }
    return c;
  }

  async compareDirs(oldDir: DirNode, newDir: DirNode, out: DirNode, path: string): Promise<void> {
    const names = [...new Set([...oldDir.children.keys(), ...newDir.children.keys()])].sort(compareNames);
    for (const name of names) {
      const o = oldDir.children.get(name);
      const n = newDir.children.get(name);
      const p = joinPath(path, name);
      if (n === undefined) {
        this.remove(out, name, p);
      } else if (o === undefined) {
        out.children.set(name, this.copy(n));
        this.note('added', p);
      } else if (n.kind === 'dir' && (o.kind !== 'dir' || isReplacedDir(o, n))) {
        this.replace(out, name, n, p, o.kind === 'dir');
      } else if (n.kind === 'dir' && o.kind === 'dir') {
        const sub = this.shell(n);
        await this.compareDirs(o, n, sub, p);
        const metaChanged = !sameMeta(o, n);
        if (metaChanged) this.note('changed', p);
        if (metaChanged || sub.children.size > 0) out.children.set(name, sub);
      } else if (!(await sameNode(o, n)) || !this.sameLinks(o, n)) {
        // a non-directory over a directory hides it whole (overlayfs and tar extraction alike)
        if (this.mode.kind === 'files' && o.kind === 'dir') this.deletions.push(p);
        out.children.set(name, this.copy(n));
        this.note('changed', p);
      }
    }
  }

  remove(out: DirNode, name: string, path: string): void {
    this.note('removed', path);
    if (this.mode.kind === 'files') {
      this.deletions.push(path);
      return;
    }
    const w = whiteoutFor(name, this.mode.whiteouts, this.mode.time);
    this.#made.add(w.node);
    out.children.set(w.name, w.node);
  }

  /** The new directory whole, hiding everything the old tree had at that path. */
  replace(out: DirNode, name: string, n: DirNode, path: string, wasDir: boolean): void {
    this.note(wasDir ? 'replaced' : 'changed', path);
    const dir = this.copy(n) as DirNode;
    if (this.mode.kind === 'files') {
      this.deletions.push(path);
    } else if (wasDir) {
      if (this.mode.whiteouts === 'overlay') {
        dir.xattrs.set(OVERLAY_OPAQUE_XATTR, OPAQUE_VALUE);
        this.#made.add(dir);
      } else {
        const marker = aufsOpaqueMarker(this.mode.time);
        this.#made.add(marker);
        dir.children.set(AUFS_OPAQUE, marker);
      }
    }
    out.children.set(name, dir);
  }

  note(kind: 'added' | 'changed' | 'removed' | 'replaced', path: string): void {
    this.stats[kind]++;
    this.stats.paths[kind].push(path);
  }

  /** A new tree holding a character device 0/0 (overlay) or a `.wh.` name (aufs) cannot be a layer of that style. */
  checkRepresentable(tree: Tree, style: WhiteoutStyle): void {
    for (const { path, node } of tree.walk()) {
      if (this.#made.has(node)) continue;
      if (style === 'overlay' && [...node.xattrs.keys()].some((k) => k.startsWith('trusted.overlay.') || k.startsWith('user.overlay.'))) {
        throw new ReprimageError('UNSUPPORTED', path || '/', "the new tree carries overlayfs' own extended attributes (trusted.overlay.*), which would change how the layer is read");
      }
      if (path === '') continue;
      const name = path.slice(path.lastIndexOf('/') + 1);
      const role = classifyEntry(name, node, style).role;
      if (role !== 'entry') {
        const what = style === 'overlay' ? 'a character device 0/0, which overlayfs reads as a whiteout' : 'a name aufs reserves for whiteouts';
        throw new ReprimageError('UNSUPPORTED', path, `the new tree holds ${what}; try --whiteouts ${style === 'overlay' ? 'aufs' : 'overlay'}`);
      }
    }
  }
}
