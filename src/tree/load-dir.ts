/**
 * Loads a directory on disk into a Tree: every entry type, numeric owners, nanosecond mtimes,
 * hard links (by device and inode), device numbers and extended attributes. Symlinks inside the
 * tree are never followed; the listing order of the OS never matters (names are inserted in
 * bytewise order, and the Tree sorts anyway). File contents stay on disk until a writer reads
 * them.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { ReprimageError, fromSystemError } from '../errors.js';
import { fileContent } from './content.js';
import { dumpXattrs, type XattrRecord } from './getfattr.js';
import { compareNames, displayName, fsPath, joinPath, nameFromBytes } from './names.js';
import { NO_XATTRS, Tree, newMeta, ownXattrs, type Meta, type Node } from './tree.js';

export interface LoadDirectoryOptions {
  /** Read extended attributes with getfattr (default true). */
  xattrs?: boolean;
  /**
   * Do not descend into other file systems, like `mksquashfs -one-file-system` (4.6): a mount
   * point becomes an empty directory, and a non-directory mounted from elsewhere is left out.
   */
  oneFileSystem?: boolean;
  /** Where warnings go (default: stderr). */
  warn?: (message: string) => void;
}

export const GETFATTR_MISSING = 'getfattr not found: extended attributes are not read; install the attr package';

/**
 * Linux's encoding of st_rdev (glibc `gnu_dev_major`/`gnu_dev_minor`): the major number is bits
 * 8–19 and 44–63, the minor number bits 0–7 and 20–43.
 */
export function splitDevice(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * Reads the directory `root` (a symlink to a directory is resolved first) into a new Tree. The
 * root's own metadata becomes the Tree root's. Errors name the path: a missing root is
 * NOT_FOUND, a root that is not a directory is USAGE, an unreadable entry is IO. A name or link
 * target that is not UTF-8 is kept as its bytes (escaped, see names.ts). Without getfattr, extended attributes are skipped with one warning.
 */
export async function loadDirectory(root: string, options: LoadDirectoryOptions = {}): Promise<Tree> {
  const warn = options.warn ?? ((m: string) => process.stderr.write(`reprimage: warning: ${m}\n`));
  const top = resolveRoot(root);
  const rootStat = statOf(top);
  if (!rootStat.isDirectory()) throw new ReprimageError('USAGE', root, 'not a directory');
  const tree = new Tree();
  Object.assign(tree.root, metaOf(rootStat));
  // getfattr walks the tree in its own process while this one lists it
  const xattrs = (options.xattrs ?? true) ? dumpXattrs(top, { oneFileSystem: options.oneFileSystem === true }) : undefined;
  xattrs?.catch(() => undefined); // awaited below; a failed listing must not leave it unhandled
  const byInode = new Map<string, Node>();
  const pending: Array<[string, string]> = [['', top]];
  while (pending.length > 0) {
    const [treeDir, diskDir] = pending.pop()!;
    const dir = tree.get(treeDir);
    if (dir?.kind !== 'dir') throw new Error(`internal: ${treeDir} is not a loaded directory`);
    for (const name of listNames(diskDir)) {
      // diskDir is a real path and a listed name has no slash: join() would only re-normalize it
      const diskPath = diskDir === '/' ? `/${name}` : `${diskDir}/${name}`;
      const st = statOf(diskPath);
      const otherFs = options.oneFileSystem === true && st.dev !== rootStat.dev;
      if (st.isDirectory()) {
        dir.children.set(name, { kind: 'dir', ...metaOf(st), children: new Map() });
        if (!otherFs) pending.push([joinPath(treeDir, name), diskPath]);
        continue;
      }
      if (otherFs) continue;
      const key = `${st.dev}:${st.ino}`;
      let node = st.nlink > 1n ? byInode.get(key) : undefined;
      if (!node) {
        node = nodeOf(st, diskPath);
        if (st.nlink > 1n) byInode.set(key, node);
      }
      dir.children.set(name, node);
    }
  }
  if (xattrs) addXattrs(top, tree, await xattrs, warn);
  return tree;
}

function resolveRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch (e) {
    throw fromSystemError(e, root);
  }
}

/**
 * The names in a directory, bytewise sorted. Names are read as bytes: one that is not UTF-8
 * enters the Tree with its bytes escaped (names.ts), never replaced by U+FFFD.
 */
function listNames(diskDir: string): string[] {
  try {
    return readdirSync(fsPath(diskDir), { encoding: 'buffer' }).map(nameFromBytes).sort(compareNames);
  } catch (e) {
    throw fromSystemError(e, displayName(diskDir));
  }
}

/** Synchronous on purpose: one stat per entry through the thread pool doubles the load time. */
function statOf(path: string): BigIntStats {
  try {
    return lstatSync(fsPath(path), { bigint: true });
  } catch (e) {
    throw fromSystemError(e, displayName(path));
  }
}

function metaOf(st: BigIntStats): Meta {
  const ns = st.mtimeNs;
  // floor division, so that a time before 1970 keeps 0 <= nsec < 1e9
  let sec = ns / 1_000_000_000n;
  if (sec * 1_000_000_000n > ns) sec -= 1n;
  return newMeta({
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: { sec: Number(sec), nsec: Number(ns - sec * 1_000_000_000n) },
    xattrs: NO_XATTRS, // until getfattr lists some (addXattrs)
  });
}

function nodeOf(st: BigIntStats, diskPath: string): Node {
  const meta = metaOf(st);
  if (st.isFile()) return { kind: 'file', ...meta, content: fileContent(diskPath, Number(st.size)) };
  if (st.isSymbolicLink()) {
    try {
      return { kind: 'symlink', ...meta, target: nameFromBytes(readlinkSync(fsPath(diskPath), { encoding: 'buffer' })) };
    } catch (e) {
      throw fromSystemError(e, displayName(diskPath));
    }
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return { kind: st.isCharacterDevice() ? 'char' : 'block', ...meta, ...splitDevice(st.rdev) };
  }
  if (st.isFIFO()) return { kind: 'fifo', ...meta };
  if (st.isSocket()) return { kind: 'socket', ...meta };
  throw new ReprimageError('UNSUPPORTED', displayName(diskPath), 'unknown file type');
}

/** Attaches getfattr's records to the loaded nodes, each node's names in bytewise order. */
function addXattrs(top: string, tree: Tree, records: XattrRecord[] | undefined, warn: (m: string) => void): void {
  if (records === undefined) {
    warn(GETFATTR_MISSING);
    return;
  }
  for (const record of records) {
    const rel = relativeTo(top, record.path);
    const node = rel === undefined ? undefined : tree.get(rel);
    if (!node) continue; // left out (other file system) or created after the listing
    const own = ownXattrs(node);
    for (const name of [...record.xattrs.keys()].sort(compareNames)) own.set(name, record.xattrs.get(name)!);
  }
}

/** The Tree path of `path` printed by getfattr under `top` (which prints `top//x` for `top/`). */
function relativeTo(top: string, path: string): string | undefined {
  if (path === top) return '';
  const prefix = top === '/' ? '/' : `${top}/`;
  if (!path.startsWith(prefix)) return undefined;
  return path.slice(prefix.length).replace(/^\/+/, '');
}
