/**
 * The metadata policy (docs/metadata-policy.md): what a Tree looks like once the parts that
 * depend on the build machine are taken out. Applied in place, in a fixed order: excludes,
 * emptied files, owners, permissions, then mtime clamping. The result depends only on the Tree
 * and the policy.
 */
import { ReprimageError } from '../errors.js';
import { bytesContent } from './content.js';
import { compileExcludes, type PathMatcher } from './excludes.js';
import { joinPath } from './names.js';
import type { DirNode, Node, Tree } from './tree.js';

export interface MetadataPolicy {
  /** SOURCE_DATE_EPOCH in seconds (a non-negative integer). */
  buildTime: number;
  /** true: an mtime later than the epoch becomes the epoch, with nanoseconds 0. */
  clampMtime: boolean;
  /** 'root': every entry becomes uid 0, gid 0. */
  owner: 'keep' | 'root';
  /** 'normalize': modes as `normalizedMode` gives them. */
  permissions: 'keep' | 'normalize';
  /** Patterns (see excludes.ts) of entries to leave out, with everything under them. */
  excludes: string[];
  /** Patterns of regular files to keep with no contents. */
  emptyFiles: string[];
}

/**
 * The build time in seconds: `option` (from `--source-date-epoch`), else `env` (the
 * SOURCE_DATE_EPOCH variable; empty counts as unset). A value must be a non-negative decimal
 * integer, as the reproducible-builds specification says; anything else is a USAGE error
 * naming SOURCE_DATE_EPOCH. When neither is set: a warning, and the newest mtime in `tree`
 * (0 for no tree or nothing newer than 1970) — never the clock.
 */
export function resolveSourceDateEpoch(input: { option?: string; env?: string; tree?: Tree; warn: (m: string) => void }): number {
  if (input.option !== undefined) return parseEpoch(input.option, '--source-date-epoch');
  if (input.env !== undefined && input.env !== '') return parseEpoch(input.env, 'SOURCE_DATE_EPOCH');
  let newest = 0;
  if (input.tree) for (const { node } of input.tree.walk()) if (node.mtime.sec > newest) newest = node.mtime.sec;
  input.warn(`SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (${newest})`);
  return newest;
}

function parseEpoch(text: string, subject: string): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ReprimageError('USAGE', subject, `SOURCE_DATE_EPOCH must be a non-negative whole number of seconds since 1970-01-01 UTC, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * Applies `policy` to `tree` in place: (1) excluded entries and their subtrees are removed;
 * (2) matching regular files get empty contents (a hard-linked file is emptied under all its
 * names, being one file); (3) owners; (4) permissions; (5) mtimes clamped. Each node is changed
 * once however many names it has.
 */
export function applyPolicy(tree: Tree, policy: MetadataPolicy): void {
  if (policy.clampMtime && !(Number.isSafeInteger(policy.buildTime) && policy.buildTime >= 0)) {
    throw new ReprimageError('USAGE', 'SOURCE_DATE_EPOCH', `must be a non-negative whole number, got ${policy.buildTime}`);
  }
  if (policy.excludes.length > 0) prune(tree.root, '', compileExcludes(policy.excludes, 'exclude patterns'));
  if (policy.emptyFiles.length > 0) {
    const empty = compileExcludes(policy.emptyFiles, 'empty-file patterns');
    for (const { path, node } of tree.walk()) {
      if (node.kind === 'file' && node.content.size > 0 && empty(path)) node.content = bytesContent(new Uint8Array(0), `${node.content.origin} (emptied)`);
    }
  }
  // every node once, in any order (each change is to that node alone): no sorting, no paths
  const done = new Set<Node>();
  const stack: Node[] = [tree.root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (done.has(node)) continue;
    done.add(node);
    if (node.kind === 'dir') for (const child of node.children.values()) stack.push(child);
    if (policy.owner === 'root') {
      node.uid = 0;
      node.gid = 0;
    }
    if (policy.permissions === 'normalize') node.mode = normalizedMode(node);
    if (policy.clampMtime) node.mtime = clampTime(node.mtime, policy.buildTime);
  }
}

/** `time` if it is not later than `epoch` seconds, else exactly `epoch` (nanoseconds dropped). */
export function clampTime(time: { sec: number; nsec: number }, epoch: number): { sec: number; nsec: number } {
  return time.sec > epoch || (time.sec === epoch && time.nsec > 0) ? { sec: epoch, nsec: 0 } : time;
}

function prune(dir: DirNode, path: string, excluded: PathMatcher): void {
  for (const [name, child] of dir.children) {
    const childPath = joinPath(path, name);
    if (excluded(childPath)) dir.children.delete(name);
    else if (child.kind === 'dir') prune(child, childPath, excluded);
  }
}

/**
 * A mode that does not depend on the umask of the machine that made the tree. A umask only ever
 * clears the group and other bits, so the result is computed from what survives any umask: the
 * owner's read and write bits, whether any execute bit is set, and the setuid, setgid and
 * sticky bits (which no umask clears). Regular files and directories: read for everyone if the
 * owner can read, write for the owner if the owner can write, execute/search for everyone if
 * anyone can; 0644, 0755, 0444 and 0555 come out unchanged, and 0600, 0640, 0664, 0700, 0775
 * become 0644 or 0755. The special bits are kept (sudo stays 4755). A sticky directory is a
 * shared writable one, so it also gets group and other write when the owner can write: /tmp
 * stays 1777 even when a umask made it 1755. Symlinks are 0777 (Linux ignores their mode).
 * Devices, fifos and sockets keep their modes: 0600 for a console and 0666 for null are access
 * policy, set explicitly by mknod -m, not by the umask.
 */
export function normalizedMode(node: Node): number {
  switch (node.kind) {
    case 'symlink':
      return 0o777;
    case 'file':
    case 'dir': {
      const m = node.mode;
      let out = m & 0o7000;
      if (m & 0o400) out |= 0o444;
      if (m & 0o200) out |= 0o200;
      if (m & 0o111) out |= 0o111;
      if (node.kind === 'dir' && m & 0o1000 && m & 0o200) out |= 0o022;
      return out;
    }
    default:
      return node.mode;
  }
}
