/**
 * The contract of a root file system fix-up: one problem, one module, with the reason in its doc
 * comment (docs/fixups.md gathers them). A fix-up changes the Tree in place and reports each
 * path it changed; it reads no clock and depends on nothing but the Tree and the options.
 */
import { bytesContent, readContent } from '../../tree/content.js';
import type { FileNode, Node, Tree } from '../../tree/tree.js';
import type { TreeFileResult } from '../tree.js';

export const FIXUP_IDS = [
  'listed-paths', 'shadow', 'machine-id', 'dbus-machine-id', 'random-seed', 'ldconfig-aux-cache', 'fontconfig-cache',
  'gdk-pixbuf-loaders', 'gio-modules', 'gtk-immodules', 'mimeinfo-cache', 'cracklib', 'logs', 'apt-lists', 'backup-files',
  'pyc', 'normalize', 'clamp-times',
] as const;
export type FixupId = (typeof FIXUP_IDS)[number];

export type FixupAction = 'removed' | 'emptied' | 'rewritten' | 'replaced-by-symlink' | 'normalized';

export interface FixupChange {
  fixup: FixupId;
  path: string;
  action: FixupAction;
  /** What changed, in a few words (`3 entries reordered`, `gzip handler`). */
  detail?: string;
}

export interface FixupOptions {
  /** SOURCE_DATE_EPOCH, in seconds: times are clamped to it and dates derived from it. */
  buildTime: number;
  /** Paths removed (with everything under them), in the pattern syntax of src/tree/excludes.ts. */
  remove?: readonly string[];
  /** Regular files emptied (kept with their metadata), same pattern syntax. */
  empty?: readonly string[];
  /** What `/etc/machine-id` becomes: `uninitialized\n` (default, systemd's first-boot marker), empty, or removed. */
  machineId?: 'uninitialized' | 'empty' | 'remove';
  /** `remove` (default): the fontconfig system caches are deleted; `keep`: left (times clamped). */
  fontconfig?: 'remove' | 'keep';
  /** `remove` (default): every `.pyc` file goes; `normalize`: kept and normalized by the pyc handler. */
  pyc?: 'remove' | 'normalize';
  /** Fix-ups not to run. */
  skip?: readonly FixupId[];
}

/** What the fix-ups that touch many entries report as totals rather than path by path. */
export interface FixupStats {
  /** Entries whose mtime was lowered to SOURCE_DATE_EPOCH. */
  clampedTimes: number;
  /** Every file a normalize handler recognised, with what happened to it. */
  normalize: TreeFileResult[];
}

export interface FixupContext {
  readonly tree: Tree;
  readonly options: FixupOptions;
  readonly stats: FixupStats;
  record(path: string, action: FixupAction, detail?: string): void;
}

export interface Fixup {
  readonly id: FixupId;
  /** One line: what it does. The reason is in the module's doc comment and docs/fixups.md. */
  readonly summary: string;
  apply(ctx: FixupContext): Promise<void>;
}

/** The regular file at `path`, or undefined when it is missing or something else. */
export function fileAt(tree: Tree, path: string): FileNode | undefined {
  const node = tree.get(path);
  return node?.kind === 'file' ? node : undefined;
}

/** Every path under `dir` (not `dir` itself), with its node, in walk order; hard links included. */
export function pathsUnder(tree: Tree, dir: string): Array<{ path: string; node: Node }> {
  const out: Array<{ path: string; node: Node }> = [];
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const { path, node } of tree.walk()) if (path.startsWith(prefix) && path !== dir && path !== '') out.push({ path, node });
  return out;
}

/** Fix-ups read small text files (configuration, caches) whole, one character per byte, so bytes they do not change survive exactly. */
export async function readText(node: FileNode): Promise<string> {
  return Buffer.from(await readContent(node.content)).toString('latin1');
}

/** Gives a file new contents, keeping everything else of the node (and its hard links). */
export function setText(node: FileNode, text: string, origin: string): void {
  node.content = bytesContent(Buffer.from(text, 'latin1'), `${origin} (fixed up)`);
}

/** Removes `path` and reports it; returns whether it existed. */
export function removeAndRecord(ctx: FixupContext, path: string, detail?: string): boolean {
  if (!ctx.tree.remove(path)) return false;
  ctx.record(path, 'removed', detail);
  return true;
}

/** The names in directory `dir` matching `pattern`, bytewise sorted. */
export function namesIn(tree: Tree, dir: string, pattern: RegExp): string[] {
  const node = tree.get(dir);
  if (node?.kind !== 'dir') return [];
  return [...node.children.keys()].filter((n) => pattern.test(n)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
