/**
 * Sample trees for the ISO 9660 tests: every node kind, hard links, long and odd names, a deep
 * directory chain, and a "listing" projection that says what xorriso should report for them.
 */
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';

export const ISO_EPOCH = 1700000000;

function meta(mode: number, mtime: number, uid = 0, gid = 0) {
  return { mode, uid, gid, mtime: { sec: mtime, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };
}

/** A tree exercising what ISO 9660 + Rock Ridge must carry. `order` reverses insertion order. */
export function isoSampleTree(options: { reverse?: boolean; deep?: number } = {}): Tree {
  const tree = new Tree(newDir(meta(0o755, ISO_EPOCH - 100)));
  const shared: Node = { kind: 'file', ...meta(0o644, ISO_EPOCH - 50, 1000, 1000), content: bytesContent(Buffer.from('linked twice\n')) };
  const entries: Array<[string, Node]> = [
    ['etc', newDir(meta(0o755, ISO_EPOCH - 10))],
    ['etc/hostname', { kind: 'file', ...meta(0o644, ISO_EPOCH - 20), content: bytesContent(Buffer.from('reprimage\n')) }],
    ['etc/shadow', { kind: 'file', ...meta(0o640, ISO_EPOCH - 30, 0, 42), content: bytesContent(Buffer.from('root:*:1::::::\n')) }],
    ['etc/future', { kind: 'file', ...meta(0o600, ISO_EPOCH + 999999), content: bytesContent(Buffer.from('clamped\n')) }],
    ['bin', newDir(meta(0o755, ISO_EPOCH - 40))],
    ['bin/sh', { kind: 'symlink', ...meta(0o777, ISO_EPOCH - 40), target: 'busybox' }],
    ['bin/abs', { kind: 'symlink', ...meta(0o777, ISO_EPOCH - 40), target: '/usr/lib/../share/./x' }],
    ['bin/busybox', { kind: 'file', ...meta(0o4755, ISO_EPOCH - 40), content: bytesContent(new Uint8Array(5000).map((_, i) => (i * 7) & 0xff)) }],
    ['dev', newDir(meta(0o755, ISO_EPOCH - 60))],
    ['dev/null', { kind: 'char', ...meta(0o666, ISO_EPOCH - 60), major: 1, minor: 3 }],
    ['dev/sda1', { kind: 'block', ...meta(0o660, ISO_EPOCH - 60, 0, 6), major: 8, minor: 1 }],
    ['dev/fifo', { kind: 'fifo', ...meta(0o644, ISO_EPOCH - 60) }],
    ['dev/sock', { kind: 'socket', ...meta(0o755, ISO_EPOCH - 60) }],
    ['hard-a', shared],
    ['hard-b', shared],
    ['empty', { kind: 'file', ...meta(0o644, ISO_EPOCH - 70), content: bytesContent(new Uint8Array(0)) }],
    ['a name with spaces & ünïcödé.txt', { kind: 'file', ...meta(0o644, ISO_EPOCH - 80), content: bytesContent(Buffer.from('unicode\n')) }],
    ['x'.repeat(200) + '.long-extension', { kind: 'file', ...meta(0o644, ISO_EPOCH - 80), content: bytesContent(Buffer.from('long\n')) }],
    ['Case', { kind: 'file', ...meta(0o644, ISO_EPOCH - 80), content: bytesContent(Buffer.from('upper\n')) }],
    ['case', { kind: 'file', ...meta(0o644, ISO_EPOCH - 80), content: bytesContent(Buffer.from('lower\n')) }],
    ['sticky', newDir(meta(0o1777, ISO_EPOCH - 90))],
    ['old', { kind: 'file', ...meta(0o444, 0), content: bytesContent(Buffer.from('epoch\n')) }],
    ['linkdir', { kind: 'symlink', ...meta(0o777, ISO_EPOCH - 90), target: '../'.repeat(60) + 'y'.repeat(200) }],
  ];
  const deep = options.deep ?? 0;
  let path = 'deep';
  entries.push([path, newDir(meta(0o700, ISO_EPOCH - 5))]);
  for (let i = 1; i <= deep; i++) {
    path += `/d${i}`;
    entries.push([path, newDir(meta(0o755, ISO_EPOCH - 5 - i))]);
  }
  entries.push([`${path}/leaf.txt`, { kind: 'file', ...meta(0o644, ISO_EPOCH - 4), content: bytesContent(Buffer.from('deep leaf\n')) }]);
  if (options.reverse) entries.reverse();
  // Parents must exist before children: sort parents first when reversed.
  entries.sort((a, b) => a[0].split('/').length - b[0].split('/').length);
  for (const [p, node] of entries) tree.set(p, node);
  return tree;
}

/** `ls -l` style permission string of a node, as xorriso and bsdtar print it. */
export function modeString(node: Node): string {
  const type = { file: '-', dir: 'd', symlink: 'l', block: 'b', char: 'c', fifo: 'p', socket: 's' }[node.kind];
  const m = node.mode;
  const bit = (mask: number, ch: string) => (m & mask ? ch : '-');
  const exec = (x: number, special: number, on: string, off: string) => (m & special ? (m & x ? on : off) : m & x ? 'x' : '-');
  return (
    type +
    bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + exec(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + exec(0o001, 0o1000, 't', 'T')
  );
}

/** One line per entry: mode, uid, gid, size (or major,minor), path, symlink target. */
export function expectedListing(tree: import('../../src/tree/tree.js').Tree): string[] {
  const lines: string[] = [];
  for (const { path, node } of tree.walk()) {
    const size = node.kind === 'file' ? String(node.content.size) : node.kind === 'block' || node.kind === 'char' ? `${node.major},${node.minor}` : '0';
    const target = node.kind === 'symlink' ? ` -> ${node.target}` : '';
    lines.push(`${modeString(node)} ${node.uid} ${node.gid} ${size} /${path}${target}`);
  }
  return lines.sort();
}

/** Parses `xorriso -find / -exec lsdl` output into the same form as expectedListing. */
export function parseXorrisoListing(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S{10})\s+\d+\s+(\d+)\s+(\d+)\s+(\S+)\s+\w{3}\s+\d+\s+[\d:]+\s+'(.*?)'(?: -> '(.*)')?$/.exec(line);
    if (!m) continue;
    const path = m[5] === '/' ? '/' : m[5]!;
    lines.push(`${m[1]} ${m[2]} ${m[3]} ${m[4]} ${path}${m[6] !== undefined ? ` -> ${m[6]}` : ''}`);
  }
  return lines.sort();
}

/**
 * Everything ISO 9660 + Rock Ridge keeps of a tree, one line per path: kind, mode, owner,
 * mtime (seconds, clamped to `clampTo`), size, link target or device, hard-link target, content.
 */
export async function isoProjection(tree: import('../../src/tree/tree.js').Tree, clampTo: number): Promise<string[]> {
  const { readContent } = await import('../../src/tree/content.js');
  const { createHash } = await import('node:crypto');
  const lines: string[] = [];
  for (const { path, node, linkTo } of tree.walk()) {
    let extra = '';
    if (node.kind === 'file') extra = `${node.content.size} ${createHash('sha256').update(await readContent(node.content)).digest('hex').slice(0, 16)}`;
    if (node.kind === 'symlink') extra = `-> ${node.target}`;
    if (node.kind === 'block' || node.kind === 'char') extra = `${node.major},${node.minor}`;
    const mtime = Math.max(Math.min(node.mtime.sec, clampTo), -2208988800);
    lines.push(`/${path} ${node.kind} ${node.mode.toString(8)} ${node.uid}:${node.gid} ${mtime} ${extra}${linkTo !== undefined ? ` link=${linkTo}` : ''}`);
  }
  return lines;
}
