/**
 * File lists (docs/file-list.md): lines that add, change or remove Tree entries without root
 * privileges. The entry lines of the kernel's gen_init_cpio are accepted verbatim
 * (file, dir, nod, slink, pipe, sock); reprimage adds link, mod, mtime, xattr and rm.
 */
import { isAbsolute, resolve } from 'node:path';
import { lstat } from 'node:fs/promises';
import { ReprimageError, fromSystemError } from '../errors.js';
import { fileContent } from './content.js';
import { toTreePath } from './names.js';
import { newMeta, type Meta, type Node, type Tree } from './tree.js';

export type FileListEntry =
  | { op: 'file'; line: string; name: string; location: string; meta: Owned; links: string[] }
  | { op: 'dir' | 'pipe' | 'sock'; line: string; name: string; meta: Owned }
  | { op: 'nod'; line: string; name: string; meta: Owned; type: 'b' | 'c'; major: number; minor: number }
  | { op: 'slink'; line: string; name: string; target: string; meta: Owned }
  | { op: 'link'; line: string; name: string; existing: string }
  | { op: 'mod'; line: string; name: string; mode?: number; uid?: number; gid?: number }
  | { op: 'mtime'; line: string; name: string; sec: number }
  | { op: 'xattr'; line: string; name: string; key: string; value: Uint8Array }
  | { op: 'rm'; line: string; name: string };

/** Mode, uid and gid as a line gives them. */
interface Owned {
  mode: number;
  uid: number;
  gid: number;
}

const ARITY: Record<FileListEntry['op'], [number, number]> = {
  file: [5, Infinity],
  dir: [4, 4],
  pipe: [4, 4],
  sock: [4, 4],
  nod: [7, 7],
  slink: [5, 5],
  link: [2, 2],
  mod: [4, 4],
  mtime: [2, 2],
  xattr: [3, 3],
  rm: [1, 1],
};

export function parseFileList(text: string, subject: string): FileListEntry[] {
  const entries: FileListEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const where = `${subject}:${i + 1}`;
    const words = tokenize(raw.replace(/\r$/, ''), where);
    if (words.length === 0) return;
    const [op, ...args] = words as [string, ...string[]];
    if (!(op in ARITY)) throw new ReprimageError('USAGE', where, `unknown line type '${op}' (known: ${Object.keys(ARITY).join(', ')})`);
    const [min, max] = ARITY[op as FileListEntry['op']];
    if (args.length < min || args.length > max) {
      throw new ReprimageError('USAGE', where, `'${op}' takes ${min === max ? min : `at least ${min}`} fields, got ${args.length}`);
    }
    const name = toTreePath(args[0]!, where, { allowAbsolute: true });
    const owned = (at: number): Owned => ({ mode: num(args[at]!, 8, where, 'mode', 0o7777), uid: num(args[at + 1]!, 10, where, 'uid'), gid: num(args[at + 2]!, 10, where, 'gid') });
    switch (op) {
      case 'file':
        entries.push({ op, line: where, name, location: args[1]!, meta: owned(2), links: args.slice(5).map((l) => toTreePath(l, where, { allowAbsolute: true })) });
        break;
      case 'dir':
      case 'pipe':
      case 'sock':
        entries.push({ op, line: where, name, meta: owned(1) });
        break;
      case 'nod': {
        const type = args[4];
        if (type !== 'b' && type !== 'c') throw new ReprimageError('USAGE', where, `device type must be b or c, got '${type}'`);
        entries.push({ op, line: where, name, meta: owned(1), type, major: num(args[5]!, 10, where, 'major'), minor: num(args[6]!, 10, where, 'minor') });
        break;
      }
      case 'slink':
        entries.push({ op, line: where, name, target: args[1]!, meta: owned(2) });
        break;
      case 'link':
        entries.push({ op, line: where, name, existing: toTreePath(args[1]!, where, { allowAbsolute: true }) });
        break;
      case 'mod': {
        const opt = (v: string, base: 8 | 10, what: string, max?: number) => (v === '-' ? undefined : num(v, base, where, what, max));
        entries.push({ op, line: where, name, mode: opt(args[1]!, 8, 'mode', 0o7777), uid: opt(args[2]!, 10, 'uid'), gid: opt(args[3]!, 10, 'gid') });
        break;
      }
      case 'mtime':
        entries.push({ op, line: where, name, sec: num(args[1]!, 10, where, 'mtime') });
        break;
      case 'xattr':
        entries.push({ op, line: where, name, key: args[1]!, value: xattrValue(args[2]!, where) });
        break;
      case 'rm':
        entries.push({ op, line: where, name });
        break;
    }
  });
  return entries;
}

/** Applies parsed lines in order. A `file` line's location resolves against `baseDir`. */
export async function applyFileList(tree: Tree, entries: FileListEntry[], options: { baseDir: string }): Promise<void> {
  for (const e of entries) {
    const existing = (path: string): Node => {
      const node = tree.get(path);
      if (!node) throw new ReprimageError('NOT_FOUND', e.line, `no entry '/${path}' in the tree`);
      return node;
    };
    const meta = (o: Owned): Meta => newMeta({ ...o, mtime: tree.root.mtime });
    switch (e.op) {
      case 'file': {
        const location = isAbsolute(e.location) ? e.location : resolve(options.baseDir, e.location);
        let size: number;
        try {
          const st = await lstat(location);
          if (!st.isFile()) throw new ReprimageError('USAGE', e.line, `${location} is not a regular file`);
          size = st.size;
        } catch (err) {
          throw fromSystemError(err, location);
        }
        const node: Node = { kind: 'file', ...meta(e.meta), content: fileContent(location, size) };
        tree.set(e.name, node);
        for (const link of e.links) tree.set(link, node);
        break;
      }
      case 'dir': {
        const old = tree.get(e.name);
        if (old?.kind === 'dir') Object.assign(old, { mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid });
        else tree.set(e.name, { kind: 'dir', ...meta(e.meta), children: new Map() });
        break;
      }
      case 'pipe':
        tree.set(e.name, { kind: 'fifo', ...meta(e.meta) });
        break;
      case 'sock':
        tree.set(e.name, { kind: 'socket', ...meta(e.meta) });
        break;
      case 'nod':
        tree.set(e.name, { kind: e.type === 'c' ? 'char' : 'block', ...meta(e.meta), major: e.major, minor: e.minor });
        break;
      case 'slink':
        tree.set(e.name, { kind: 'symlink', ...meta(e.meta), target: e.target });
        break;
      case 'link': {
        const node = existing(e.existing);
        if (node.kind === 'dir') throw new ReprimageError('USAGE', e.line, `cannot hard-link the directory '/${e.existing}'`);
        tree.set(e.name, node);
        break;
      }
      case 'mod': {
        const node = existing(e.name);
        if (e.mode !== undefined) node.mode = e.mode;
        if (e.uid !== undefined) node.uid = e.uid;
        if (e.gid !== undefined) node.gid = e.gid;
        break;
      }
      case 'mtime':
        existing(e.name).mtime = { sec: e.sec, nsec: 0 };
        break;
      case 'xattr':
        existing(e.name).xattrs.set(e.key, e.value);
        break;
      case 'rm':
        if (e.name === '' || !tree.remove(e.name)) throw new ReprimageError('NOT_FOUND', e.line, `no entry '/${e.name}' to remove`);
        break;
    }
  }
}

function num(text: string, base: 8 | 10, where: string, what: string, max = 0xffffffff): number {
  const ok = base === 8 ? /^[0-7]+$/.test(text) : /^\d+$/.test(text);
  const n = ok ? parseInt(text, base) : NaN;
  if (!(n >= 0 && n <= max)) throw new ReprimageError('USAGE', where, `bad ${what} '${text}'`);
  return n;
}

/** Text, or `0x…` hex, or `0s…` base64, as getfattr prints values. */
function xattrValue(text: string, where: string): Uint8Array {
  if (/^0x[0-9a-fA-F]*$/.test(text)) {
    if (text.length % 2 !== 0) throw new ReprimageError('USAGE', where, 'hex xattr value has an odd number of digits');
    return Buffer.from(text.slice(2), 'hex');
  }
  if (text.startsWith('0s')) return Buffer.from(text.slice(2), 'base64');
  return Buffer.from(text, 'utf8');
}

/** Splits on blanks; `"…"` quotes, with `\"`, `\\`, `\n`, `\t` and `\ooo` escapes inside. `#` starts a comment. */
function tokenize(line: string, where: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    if (c === '"') {
      let word = '';
      i++;
      while (true) {
        if (i >= line.length) throw new ReprimageError('USAGE', where, 'unterminated quote');
        const d = line[i]!;
        if (d === '"') break;
        if (d === '\\') {
          const rest = line.slice(i + 1);
          const octal = /^[0-7]{3}/.exec(rest);
          if (octal) {
            word += String.fromCharCode(parseInt(octal[0], 8));
            i += 4;
            continue;
          }
          const e = rest[0];
          word += e === 'n' ? '\n' : e === 't' ? '\t' : (e ?? '');
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      words.push(word);
      i++;
      continue;
    }
    let end = i;
    while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end++;
    words.push(line.slice(i, end));
    i = end;
  }
  return words;
}
