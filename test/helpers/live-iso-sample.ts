/**
 * Two small live-system builds for the upgrade kit tests: ISO images written by our ISO writer,
 * each holding boot files and live/filesystem.squashfs written by our SquashFS writer. Between
 * the old and the new build the root file system gains, changes, loses and replaces entries, and
 * the medium gets a new kernel and boot menu and loses one file.
 */
import { join } from 'node:path';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { MemorySink } from '../../src/io/sink.js';
import { writeIso } from '../../src/formats/iso9660/index.js';
import { writeSquashfs } from '../../src/formats/squashfs/index.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';

export const LIVE_EPOCH = 1700000000;

function meta(mode: number, mtime = LIVE_EPOCH - 1000, uid = 0, gid = 0) {
  return { mode, uid, gid, mtime: { sec: mtime, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };
}
const file = (text: string | Uint8Array, mode = 0o644, mtime?: number): Node => ({
  kind: 'file',
  ...meta(mode, mtime),
  content: bytesContent(typeof text === 'string' ? Buffer.from(text) : text),
});
const dir = (mode = 0o755, mtime?: number): Node => newDir(meta(mode, mtime));

function build(entries: Array<[string, Node]>): Tree {
  const tree = new Tree(newDir(meta(0o755)));
  for (const [p, n] of entries) tree.set(p, n, meta(0o755));
  return tree;
}

/** Bytes that compress a little but not to nothing. */
function blob(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 7 === 0 ? x >>> 24 : 0x41 + (i % 13);
  }
  return out;
}

export function oldRoot(): Tree {
  const shared = file('linked\n');
  return build([
    ['etc', dir()],
    ['etc/hostname', file('live\n')],
    ['etc/os-release', file('VERSION=1.0\n')],
    ['etc/removed.conf', file('gone in 2.0\n')],
    ['usr/bin/tool', file(blob(70000, 1), 0o755)],
    ['usr/bin/x', shared],
    ['usr/bin/y', shared],
    ['bin', { kind: 'symlink', ...meta(0o777), target: 'usr/bin' }],
    ['dev/null', { kind: 'char', ...meta(0o666), major: 1, minor: 3 }],
    ['opt/app', dir()],
    ['opt/app/a.txt', file('old a\n')],
    ['opt/app/b/c.txt', file('old c\n')],
    ['srv', file('a file that becomes a directory\n')],
    ['var/lib/gone', dir()],
    ['var/lib/gone/data', file('whole directory removed\n')],
  ]);
}

export function newRoot(): Tree {
  const shared = file('linked\n');
  return build([
    ['etc', dir()],
    ['etc/hostname', file('live\n')],
    ['etc/os-release', file('VERSION=2.0\n')],
    ['etc/added.conf', file('new in 2.0\n', 0o600)],
    ['usr/bin/tool', file(blob(70000, 1), 0o755)],
    ['usr/bin/x', shared],
    ['usr/bin/y', shared],
    ['bin', { kind: 'symlink', ...meta(0o777), target: 'usr/bin' }],
    ['dev/null', { kind: 'char', ...meta(0o666), major: 1, minor: 3 }],
    ['opt/app', dir(0o750)],
    ['opt/app/new.txt', file('replaced\n')],
    ['opt/app/lib/z.txt', file('new z\n')],
    ['srv', dir()],
    ['srv/www/index.html', file('<p>hi</p>\n')],
    ['var/lib', dir()],
    ['var/new/deep/file', file(blob(3000, 2))],
  ]);
}

async function squashfsBytes(tree: Tree): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeSquashfs(tree, sink, { compressor: 'gzip', buildTime: LIVE_EPOCH, workers: 1 });
  return sink.bytes().slice();
}

function medium(version: string, kernel: Uint8Array, squashfs: Uint8Array, extra: Array<[string, Node]>): Tree {
  return build([
    ['live', dir(0o750, LIVE_EPOCH - 5000)],
    ['isolinux/isolinux.cfg', file(`DEFAULT live\nLABEL live\n  MENU LABEL Live ${version}\n  KERNEL /live/vmlinuz\n  APPEND initrd=/live/initrd.img boot=live\n`)],
    ['boot/grub/grub.cfg', file('menuentry "Live" {\n  linux /live/vmlinuz boot=live\n  initrd /live/initrd.img\n}\n')],
    ['live/vmlinuz', file(kernel)],
    ['live/initrd.img', file(blob(20000, 9))],
    ['live/filesystem.squashfs', file(squashfs)],
    ...extra,
  ]);
}

/**
 * Writes old.iso and new.iso into `dir`; returns their paths. With `sameBoot`, only the root file
 * system differs: the medium's other files (and its live/ directory) are the same in both.
 */
export async function writeLiveIsos(dirPath: string, options: { sameBoot?: boolean } = {}): Promise<{ oldIso: string; newIso: string }> {
  const oldIso = join(dirPath, 'old.iso');
  const newIso = join(dirPath, 'new.iso');
  const oldMedium = medium('1.0', blob(40000, 5), await squashfsBytes(oldRoot()), options.sameBoot ? [] : [['boot/old-notes.txt', file('only in 1.0\n')]]);
  const newMedium = options.sameBoot
    ? medium('1.0', blob(40000, 5), await squashfsBytes(newRoot()), [])
    : medium('2.0', blob(41000, 6), await squashfsBytes(newRoot()), []);
  await writeAtomically(oldIso, (sink) => writeIso(oldMedium, sink, { volumeId: 'LIVE_1_0', buildTime: LIVE_EPOCH }));
  await writeAtomically(newIso, (sink) => writeIso(newMedium, sink, { volumeId: 'LIVE_2_0', buildTime: LIVE_EPOCH }));
  return { oldIso, newIso };
}
