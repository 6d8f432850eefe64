/**
 * Helpers for the SquashFS tests: a sample Tree built in code (every node type, hard links,
 * duplicates, sparse and block-sized files, xattrs), writing it to disk so mksquashfs can read
 * the same tree, and listings in the form `unsquashfs -lln` prints, to compare with a Tree.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, linkSync, lutimesSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { Tree, newDir, type Meta, type Node } from '../../src/tree/tree.js';
import { MemorySink } from '../../src/io/sink.js';
import { writeSquashfs, type SquashfsWriteOptions } from '../../src/formats/squashfs/index.js';
import { buildTimeFor } from '../helpers/sample-tree.js';

export const EPOCH = 1700000000;

/** Deterministic pseudo-random bytes (xorshift), so fixtures need no files. */
export function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text-like bytes that compress well. */
export function textBytes(n: number, seed: number): Uint8Array {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'squash', 'tree', 'block', 'zero', 'node', '\n'];
  const r = pseudoRandom(n, seed);
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const w = words[r[i % n]! % words.length]! + ' ';
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('').slice(0, n));
}

export interface SampleOptions {
  xattrs?: boolean;
  sockets?: boolean;
  /** Give every node this mtime (mksquashfs -all-time); otherwise times vary. */
  allTime?: number;
  /** Number of files in `many/` (more than 256 makes an extended directory with an index). */
  many?: number;
  /** Reverse the insertion order of every directory's children (listing order must not matter). */
  reverse?: boolean;
}

function meta(o: SampleOptions, mode: number, i: number, extra: Partial<Meta> = {}): Meta {
  return {
    mode,
    uid: extra.uid ?? (i % 3 === 0 ? 0 : 1000 + (i % 4)),
    gid: extra.gid ?? (i % 5 === 0 ? 0 : 100 + (i % 2)),
    mtime: { sec: o.allTime ?? EPOCH - i * 3600, nsec: 0 },
    xattrs: extra.xattrs ?? new Map(),
  };
}

/** A Tree that exercises every SquashFS feature the writer has. */
export function sampleTree(o: SampleOptions = {}): Tree {
  const tree = new Tree(newDir(meta(o, 0o755, 0, { uid: 0, gid: 0 })));
  const entries: Array<[string, Node]> = [];
  let i = 1;
  const file = (path: string, bytes: Uint8Array, mode = 0o644, extra: Partial<Meta> = {}) => {
    const node: Node = { kind: 'file', ...meta(o, mode, i++, extra), content: bytesContent(bytes, path) };
    entries.push([path, node]);
    return node;
  };
  const dir = (path: string, mode = 0o755, extra: Partial<Meta> = {}) => entries.push([path, { kind: 'dir', ...meta(o, mode, i++, extra), children: new Map() }]);
  dir('bin');
  dir('etc', 0o755);
  dir('empty', 0o700);
  dir('usr');
  dir('usr/share');
  dir('usr/share/doc', 0o2755);
  dir('tmp', 0o1777);
  const tool = file('bin/tool', textBytes(300_000, 1), 0o4755);
  entries.push(['bin/tool-hardlink', tool]);
  entries.push(['usr/tool-hardlink2', tool]);
  file('etc/hostname', Buffer.from('reprimage\n'));
  file('etc/empty-file', new Uint8Array(0));
  file('etc/exact-block', textBytes(131072, 2));
  file('etc/two-blocks-and-tail', pseudoRandom(2 * 131072 + 777, 3));
  file('etc/random-incompressible', pseudoRandom(100_000, 4));
  file('etc/dup-a', textBytes(50_000, 5));
  file('etc/dup-b', textBytes(50_000, 5));
  file('etc/big-dup-a', textBytes(400_000, 6));
  file('usr/share/doc/big-dup-b', textBytes(400_000, 6));
  file('etc/zeros-small', new Uint8Array(5000));
  file('etc/zeros-blocks', new Uint8Array(3 * 131072 + 10));
  const holes = new Uint8Array(4 * 131072);
  holes.set(textBytes(1000, 7), 2 * 131072);
  file('etc/holes', holes);
  file('usr/share/doc/readme.txt', textBytes(9000, 8), 0o644, o.xattrs ? { xattrs: new Map([['user.comment', Buffer.from('hello')]]) } : {});
  file('usr/share/doc/caps', Buffer.from('#!/bin/sh\n'), 0o755, o.xattrs ? {
    xattrs: new Map([
      ['security.capability', Buffer.from('0100000200200000000000000000000000000000', 'hex')],
      ['user.short', Buffer.from('12345678')],
    ]),
  } : {});
  // A value over 128 bytes is stored out of line. Alone on its file: ext4 keeps large values
  // outside the inode and lists them after the in-inode ones, whatever the order they were set.
  file('usr/share/doc/long-xattr', Buffer.from('x'), 0o644, o.xattrs ? { xattrs: new Map([['user.long', Buffer.from('x'.repeat(300))]]) } : {});
  entries.push(['bin/sh', { kind: 'symlink', ...meta(o, 0o777, i++), target: 'tool' }]);
  entries.push(['usr/link-up', { kind: 'symlink', ...meta(o, 0o777, i++), target: '../etc/hostname' }]);
  entries.push(['etc/null', { kind: 'char', ...meta(o, 0o666, i++), major: 1, minor: 3 }]);
  entries.push(['etc/loop0', { kind: 'block', ...meta(o, 0o660, i++), major: 7, minor: 30 }]);
  entries.push(['etc/fifo', { kind: 'fifo', ...meta(o, 0o600, i++) }]);
  if (o.sockets ?? true) entries.push(['etc/socket', { kind: 'socket', ...meta(o, 0o755, i++) }]);
  const many = o.many ?? 300;
  if (many > 0) {
    dir('many');
    for (let k = 0; k < many; k++) file(`many/entry-number-${String(k).padStart(5, '0')}`, Buffer.from(`entry ${k}\n`));
  }
  if (o.reverse) entries.reverse();
  // Parents first, whatever the order of the list.
  for (const [path, node] of [...entries].sort((a, b) => a[0].split('/').length - b[0].split('/').length)) tree.set(path, node);
  return tree;
}

/** Writes `tree` into an image in memory. */
export async function imageOf(tree: Tree, options: Partial<SquashfsWriteOptions> = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeSquashfs(tree, sink, { buildTime: buildTimeFor(tree, EPOCH), workers: 1, ...options });
  return sink.bytes();
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Creates `tree` under `dir` (as root: owners, devices and xattrs are set). */
export async function materialize(tree: Tree, dir: string): Promise<void> {
  const dirs: Array<[string, Node]> = [];
  for (const { path, node, linkTo } of tree.walk()) {
    const abs = join(dir, path);
    if (linkTo !== undefined) {
      linkSync(join(dir, linkTo), abs);
      continue;
    }
    switch (node.kind) {
      case 'dir':
        mkdirSync(abs, { recursive: path === '' });
        dirs.push([abs, node]);
        break;
      case 'file':
        writeFileSync(abs, await readContent(node.content));
        break;
      case 'symlink':
        symlinkSync(node.target, abs);
        break;
      case 'char':
      case 'block':
        execFileSync('mknod', [abs, node.kind === 'char' ? 'c' : 'b', String(node.major), String(node.minor)]);
        break;
      case 'fifo':
        execFileSync('mkfifo', [abs]);
        break;
      case 'socket':
        execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', abs]);
        break;
    }
    if (node.kind !== 'dir') setMeta(abs, node);
  }
  for (const [abs, node] of dirs.reverse()) setMeta(abs, node);
}

function setMeta(abs: string, node: Node): void {
  lchownSync(abs, node.uid, node.gid);
  if (node.kind !== 'symlink') chmodSync(abs, node.mode);
  // ext4 lists xattrs in the order they were set, and mksquashfs keeps that order; set them in
  // the order reprimage writes them (by prefix user., trusted., security., then by name).
  const rank = (k: string) => ['user.', 'trusted.', 'security.'].findIndex((p) => k.startsWith(p));
  const sorted = [...node.xattrs].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of sorted) execFileSync('setfattr', ['-h', '-n', k, '-v', `0x${Buffer.from(v).toString('hex')}`, abs]);
  if (node.kind === 'symlink') lutimesSync(abs, node.mtime.sec, node.mtime.sec);
  else utimesSync(abs, node.mtime.sec, node.mtime.sec);
}

const TYPE_CHAR: Record<Node['kind'], string> = { dir: 'd', file: '-', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };

function perms(kind: Node['kind'], mode: number): string {
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  const special = (x: number, s: number, lower: string, upper: string) => (mode & s ? (mode & x ? lower : upper) : mode & x ? 'x' : '-');
  return (
    TYPE_CHAR[kind] +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T')
  );
}

function minute(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

/** The Tree as `unsquashfs -lln` lists it (directory sizes left out: a Tree has none). */
export function treeListing(tree: Tree): string[] {
  const out: string[] = [];
  for (const { path, node } of tree.walk()) {
    const size =
      node.kind === 'dir' ? '-' : node.kind === 'file' ? String(node.content.size) : node.kind === 'symlink' ? String(Buffer.byteLength(node.target)) : node.kind === 'char' || node.kind === 'block' ? `${node.major},${node.minor}` : '0';
    const name = path === '' ? 'squashfs-root' : `squashfs-root/${path}`;
    out.push(`${perms(node.kind, node.mode)} ${node.uid}/${node.gid} ${size} ${minute(node.mtime.sec)} ${name}${node.kind === 'symlink' ? ` -> ${node.target}` : ''}`);
  }
  return out;
}

/** `unsquashfs -lln IMAGE`, in UTC, normalized like `treeListing`. */
export function unsquashfsListing(image: string): string[] {
  const text = execFileSync('unsquashfs', ['-lln', image], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 }).toString('utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S{10}) (\d+)\/(\d+)\s+(\d+|\d+,\s*\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) (.*)$/.exec(line);
    if (!m) continue;
    const size = m[1]!.startsWith('d') ? '-' : m[4]!.replace(/\s+/g, '');
    out.push(`${m[1]} ${m[2]}/${m[3]} ${size} ${m[5]} ${m[6]}`);
  }
  return out;
}
