/**
 * The Tree that debugfs (e2fsprogs) gives of an ext2/3/4 image, built only from debugfs output,
 * for comparing with what our reader returns:
 *   names, types, inode numbers (hard links)  `ls -p DIR`, directory by directory
 *   modes, owners, mtime with nanoseconds,     `stat PATH` (the `mtime: 0xSEC:EXTRA` line, the
 *   device numbers, xattr names                 device line, the `Extended attributes:` section)
 *   xattr values                               `ea_get -f FILE PATH NAME`
 *   contents and symlink targets               `rdump / DIR`
 * Commands run in batches (`debugfs -f`), one debugfs process per directory level.
 */
import { readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesContent, fileContent } from '../../src/tree/content.js';
import { Tree, type Meta, type Node } from '../../src/tree/tree.js';
import { run } from '../helpers/tools.js';

interface LsEntry {
  ino: number;
  mode: number;
  name: string;
}

/** Runs `commands` in one debugfs process; returns each command's output, in order. */
export function debugfsBatch(image: string, commands: string[], work: string): string[] {
  const file = join(work, 'debugfs-commands');
  writeFileSync(file, commands.join('\n') + '\n');
  const out = run('debugfs', ['-f', file, image]).stdout.toString('utf8');
  // each command's output follows its echo "debugfs: <command>"
  const parts = out.split(/^debugfs: .*$/m);
  return parts.slice(1);
}

export function quote(path: string): string {
  if (path.includes('"')) throw new Error(`test tree path with a double quote: ${path}`);
  return `"${path}"`;
}

function parseLs(out: string): LsEntry[] {
  const entries: LsEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('/')) continue;
    const parts = line.slice(1, -1).split('/');
    const name = parts.slice(4, -1).join('/');
    // unused records (inode 0) of empty directory blocks are listed too
    if (name === '.' || name === '..' || parts[0] === '0') continue;
    entries.push({ ino: Number(parts[0]), mode: parseInt(parts[1]!, 8), name });
  }
  return entries;
}

export interface StatInfo {
  uid: number;
  gid: number;
  mode: number;
  mtime: { sec: number; nsec: number };
  device?: { major: number; minor: number };
  xattrNames: string[];
  /** i_size, and whether the data is inline (inline_data). */
  size: number;
  inline: boolean;
}

/** Decodes `mtime: 0xLOW[:EXTRA]` as the ext4 layout doc describes it (signed low word, epoch bits, ns << 2). */
export function parseStat(out: string): StatInfo {
  const user = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  const mode = /Mode:\s+(\d+)/.exec(out);
  const mtime = /^\s*mtime: 0x([0-9a-f]+)(?::([0-9a-f]+))?/m.exec(out);
  if (!user || !mode || !mtime) throw new Error(`unexpected debugfs stat output:\n${out}`);
  const low = parseInt(mtime[1]!, 16) | 0;
  const extra = mtime[2] === undefined ? 0 : parseInt(mtime[2], 16);
  const info: StatInfo = {
    uid: Number(user[1]),
    gid: Number(user[2]),
    mode: parseInt(mode[1]!, 8),
    mtime: { sec: low + (extra & 3) * 2 ** 32, nsec: Math.floor(extra / 4) },
    xattrNames: [],
    size: Number(/Size: (\d+)/.exec(out)?.[1] ?? NaN),
    inline: /Size of inline data: /.test(out),
  };
  const dev = /Device major\/minor number: (\d+):(\d+)/.exec(out);
  if (dev) info.device = { major: Number(dev[1]), minor: Number(dev[2]) };
  const xa = out.indexOf('Extended attributes:');
  if (xa >= 0) {
    for (const line of out.slice(xa).split('\n').slice(1)) {
      const m = /^ {2}(\S+) \((\d+)\)/.exec(line);
      if (!m) break;
      info.xattrNames.push(m[1]!);
    }
  }
  return info;
}

/**
 * The Tree debugfs shows of `image`, with contents from an rdump into `work/rdump`.
 * `system.data` (inline data) is left out, as the reader leaves it out.
 */
export function debugfsTree(image: string, work: string, options: { rdump?: boolean } = {}): Tree {
  const dump = join(work, 'rdump');
  if (options.rdump !== false) {
    run('mkdir', ['-p', dump]);
    run('debugfs', ['-R', `rdump / ${dump}`, image]);
  }
  // every path with its ls entry, level by level
  const all: Array<{ path: string; entry: LsEntry }> = [];
  let level = [''];
  while (level.length > 0) {
    const outs = debugfsBatch(image, level.map((d) => `ls -p ${quote('/' + d)}`), work);
    const next: string[] = [];
    level.forEach((dir, i) => {
      for (const entry of parseLs(outs[i]!)) {
        const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
        all.push({ path, entry });
        if ((entry.mode & 0o170000) === 0o040000) next.push(path);
      }
    });
    level = next;
  }
  const stats = debugfsBatch(image, ['stat /', ...all.map((e) => `stat ${quote('/' + e.path)}`)], work).map(parseStat);
  // xattr values, each to its own file
  const wanted: Array<{ index: number; name: string; file: string }> = [];
  stats.forEach((s, index) => {
    for (const name of s.xattrNames) {
      if (name === 'system.data') continue;
      wanted.push({ index, name, file: join(work, `xattr-${wanted.length}`) });
    }
  });
  if (wanted.length > 0) {
    debugfsBatch(image, wanted.map((w) => `ea_get -f ${w.file} ${quote(w.index === 0 ? '/' : '/' + all[w.index - 1]!.path)} ${w.name}`), work);
  }
  const xattrs = stats.map(() => new Map<string, Uint8Array>());
  for (const w of wanted) xattrs[w.index]!.set(w.name, new Uint8Array(readFileSync(w.file)));

  const meta = (i: number): Meta => ({ mode: stats[i]!.mode & 0o7777, uid: stats[i]!.uid, gid: stats[i]!.gid, mtime: stats[i]!.mtime, xattrs: xattrs[i]! });
  const tree = new Tree();
  Object.assign(tree.root, meta(0));
  const byInode = new Map<number, Node>();
  all.forEach(({ path, entry }, k) => {
    const i = k + 1;
    const known = byInode.get(entry.ino);
    if (known) {
      tree.set(path, known);
      return;
    }
    const m = meta(i);
    let node: Node;
    switch (entry.mode & 0o170000) {
      case 0o040000:
        node = { kind: 'dir', ...m, children: new Map() };
        break;
      case 0o100000: {
        const file = join(dump, path);
        let content = options.rdump === false ? fileContent('/dev/null', 0) : fileContent(file, statSync(file).size);
        // debugfs 1.47.0 dumps an inline-data file padded to its whole inline area (60 bytes or
        // more): the file holds the first i_size bytes, as `stat` shows
        if (options.rdump !== false && stats[i]!.inline) content = bytesContent(readFileSync(file).subarray(0, stats[i]!.size), file);
        node = { kind: 'file', ...m, content };
        break;
      }
      case 0o120000:
        node = { kind: 'symlink', ...m, target: options.rdump === false ? '' : readlinkSync(join(dump, path)) };
        break;
      case 0o020000:
      case 0o060000:
        node = { kind: (entry.mode & 0o170000) === 0o020000 ? 'char' : 'block', ...m, ...stats[i]!.device! };
        break;
      case 0o010000:
        node = { kind: 'fifo', ...m };
        break;
      case 0o140000:
        node = { kind: 'socket', ...m };
        break;
      default:
        throw new Error(`debugfs: ${path} has unknown mode ${entry.mode.toString(8)}`);
    }
    if (node.kind !== 'dir') byInode.set(entry.ino, node);
    tree.set(path, node);
  });
  return tree;
}

/**
 * debugfs 1.47 converts ext4's short ACL entries with id 0, where the kernel and getfattr give
 * ACL_UNDEFINED_ID (0xffffffff), as the reader does. Normalizes debugfs's form to the kernel's.
 */
export function kernelAclForm(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(value);
  const v = new DataView(out.buffer);
  for (let at = 4; at + 8 <= out.length; at += 8) {
    const tag = v.getUint16(at, true);
    if (tag === 0x01 || tag === 0x04 || tag === 0x10 || tag === 0x20) v.setUint32(at + 4, 0xffffffff, true);
  }
  return out;
}

/** Applies kernelAclForm to every ACL xattr of `tree`. */
export function normalizeAcls(tree: Tree): void {
  for (const { node } of tree.walk()) {
    for (const name of ['system.posix_acl_access', 'system.posix_acl_default']) {
      const v = node.xattrs.get(name);
      if (v) node.xattrs.set(name, kernelAclForm(v));
    }
  }
}
