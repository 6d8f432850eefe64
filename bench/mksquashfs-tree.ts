/**
 * The tree the SquashFS and live-ISO benchmarks give reprimage: the directory as mksquashfs
 * sees it with `-all-root -all-time EPOCH -no-xattrs`, so both tools write the same metadata.
 */
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileContent } from '../src/tree/content.js';
import { Tree, newDir, type Node } from '../src/tree/tree.js';

/** Root-owned, every time `epoch`, no xattrs, hard links kept (as -all-root -all-time). */
export function loadMksquashfsTree(root: string, epoch: number): Tree {
  const tree = new Tree(newDir({ mtime: { sec: epoch, nsec: 0 }, mode: statSync(root).mode & 0o7777 }));
  const byIno = new Map<string, Node>();
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const meta = { mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: { sec: epoch, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };
      const key = `${st.dev}:${st.ino}`;
      let node = st.nlink > 1 && !st.isDirectory() ? byIno.get(key) : undefined;
      if (!node) {
        if (st.isDirectory()) node = { kind: 'dir', ...meta, children: new Map() };
        else if (st.isFile()) node = { kind: 'file', ...meta, content: fileContent(p, st.size) };
        else if (st.isSymbolicLink()) node = { kind: 'symlink', ...meta, target: readlinkSync(p) };
        else if (st.isCharacterDevice() || st.isBlockDevice()) {
          node = { kind: st.isCharacterDevice() ? 'char' : 'block', ...meta, major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
        } else if (st.isFIFO()) node = { kind: 'fifo', ...meta };
        else node = { kind: 'socket', ...meta };
        byIno.set(key, node);
      }
      tree.set(r, node);
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(root, '');
  return tree;
}
