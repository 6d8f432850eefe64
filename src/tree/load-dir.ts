/**
 * Loads a directory on disk into a Tree: every entry type, numeric owners, nanosecond mtimes,
 * hard links (by device and inode), device numbers and extended attributes. Symlinks are never
 * followed; listing order does not matter because the Tree sorts. Contents stay on disk.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ReprimageError, fromSystemError } from '../errors.js';
import { fileContent } from './content.js';
import { joinPath } from './names.js';
import { Tree, newMeta, type Meta, type Node } from './tree.js';

export interface LoadDirectoryOptions {
  /** Read extended attributes with getfattr (default true). */
  xattrs?: boolean;
  /** Do not descend into other file systems (like mksquashfs -one-file-system). */
  oneFileSystem?: boolean;
  warn?: (message: string) => void;
}

/** Linux's encoding of st_rdev into major and minor numbers. */
export function splitDevice(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

export async function loadDirectory(root: string, options: LoadDirectoryOptions = {}): Promise<Tree> {
  const warn = options.warn ?? (() => undefined);
  const rootStat = await statOf(root);
  if (!rootStat.isDirectory()) throw new ReprimageError('USAGE', root, 'not a directory');
  const tree = new Tree();
  Object.assign(tree.root, metaOf(rootStat));
  const byInode = new Map<string, Node>();
  const pending: Array<[string, string]> = [['', root]];
  while (pending.length > 0) {
    const [treeDir, diskDir] = pending.pop()!;
    let names: string[];
    try {
      names = readdirSync(diskDir);
    } catch (e) {
      throw fromSystemError(e, diskDir);
    }
    for (const name of names) {
      const diskPath = join(diskDir, name);
      const treePath = joinPath(treeDir, name);
      const st = await statOf(diskPath);
      if (st.isDirectory()) {
        if (options.oneFileSystem && st.dev !== rootStat.dev) continue;
        tree.set(treePath, { kind: 'dir', ...metaOf(st), children: new Map() });
        pending.push([treePath, diskPath]);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      const seen = st.nlink > 1n ? byInode.get(key) : undefined;
      if (seen) {
        tree.set(treePath, seen);
        continue;
      }
      const node = await nodeOf(st, diskPath);
      if (st.nlink > 1n) byInode.set(key, node);
      tree.set(treePath, node);
    }
  }
  if (options.xattrs ?? true) await readXattrs(root, tree, warn);
  return tree;
}

/** Synchronous on purpose: one stat per entry through the thread pool doubles the load time. */
async function statOf(path: string): Promise<BigIntStats> {
  try {
    return lstatSync(path, { bigint: true });
  } catch (e) {
    throw fromSystemError(e, path);
  }
}

function metaOf(st: BigIntStats): Meta {
  const ns = st.mtimeNs;
  const sec = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n);
  return newMeta({
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: { sec: Number(sec), nsec: Number(ns - sec * 1_000_000_000n) },
  });
}

async function nodeOf(st: BigIntStats, diskPath: string): Promise<Node> {
  const meta = metaOf(st);
  if (st.isFile()) return { kind: 'file', ...meta, content: fileContent(diskPath, Number(st.size)) };
  if (st.isSymbolicLink()) {
    try {
      return { kind: 'symlink', ...meta, target: readlinkSync(diskPath) };
    } catch (e) {
      throw fromSystemError(e, diskPath);
    }
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return { kind: st.isCharacterDevice() ? 'char' : 'block', ...meta, ...splitDevice(st.rdev) };
  }
  if (st.isFIFO()) return { kind: 'fifo', ...meta };
  if (st.isSocket()) return { kind: 'socket', ...meta };
  throw new ReprimageError('UNSUPPORTED', diskPath, 'unknown file type');
}

/**
 * Node has no xattr API and reprimage takes no native addon that needs a compiler, so one
 * `getfattr -R` run reads the attributes of the whole tree. Its output names each file with
 * octal escapes for unusual bytes and gives every value in hex.
 */
async function readXattrs(root: string, tree: Tree, warn: (m: string) => void): Promise<void> {
  const output = await new Promise<string | undefined>((resolve, reject) => {
    const child = spawn('getfattr', ['--absolute-names', '--no-dereference', '-R', '-d', '-m', '-', '-e', 'hex', '--', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? resolve(undefined) : reject(e)));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8').trim();
      // getfattr exits 1 when some file has no attribute support; only real errors matter
      if (code !== 0 && /Permission denied|Input\/output error/.test(stderr)) {
        reject(new ReprimageError('IO', root, `getfattr failed: ${stderr.split('\n')[0]}`));
      } else resolve(Buffer.concat(out).toString('latin1'));
    });
  });
  if (output === undefined) {
    warn('getfattr not found: extended attributes are not read (install the attr package, or pass --no-xattrs)');
    return;
  }
  const prefix = root.endsWith('/') ? root : `${root}/`;
  let current: Node | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = Buffer.from(unescapeOctal(line.slice(8)), 'latin1').toString('utf8');
      const rel = path === root || path === prefix.slice(0, -1) ? '' : path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
      current = rel === undefined ? undefined : tree.get(rel);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) continue;
    const name = Buffer.from(unescapeOctal(line.slice(0, eq)), 'latin1').toString('utf8');
    const value = line.slice(eq + 1);
    current.xattrs.set(name, value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.alloc(0));
  }
}

/** getfattr writes bytes outside printable ASCII (and `\`, `=`, newline) as `\ooo`. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
