/**
 * The cpio newc writer. Output equals GNU cpio 2.13's for
 *   cd DIR && find . | LC_ALL=C sort | cpio -o -H newc --reproducible
 * on the same tree with clamped mtimes: entries in whole-path bytewise order, names without
 * `./` (the root is `.`), inode numbers counted from 0 in order of first appearance, device
 * fields 0 (--ignore-devno), and hard links as GNU cpio writes them: earlier links are held back
 * and written, with no data, just before the last link, which carries the data.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import { TYPE_BITS, type Node, type Tree } from '../../tree/tree.js';
import { ARCHIVE_BLOCK, TRAILER, encodeNewcHeader, pad4, type NewcHeader } from './layout.js';

export interface CpioWriteOptions {
  warn?: (message: string) => void;
}

const U32 = 0xffffffff;

export async function writeCpio(tree: Tree, sink: Sink, _options: CpioWriteOptions = {}): Promise<void> {
  const start = sink.position;
  const nlink = tree.linkCounts();
  const inode = new Map<Node, number>();
  const seenLinks = new Map<Node, number>();
  const deferred = new Map<Node, string[]>();
  for (const { path, node } of tree.walkSortedPaths()) {
    const name = path === '' ? '.' : path;
    if (!inode.has(node)) inode.set(node, inode.size);
    const links = nlink.get(node) ?? 1;
    if (node.kind !== 'dir' && links > 1) {
      const seen = (seenLinks.get(node) ?? 0) + 1;
      seenLinks.set(node, seen);
      if (seen < links) {
        deferred.set(node, [...(deferred.get(node) ?? []), name]);
        continue;
      }
      for (const earlier of deferred.get(node) ?? []) await writeEntry(sink, earlier, node, inode.get(node)!, links, false);
    }
    await writeEntry(sink, name, node, inode.get(node)!, links, true);
  }
  await writeRaw(sink, TRAILER, { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0 }, new Uint8Array(0));
  const written = sink.position - start;
  const pad = (ARCHIVE_BLOCK - (written % ARCHIVE_BLOCK)) % ARCHIVE_BLOCK;
  if (pad > 0) await sink.write(new Uint8Array(pad));
}

async function writeEntry(sink: Sink, name: string, node: Node, ino: number, nlink: number, withData: boolean): Promise<void> {
  const check = (value: number, what: string) => {
    if (!Number.isSafeInteger(value) || value < 0 || value > U32) {
      throw new ReprimageError('UNSUPPORTED', name, `${what} ${value} does not fit a cpio newc header (0 to ${U32})`);
    }
    return value;
  };
  const data = node.kind === 'symlink' ? Buffer.from(node.target, 'utf8') : undefined;
  const size = !withData ? 0 : node.kind === 'file' ? node.content.size : (data?.length ?? 0);
  const fields = {
    ino,
    mode: TYPE_BITS[node.kind] | (node.mode & 0o7777),
    uid: check(node.uid, 'uid'),
    gid: check(node.gid, 'gid'),
    nlink,
    mtime: check(node.mtime.sec, 'mtime'),
    filesize: check(size, 'file size'),
    devmajor: 0,
    devminor: 0,
    rdevmajor: node.kind === 'char' || node.kind === 'block' ? node.major : 0,
    rdevminor: node.kind === 'char' || node.kind === 'block' ? node.minor : 0,
  };
  if (node.kind === 'file' && withData) {
    await writeRaw(sink, name, fields, undefined);
    let seen = 0;
    for await (const chunk of node.content.chunks()) {
      seen += chunk.length;
      if (seen > size) throw new ReprimageError('IO', node.content.origin, `grew beyond ${size} bytes while being archived`);
      await sink.write(chunk);
    }
    if (seen !== size) throw new ReprimageError('IO', node.content.origin, `shrank to ${seen} of ${size} bytes while being archived`);
    const pad = pad4(size);
    if (pad > 0) await sink.write(new Uint8Array(pad));
    return;
  }
  await writeRaw(sink, name, fields, withData ? data : undefined);
}

/** Header, name and (small) data with their padding; file data is streamed by the caller. */
async function writeRaw(sink: Sink, name: string, fields: Omit<NewcHeader, 'namesize' | 'check'>, data: Uint8Array | undefined): Promise<void> {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const header = encodeNewcHeader({ ...fields, namesize: nameBytes.length, check: 0 });
  await sink.write(header);
  await sink.write(nameBytes);
  const namePad = pad4(header.length + nameBytes.length);
  if (namePad > 0) await sink.write(new Uint8Array(namePad));
  if (data && data.length > 0) {
    await sink.write(data);
    const pad = pad4(data.length);
    if (pad > 0) await sink.write(new Uint8Array(pad));
  }
}
