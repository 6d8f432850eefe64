/**
 * A sample tree made on disk with every entry type the archive formats carry, for oracle tests:
 * nested and 0700 directories, empty and multi-block files, a name of exactly 100 bytes and one
 * of 250, a long symlink target, a hard link pair, a fifo, char and block devices (when root),
 * setuid and sticky modes, a UTF-8 name, xattrs (when setfattr exists), and names whose order
 * differs by whole path (`a.b` < `a/x`) and by component (`a` < `a.b`).
 */
import { chmodSync, chownSync, linkSync, lutimesSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasTool, run } from './tools.js';

export const SAMPLE_MTIME = 1_600_000_000;

export interface SampleOptions {
  /** Create entries in reverse order (a different directory listing order on most file systems). */
  reverse?: boolean;
  xattrs?: boolean;
  devices?: boolean;
  mtime?: number;
}

export function makeSampleTree(root: string, options: SampleOptions = {}): void {
  const mtime = options.mtime ?? SAMPLE_MTIME;
  const isRoot = process.getuid?.() === 0;
  const steps: Array<() => void> = [
    () => writeFileSync(join(root, 'a/x'), 'x'),
    () => writeFileSync(join(root, 'a.b'), 'whole-path order puts me before a/x'),
    () => writeFileSync(join(root, 'etc/hostname'), 'box\n'),
    () => writeFileSync(join(root, 'etc/empty'), ''),
    () => writeFileSync(join(root, 'usr/bin/tool'), Buffer.alloc(70_000, 'tool ')),
    () => writeFileSync(join(root, 'usr/share/' + 'n'.repeat(100 - 'usr/share/'.length - 2)), 'exactly 100 bytes with ./'),
    () => writeFileSync(join(root, 'usr/share/' + 'long/'.repeat(20) + 'f'.repeat(140)), 'deep and long'),
    () => writeFileSync(join(root, 'usr/share/caf\u00e9 \u{1F600}'), 'utf-8'),
    () => symlinkSync('../../' + 't'.repeat(150), join(root, 'usr/bin/longlink')),
    () => symlinkSync('tool', join(root, 'usr/bin/sh')),
    () => run('mkfifo', [join(root, 'run/fifo')]),
  ];
  mkdirSync(join(root, 'usr/share/' + 'long/'.repeat(20)), { recursive: true });
  for (const d of ['a', 'etc', 'usr/bin', 'run', 'tmp', 'dev']) mkdirSync(join(root, d), { recursive: true });
  for (const step of options.reverse ? [...steps].reverse() : steps) step();
  linkSync(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool-hardlink'));
  if (options.devices !== false && isRoot) {
    run('mknod', [join(root, 'dev/null'), 'c', '1', '3']);
    run('mknod', [join(root, 'dev/sda1'), 'b', '8', '1']);
  }
  chmodSync(join(root, 'a'), 0o700);
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'usr/bin/tool'), 0o4755);
  chmodSync(join(root, 'etc/hostname'), 0o640);
  if (isRoot) chownSync(join(root, 'etc/hostname'), 0, 42);
  if (options.xattrs !== false && hasTool('setfattr')) {
    run('setfattr', ['-n', 'user.comment', '-v', 'hello', join(root, 'etc/hostname')]);
    if (isRoot) run('setfattr', ['-n', 'security.capability', '-v', '0x0100000200100000000000000000000000000000', join(root, 'usr/bin/tool')]);
  }
  const all = run('find', [root, '-depth']).stdout.toString().trim().split('\n');
  for (const p of all) {
    try {
      lutimesSync(p, mtime, mtime);
    } catch {
      utimesSync(p, mtime, mtime);
    }
  }
}
