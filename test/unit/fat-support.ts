// Shared by the FAT tests: a sample tree with the cases FAT makes hard (8.3 names in both cases,
// long names, ~N tails past 9, non-ASCII, read-only files, hard links, deep and wide
// directories, an EFI boot path), the listing FAT can hold of a Tree, and a parser for
// `mdir -/` output.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { Tree, newDir, type FileNode, type Node } from '../../src/tree/tree.js';

/** SOURCE_DATE_EPOCH of the samples: 2023-11-14 22:13:20 UTC. */
export const FAT_EPOCH = 1700000000;

/** Deterministic pseudo-random bytes (xorshift32), so contents have no runs of zeros. */
export function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function fileNode(data: Uint8Array | string, mtime = FAT_EPOCH - 3600, mode = 0o644): FileNode {
  const bytes = typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : data;
  return { kind: 'file', mode, uid: 1000, gid: 1000, mtime: { sec: mtime, nsec: 123 }, xattrs: new Map(), content: bytesContent(bytes) };
}

/**
 * The sample ESP-like tree. `reverse` inserts the same entries in the opposite order (the
 * writer must not care); `wide` adds a directory with enough entries to need several clusters.
 */
export function fatSampleTree(options: { reverse?: boolean; wide?: number } = {}): Tree {
  const entries: Array<[string, Node]> = [];
  const add = (path: string, node: Node): void => {
    entries.push([path, node]);
  };
  add('EFI', newDir({ mtime: { sec: FAT_EPOCH - 86400, nsec: 0 } }));
  add('EFI/BOOT', newDir({ mtime: { sec: FAT_EPOCH - 7200, nsec: 0 } }));
  add('EFI/BOOT/BOOTX64.EFI', fileNode(noise(300 * 1024 + 17, 7), FAT_EPOCH - 100));
  add('EFI/BOOT/grub.cfg', fileNode('set root=(hd0)\nconfigfile /boot/grub/grub.cfg\n'));
  add('EFI/debian/shimx64.efi', fileNode(noise(5000, 3)));
  add('README', fileNode('upper-case 8.3 name\n'));
  add('lower.txt', fileNode('lower-case 8.3 name\n', FAT_EPOCH + 999999)); // mtime after the epoch: clamped
  add('Makefile', fileNode('all:\n'));
  add('MixedCase.Txt', fileNode('mixed\n'));
  add('a long name.txt', fileNode('spaces\n'));
  add('.hidden', fileNode('dotfile\n', 100)); // before 1980: stored as 1980-01-01
  add('foo.bar.baz', fileNode('two dots\n'));
  add('a+b=c;d.txt', fileNode('lossy characters\n'));
  add('ünïcödé ✓.txt', fileNode('unicode\n'));
  add(`${'x'.repeat(200)}.long`, fileNode('a 205-character name\n'));
  add('read-only.dat', fileNode('no write bits\n', FAT_EPOCH - 5, 0o444));
  add('empty', fileNode(''));
  add('empty dir', newDir());
  add('a/b/c/d/e/f/g/deep.txt', fileNode('deep\n'));
  const shared = fileNode('hard-linked contents\n');
  add('links/first', shared);
  add('links/second', shared);
  for (let i = 0; i < 25; i++) add(`tails/long file name ${String(i).padStart(2, '0')}.txt`, fileNode(`file ${i}\n`, FAT_EPOCH - i * 61));
  for (let i = 0; i < (options.wide ?? 0); i++) add(`wide/entry with a long name ${i}`, fileNode(noise(i % 700, i + 1)));
  if (options.reverse) entries.reverse();
  const tree = new Tree(newDir({ mtime: { sec: FAT_EPOCH, nsec: 0 } }));
  for (const [path, node] of entries) {
    const existing = tree.get(path);
    if (existing?.kind === 'dir' && node.kind === 'dir') Object.assign(existing, { ...node, children: existing.children });
    else tree.set(path, node);
  }
  return tree;
}

/** One line of a listing: path, kind, size, and the FAT write time as "YYYY-MM-DD HH:MM" (UTC). */
export interface FatListingEntry {
  path: string;
  kind: 'file' | 'dir';
  size: number;
  time: string;
}

/** The minute a FAT write time shows for `sec`, clamped to FAT's range, as mdir prints it. */
export function fatMinute(sec: number): string {
  const t = Math.min(Math.max(sec, 315532800), 4354819198);
  return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

/** What a FAT volume written from `tree` with SOURCE_DATE_EPOCH `epoch` must list. */
export function expectedFatListing(tree: Tree, epoch: number): FatListingEntry[] {
  const out: FatListingEntry[] = [];
  for (const { path, node } of tree.walk()) {
    if (path === '' || (node.kind !== 'file' && node.kind !== 'dir')) continue;
    out.push({ path, kind: node.kind, size: node.kind === 'file' ? node.content.size : 0, time: fatMinute(Math.min(node.mtime.sec, epoch)) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The same listing of a Tree read back (times are already FAT times). */
export function treeFatListing(tree: Tree): FatListingEntry[] {
  return expectedFatListing(tree, Infinity);
}

/** Parses `mdir -/` output (run with LANG=C.UTF-8) into a listing. */
export function parseMdir(text: string): FatListingEntry[] {
  const out: FatListingEntry[] = [];
  let dir: string | undefined;
  // mdir ends a line with a space when it has no long name, with two spaces and the name otherwise.
  const entry = /^(.{8}) (.{3}) +(<DIR>|\d+) +(\d{4}-\d\d-\d\d) +(\d{1,2}):(\d\d)(?: {2}(.+)| ?)$/;
  for (const line of text.split('\n')) {
    const heading = /^Directory for ::\/(.*)$/.exec(line);
    if (heading) {
      dir = heading[1]!;
      continue;
    }
    const m = entry.exec(line);
    if (!m || dir === undefined) continue;
    const base = m[1]!.trimEnd();
    const ext = m[2]!.trimEnd();
    const name = m[7] ?? (ext ? `${base}.${ext}` : base);
    if (name === '.' || name === '..') continue;
    out.push({
      path: dir === '' ? name : `${dir}/${name}`,
      kind: m[3] === '<DIR>' ? 'dir' : 'file',
      size: m[3] === '<DIR>' ? 0 : Number(m[3]),
      time: `${m[4]} ${m[5]!.padStart(2, '0')}:${m[6]}`,
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every file's bytes, by path. */
export async function treeContents(tree: Tree): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const { path, node } of tree.walk()) if (node.kind === 'file') out.set(path, await readContent(node.content));
  return out;
}

/**
 * The directory of the committed FAT fixtures. Tests run compiled from dist/ or from a build
 * directory at another depth, so look upwards for test/fixtures/fat.
 */
export function fatFixtures(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', 'fat');
    if (existsSync(join(candidate, 'README.md'))) return candidate;
  }
  return join(process.cwd(), 'test', 'fixtures', 'fat');
}
