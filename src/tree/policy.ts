/**
 * The metadata policy (docs/metadata-policy.md): what a Tree looks like after the build-machine
 * dependent parts are taken out. Applied in place, in a fixed order: excludes, emptied files,
 * owners, permissions, then mtime clamping.
 */
import { ReprimageError } from '../errors.js';
import { emptyContent } from './content.js';
import { compileExcludes } from './excludes.js';
import type { Node, Tree } from './tree.js';

export interface MetadataPolicy {
  /** SOURCE_DATE_EPOCH in seconds. */
  sourceDateEpoch: number;
  /** Mtimes later than the epoch become the epoch (nanoseconds dropped with them). */
  clampMtime: boolean;
  owner: 'keep' | 'root';
  permissions: 'keep' | 'normalize';
  excludes: string[];
  emptyFiles: string[];
}

/**
 * The build time: the option, else the environment, else (with a warning) the newest mtime in
 * the input — never the clock. Must be a non-negative decimal integer (reproducible-builds spec).
 */
export function resolveSourceDateEpoch(input: { option?: string; env?: string; tree?: Tree; warn: (m: string) => void }): number {
  const given = input.option ?? input.env;
  const name = input.option !== undefined ? '--source-date-epoch' : 'SOURCE_DATE_EPOCH';
  if (given !== undefined && given !== '') {
    if (!/^\d+$/.test(given) || !Number.isSafeInteger(Number(given))) {
      throw new ReprimageError('USAGE', name, `must be a whole number of seconds since 1970, got '${given}'`);
    }
    return Number(given);
  }
  let newest = 0;
  if (input.tree) for (const { node } of input.tree.walk()) newest = Math.max(newest, node.mtime.sec);
  input.warn(`SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (${newest})`);
  return newest;
}

export function applyPolicy(tree: Tree, policy: MetadataPolicy): void {
  if (policy.excludes.length > 0) {
    const excluded = compileExcludes(policy.excludes, 'exclude patterns');
    for (const { path } of [...tree.walk()]) if (path !== '' && tree.get(path) && excluded(path)) tree.remove(path);
  }
  if (policy.emptyFiles.length > 0) {
    const empty = compileExcludes(policy.emptyFiles, 'empty-file patterns');
    for (const { path, node } of tree.walk()) if (node.kind === 'file' && empty(path)) node.content = emptyContent;
  }
  const done = new Set<Node>();
  for (const { node } of tree.walk()) {
    if (done.has(node)) continue;
    done.add(node);
    if (policy.owner === 'root') {
      node.uid = 0;
      node.gid = 0;
    }
    if (policy.permissions === 'normalize') node.mode = normalizedMode(node);
    if (policy.clampMtime && node.mtime.sec >= policy.sourceDateEpoch && (node.mtime.sec > policy.sourceDateEpoch || node.mtime.nsec > 0)) {
      node.mtime = { sec: policy.sourceDateEpoch, nsec: 0 };
    }
  }
}

/**
 * Modes that do not depend on the umask of the machine that made the tree: symlinks 0777;
 * directories 0755; files 0755 if any execute bit is set, else 0644; devices, fifos and
 * sockets keep their read/write bits for the owner, group and others as given, because those
 * are policy (0600 console, 0666 null) rather than umask. The setuid, setgid and sticky bits
 * are kept everywhere: they are deliberate (sudo, /tmp).
 */
export function normalizedMode(node: Node): number {
  const special = node.mode & 0o7000;
  switch (node.kind) {
    case 'symlink':
      return 0o777;
    case 'dir':
      return special | 0o755;
    case 'file':
      return special | (node.mode & 0o111 ? 0o755 : 0o644);
    default:
      return node.mode;
  }
}
