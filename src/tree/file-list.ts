/**
 * File lists (docs/file-list.md): lines that add, change or remove Tree entries, so that device
 * nodes, owners, modes, hard links and extended attributes can be set without root privileges.
 * The six entry lines of the kernel's gen_init_cpio are accepted verbatim (file, dir, nod,
 * slink, pipe, sock); reprimage adds link, mod, mtime, xattr and rm.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ReprimageError, fromSystemError, isReprimageError } from '../errors.js';
import { fileContent } from './content.js';
import { splitWords, type Word } from './file-list-words.js';
import { fsPath, nameBytes, toTreePath } from './names.js';
import { newMeta, ownXattrs, type Meta, type Node, type Tree } from './tree.js';

/** One parsed line. `line` is `FILE:LINE`, for errors found when the line is applied. */
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

/** Mode (permission bits), uid and gid as a line gives them. */
export interface Owned {
  mode: number;
  uid: number;
  gid: number;
}

/** Fields after the line type: [fewest, most]. */
const ARITY: Record<FileListEntry['op'], [number, number]> = {
  file: [5, Infinity],
  dir: [4, 4],
  nod: [7, 7],
  slink: [5, 5],
  pipe: [4, 4],
  sock: [4, 4],
  link: [2, 2],
  mod: [4, 4],
  mtime: [2, 2],
  xattr: [3, 3],
  rm: [1, 1],
};

const USAGE_OF: Record<FileListEntry['op'], string> = {
  file: 'file NAME LOCATION MODE UID GID [LINK…]',
  dir: 'dir NAME MODE UID GID',
  nod: 'nod NAME MODE UID GID b|c MAJOR MINOR',
  slink: 'slink NAME TARGET MODE UID GID',
  pipe: 'pipe NAME MODE UID GID',
  sock: 'sock NAME MODE UID GID',
  link: 'link NAME EXISTING',
  mod: 'mod NAME MODE|- UID|- GID|-',
  mtime: 'mtime NAME SECONDS',
  xattr: 'xattr NAME KEY VALUE',
  rm: 'rm NAME',
};

/** Linux limits: XATTR_NAME_MAX and XATTR_SIZE_MAX. */
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;

/**
 * Parses a file list. Every error is a ReprimageError whose message starts with
 * `subject:LINE:` and says what is wrong (USAGE; PATH_ESCAPE for a name with `..`).
 */
export function parseFileList(text: string, subject: string): FileListEntry[] {
  const entries: FileListEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const where = `${subject}:${i + 1}`;
    const words = splitWords(raw.replace(/\r$/, ''), where);
    if (words.length === 0) return;
    const [opWord, ...args] = words as [Word, ...Word[]];
    const op = opWord.text;
    if (opWord.quoted || !Object.hasOwn(ARITY, op)) {
      throw new ReprimageError('USAGE', where, `unknown line type '${op}' (known: ${Object.keys(ARITY).join(', ')})`);
    }
    entries.push(parseLine(op as FileListEntry['op'], args, where));
  });
  return entries;
}

function parseLine(op: FileListEntry['op'], words: Word[], where: string): FileListEntry {
  const [min, max] = ARITY[op];
  if (words.length < min || words.length > max) {
    const expected = min === max ? `${min}` : `at least ${min}`;
    throw new ReprimageError('USAGE', where, `'${op}' takes ${expected} fields after it, got ${words.length} (${USAGE_OF[op]})`);
  }
  const args = words.map((w) => w.text);
  if (args.some((a) => a.includes('\0'))) throw new ReprimageError('USAGE', where, 'a field contains a NUL byte');
  const path = (raw: string) => toTreePath(raw, where, { allowAbsolute: true });
  const name = path(args[0]!);
  const owned = (at: number): Owned => ({
    mode: number(args[at]!, 8, where, 'mode', 0o7777),
    uid: number(args[at + 1]!, 10, where, 'uid'),
    gid: number(args[at + 2]!, 10, where, 'gid'),
  });
  switch (op) {
    case 'file':
      if (args[1] === '') throw new ReprimageError('USAGE', where, 'empty location');
      return { op, line: where, name, location: args[1]!, meta: owned(2), links: args.slice(5).map(path) };
    case 'dir':
    case 'pipe':
    case 'sock':
      return { op, line: where, name, meta: owned(1) };
    case 'nod': {
      const type = args[4];
      if (type !== 'b' && type !== 'c') throw new ReprimageError('USAGE', where, `device type must be b or c, got '${type}'`);
      return { op, line: where, name, meta: owned(1), type, major: number(args[5]!, 10, where, 'major'), minor: number(args[6]!, 10, where, 'minor') };
    }
    case 'slink':
      if (args[1] === '') throw new ReprimageError('USAGE', where, 'empty symlink target');
      return { op, line: where, name, target: args[1]!, meta: owned(2) };
    case 'link':
      return { op, line: where, name, existing: path(args[1]!) };
    case 'mod': {
      const keep = (v: string, base: 8 | 10, what: string, max?: number) => (v === '-' ? undefined : number(v, base, where, what, max));
      return { op, line: where, name, mode: keep(args[1]!, 8, 'mode', 0o7777), uid: keep(args[2]!, 10, 'uid'), gid: keep(args[3]!, 10, 'gid') };
    }
    case 'mtime':
      return { op, line: where, name, sec: number(args[1]!, 10, where, 'mtime', Number.MAX_SAFE_INTEGER) };
    case 'xattr':
      return { op, line: where, name, key: xattrKey(args[1]!, where), value: xattrValue(words[2]!, where) };
    case 'rm':
      return { op, line: where, name };
  }
}

/**
 * Applies parsed lines in order. A `file` line's LOCATION is a host path: `${VAR}` in it is
 * replaced from `env` (default: none; the CLI passes its environment), and a relative one resolves against
 * `baseDir`; its contents are read lazily, when a writer streams them. Entries a line creates,
 * and missing parent directories (0755, root-owned), take the mtime of the tree's root.
 * Errors name the line: NOT_FOUND for a line that changes a missing entry, CONFLICT for a line
 * that would put a non-directory in place of a directory or the other way round.
 */
export async function applyFileList(
  tree: Tree,
  entries: FileListEntry[],
  options: { baseDir: string; env?: Record<string, string | undefined> },
): Promise<void> {
  for (const entry of entries) {
    try {
      applyEntry(tree, entry, options.baseDir, options.env ?? {});
    } catch (e) {
      throw atLine(e, entry.line);
    }
  }
}

function applyEntry(tree: Tree, e: FileListEntry, baseDir: string, env: Record<string, string | undefined>): void {
  const existing = (path: string): Node => {
    const node = tree.get(path);
    if (!node) throw new ReprimageError('NOT_FOUND', e.line, `no entry '/${path}' in the tree`);
    return node;
  };
  const parentMeta: Partial<Meta> = { mode: 0o755, uid: 0, gid: 0, mtime: { ...tree.root.mtime } };
  const meta = (o: Owned): Meta => newMeta({ ...o, mtime: { ...tree.root.mtime } });
  const place = (path: string, node: Node) => {
    const old = tree.get(path);
    if (path === '') throw new ReprimageError('CONFLICT', e.line, `'${e.op}' cannot replace the root directory`);
    if (old && (old.kind === 'dir') !== (node.kind === 'dir')) {
      throw new ReprimageError('CONFLICT', e.line, `'/${path}' is a ${old.kind === 'dir' ? 'directory' : old.kind}; remove it first with 'rm /${path}'`);
    }
    tree.set(path, node, parentMeta);
  };
  switch (e.op) {
    case 'file': {
      const location = hostPath(expandVariables(e.location, env, e.line), baseDir);
      let size: number;
      try {
        const st = statSync(fsPath(location));
        if (!st.isFile()) throw new ReprimageError('USAGE', e.line, `${location} is not a regular file`);
        size = st.size;
      } catch (err) {
        throw fromSystemError(err, location);
      }
      const node: Node = { kind: 'file', ...meta(e.meta), content: fileContent(location, size) };
      place(e.name, node);
      for (const link of e.links) place(link, node);
      return;
    }
    case 'dir': {
      const old = tree.get(e.name);
      if (old?.kind === 'dir') Object.assign(old, { mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid });
      else place(e.name, { kind: 'dir', ...meta(e.meta), children: new Map() });
      return;
    }
    case 'pipe':
      return place(e.name, { kind: 'fifo', ...meta(e.meta) });
    case 'sock':
      return place(e.name, { kind: 'socket', ...meta(e.meta) });
    case 'nod':
      return place(e.name, { kind: e.type === 'c' ? 'char' : 'block', ...meta(e.meta), major: e.major, minor: e.minor });
    case 'slink':
      return place(e.name, { kind: 'symlink', ...meta(e.meta), target: e.target });
    case 'link': {
      const node = existing(e.existing);
      if (node.kind === 'dir') throw new ReprimageError('USAGE', e.line, `cannot hard-link the directory '/${e.existing}'`);
      if (tree.get(e.name) !== node) place(e.name, node);
      return;
    }
    case 'mod': {
      const node = existing(e.name);
      if (e.mode !== undefined) node.mode = e.mode;
      if (e.uid !== undefined) node.uid = e.uid;
      if (e.gid !== undefined) node.gid = e.gid;
      return;
    }
    case 'mtime':
      existing(e.name).mtime = { sec: e.sec, nsec: 0 };
      return;
    case 'xattr':
      ownXattrs(existing(e.name)).set(e.key, e.value);
      return;
    case 'rm':
      if (e.name === '') throw new ReprimageError('CONFLICT', e.line, 'cannot remove the root directory');
      if (!tree.remove(e.name)) throw new ReprimageError('NOT_FOUND', e.line, `no entry '/${e.name}' to remove`);
      return;
  }
}

/** Errors raised while applying a line name the line first (`list:3: /x/y: no such file …`). */
function atLine(e: unknown, line: string): unknown {
  if (!isReprimageError(e) || e.subject === line) return e;
  return new ReprimageError(e.code, line, e.message, { cause: e });
}

function hostPath(location: string, baseDir: string): string {
  return isAbsolute(location) ? location : resolve(baseDir, location);
}

/** gen_init_cpio expands `${VAR}` in locations; an unset variable is an error, not ''. */
function expandVariables(location: string, env: Record<string, string | undefined>, where: string): string {
  return location.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new ReprimageError('USAGE', where, `\${${name}} in a file location is not set in the environment`);
    return value;
  });
}

function number(text: string, base: 8 | 10, where: string, what: string, max = 0xffffffff): number {
  const ok = base === 8 ? /^[0-7]+$/.test(text) : /^[0-9]+$/.test(text);
  const n = ok ? parseInt(text, base) : NaN;
  if (!(n >= 0 && n <= max)) {
    const expected = base === 8 ? `octal, at most ${max.toString(8)}` : `decimal, at most ${max}`;
    throw new ReprimageError('USAGE', where, `bad ${what} '${text}' (${expected})`);
  }
  return n;
}

function xattrKey(key: string, where: string): string {
  if (!/^(user|trusted|security|system)\../.test(key)) {
    throw new ReprimageError('USAGE', where, `xattr name '${key}' must start with user., trusted., security. or system. and name something`);
  }
  if (nameBytes(key).length > XATTR_NAME_MAX) throw new ReprimageError('USAGE', where, `xattr name longer than ${XATTR_NAME_MAX} bytes`);
  return key;
}

/**
 * A value as getfattr prints it: unquoted `0x…` is hex, unquoted `0s…` is base64, anything else
 * (and anything quoted) is UTF-8 text.
 */
function xattrValue(word: Word, where: string): Uint8Array {
  const text = word.text;
  let value: Buffer;
  if (!word.quoted && /^0[xX]/.test(text)) {
    if (!/^0[xX]([0-9a-fA-F]{2})*$/.test(text)) throw new ReprimageError('USAGE', where, `bad hex xattr value '${text}' (an even number of hex digits after 0x)`);
    value = Buffer.from(text.slice(2), 'hex');
  } else if (!word.quoted && /^0[sS]/.test(text)) {
    const b64 = text.slice(2);
    if (!/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) throw new ReprimageError('USAGE', where, `bad base64 xattr value '${text}'`);
    value = Buffer.from(b64, 'base64');
  } else {
    value = Buffer.from(nameBytes(text));
  }
  if (value.length > XATTR_SIZE_MAX) throw new ReprimageError('USAGE', where, `xattr value longer than ${XATTR_SIZE_MAX} bytes`);
  return new Uint8Array(value);
}
