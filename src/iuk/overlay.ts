/**
 * Stacking a layer onto a Tree in memory, with the semantics of a union mount: what the layer
 * holds replaces what is below, directories present in both are merged (the upper one's
 * metadata shown), whiteouts remove the entry below, and an opaque directory hides everything
 * below it. `deleteThenOverlay` is the plain-files variant used for a kit's boot files: delete
 * the listed paths, then extract over (as `tar -x` would).
 */
import { ReprimageError } from '../errors.js';
import { compareNames, joinPath, parentOf, baseName } from '../tree/names.js';
import { newDir, type DirNode, type Node, type Tree } from '../tree/tree.js';
import { AUFS_OPAQUE, classifyEntry, hasOpaqueXattr, withoutOverlayXattrs, type WhiteoutStyle } from './whiteouts.js';

/** Lays `layer` over `base` in place; the layer's nodes are shared, not copied. */
export function stackLayer(base: Tree, layer: Tree, whiteouts: WhiteoutStyle): void {
  mergeDir(base.root, layer.root, whiteouts, '');
}

/** Removes each path of `deletions` (missing ones are fine), then lays `files` over `base` without whiteout rules. */
export function deleteThenOverlay(base: Tree, deletions: readonly string[], files: Tree): void {
  for (const path of deletions) {
    if (path === '') throw new ReprimageError('CORRUPT_IMAGE', 'control.yml', 'delete_files names the root');
    const parent = base.get(parentOf(path));
    if (parent?.kind === 'dir') parent.children.delete(baseName(path));
  }
  mergeDir(base.root, files.root, undefined, '');
}

function takeMeta(into: DirNode, from: DirNode): void {
  into.mode = from.mode;
  into.uid = from.uid;
  into.gid = from.gid;
  into.mtime = { ...from.mtime };
  into.xattrs = withoutOverlayXattrs(from.xattrs);
}

function isOpaque(dir: DirNode, style: WhiteoutStyle | undefined): boolean {
  if (style === 'overlay') return hasOpaqueXattr(dir);
  if (style === 'aufs') return dir.children.has(AUFS_OPAQUE);
  return false;
}

function mergeDir(lower: DirNode, upper: DirNode, style: WhiteoutStyle | undefined, path: string): void {
  takeMeta(lower, upper);
  const names = [...upper.children.keys()].sort(compareNames);
  // whiteouts first: in aufs `.wh.x` and a new `x` may stand side by side
  const entries: Array<[string, Node]> = [];
  for (const name of names) {
    const node = upper.children.get(name)!;
    const role = style === undefined ? { role: 'entry' as const, name } : classifyEntry(name, node, style);
    if (role.role === 'whiteout') lower.children.delete(role.target);
    else if (role.role === 'entry') entries.push([name, node]);
  }
  for (const [name, node] of entries) {
    const p = joinPath(path, name);
    if (node.kind !== 'dir') {
      lower.children.set(name, node);
      continue;
    }
    const below = lower.children.get(name);
    if (below?.kind === 'dir' && !isOpaque(node, style)) {
      mergeDir(below, node, style, p);
    } else {
      const fresh = newDir();
      lower.children.set(name, fresh);
      mergeDir(fresh, node, style, p);
    }
  }
}
