/**
 * A canonical JSON form of a Tree, for `ls --json` and for tests comparing trees: one object per
 * entry in walk order, with every piece of metadata and the first path of hard-linked entries.
 */
import { compareNames, hasEscapedBytes, nameBytes } from './names.js';
import type { Tree } from './tree.js';

export interface EntryJson {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  mtime: string;
  size?: number;
  target?: string;
  /** The bytes of `path` / `target` in hex, only when they are not UTF-8 (docs/names.md). */
  pathHex?: string;
  targetHex?: string;
  device?: [number, number];
  xattrs?: Record<string, string>;
  hardlinkTo?: string;
}

/**
 * One object per entry in `tree.walk()` order (the root is `.`), keys always in the same order:
 * `mode` is 4 octal digits; `mtime` is `SEC` or `SEC.NNNNNNNNN` (SEC rounded down, so
 * `-2.750000000` is 1.25 s before 1970); `size` for files; `target` for symlinks; `device`
 * [major, minor] for devices; `xattrs` by bytewise name with hex values, when there are any;
 * `hardlinkTo` the first path of a node seen before. A path or target that is not UTF-8 is a
 * string whose lone surrogates U+DC80..U+DCFF stand for bytes (JSON writes them `\udce9`),
 * and `pathHex` / `targetHex` then give the exact bytes (docs/names.md). Two Trees with equal JSON hold the same
 * entries and metadata (contents are compared by size only).
 */
export function treeToJson(tree: Tree): EntryJson[] {
  const out: EntryJson[] = [];
  for (const { path, node, linkTo } of tree.walk()) {
    const e: EntryJson = {
      path: path === '' ? '.' : path,
      type: node.kind,
      mode: node.mode.toString(8).padStart(4, '0'),
      uid: node.uid,
      gid: node.gid,
      mtime: node.mtime.nsec === 0 ? String(node.mtime.sec) : `${node.mtime.sec}.${String(node.mtime.nsec).padStart(9, '0')}`,
    };
    if (node.kind === 'file') e.size = node.content.size;
    if (node.kind === 'symlink') e.target = node.target;
    if (hasEscapedBytes(path)) e.pathHex = Buffer.from(nameBytes(path)).toString('hex');
    if (node.kind === 'symlink' && hasEscapedBytes(node.target)) e.targetHex = Buffer.from(nameBytes(node.target)).toString('hex');
    if (node.kind === 'char' || node.kind === 'block') e.device = [node.major, node.minor];
    if (node.xattrs.size > 0) {
      e.xattrs = {};
      for (const k of [...node.xattrs.keys()].sort(compareNames)) e.xattrs[k] = Buffer.from(node.xattrs.get(k)!).toString('hex');
    }
    if (linkTo !== undefined) e.hardlinkTo = linkTo;
    out.push(e);
  }
  return out;
}
