/**
 * Copies of a Tree, so a library call can change metadata without touching its caller's Tree.
 */
import { clampTime } from './policy.js';
import { Tree, type DirNode, type Node } from './tree.js';

/**
 * A copy of the Tree's structure and metadata; contents (lazy sources) are shared, and a node
 * reached by several paths (a hard link) is still one node in the copy.
 */
export function copyTree(tree: Tree): Tree {
  const copies = new Map<Node, Node>();
  const copy = (node: Node): Node => {
    const known = copies.get(node);
    if (known) return known;
    let made: Node;
    if (node.kind === 'dir') {
      const dir: DirNode = { ...node, mtime: { ...node.mtime }, xattrs: new Map(node.xattrs), children: new Map() };
      copies.set(node, dir);
      for (const [name, child] of node.children) dir.children.set(name, copy(child));
      made = dir;
    } else {
      made = { ...node, mtime: { ...node.mtime }, xattrs: new Map(node.xattrs) };
    }
    copies.set(node, made);
    return made;
  };
  return new Tree(copy(tree.root) as DirNode);
}

/**
 * What a Tree writer stores: `tree` itself when no mtime in it is later than `buildTime`, else a
 * copy whose later mtimes are `buildTime` (docs/metadata-policy.md, the clamping step). Every
 * writer of a Tree calls this first, so an image never carries a time after its build time, even
 * when its caller skipped the policy; a Tree already clamped (every command's) costs one walk.
 */
export function clampedToBuildTime(tree: Tree, buildTime: number): Tree {
  const later = (node: Node) => clampTime(node.mtime, buildTime) !== node.mtime;
  if (!someNode(tree, later)) return tree;
  const copy = copyTree(tree);
  someNode(copy, (node) => {
    node.mtime = clampTime(node.mtime, buildTime);
    return false;
  });
  return copy;
}

/** Whether `test` holds for a node of `tree`; each node visited once, in no particular order (no sorting). */
function someNode(tree: Tree, test: (node: Node) => boolean): boolean {
  const seen = new Set<Node>();
  const stack: Node[] = [tree.root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (test(node)) return true;
    if (node.kind === 'dir') for (const child of node.children.values()) stack.push(child);
  }
  return false;
}
