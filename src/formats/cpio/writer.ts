/**
 * The cpio newc writer. With the default options its output equals GNU cpio 2.13's for
 *
 *   cd DIR && find . | LC_ALL=C sort | cpio -o -H newc --reproducible
 *
 * on the same tree with clamped mtimes (docs/formats/cpio.md lists what was measured):
 * - entries in whole-path bytewise order (`tree.walkSortedPaths()`), names without `./`, the
 *   root written as `.`;
 * - inode numbers counted from 0 in order of first appearance (--renumber-inodes); hard links
 *   share theirs; device fields 0 (--ignore-devno); nlink as stat reports it;
 * - a hard-linked *regular file* is written once per link, but every link but the last is held
 *   back and written, without data, just before the last, newest first; the last carries the
 *   data. Hard-linked symlinks, devices, fifos and sockets are written in place, each with its
 *   data (GNU cpio defers only regular files);
 * - a `TRAILER!!!` entry (all fields 0 but nlink 1), then zeros to a multiple of 512 bytes.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import { displayName, nameBytes } from '../../tree/names.js';
import { copyToSink } from '../../tree/content.js';
import { TYPE_BITS, type Node, type Tree } from '../../tree/tree.js';
import { clampedToBuildTime } from '../../tree/copy.js';
import { CPIO_ARCHIVE_BLOCK, CPIO_NEWC_HEADER_SIZE, CPIO_NEWC_MAGIC, CPIO_TRAILER, encodeNewcHeader, pad4, type NewcHeader } from './layout.js';

export interface CpioWriteOptions {
  /** The build time (SOURCE_DATE_EPOCH), in seconds: entry mtimes later than it are stored as it. */
  buildTime: number;
  /** Hears once about each kind of metadata newc cannot hold (xattrs, sub-second times). */
  warn?: (message: string) => void;
  /**
   * `''` (default): names as GNU cpio writes them from `find .` (`usr/bin`).
   * `'./'`: names as bsdtar writes them from `.` (`./usr/bin`). The root is `.` either way; the
   * kernel unpacks both the same.
   */
  namePrefix?: '' | './';
}

const U32 = 0xffffffff;

type Fields = Omit<NewcHeader, 'namesize' | 'check'>;

/**
 * Writes `tree` as a newc archive to `sink`. The bytes depend only on the tree and the options.
 * Throws UNSUPPORTED (naming the entry) for a uid, gid, mtime or size that newc cannot hold,
 * and IO if a file's contents change size while they are streamed.
 */
export async function writeCpio(given: Tree, sink: Sink, options: CpioWriteOptions): Promise<void> {
  if (!Number.isSafeInteger(options.buildTime) || options.buildTime < 0) throw new ReprimageError('USAGE', 'buildTime', `must be a non-negative whole number of seconds since 1970, got ${options.buildTime}`);
  const tree = clampedToBuildTime(given, options.buildTime);
  const prefix = options.namePrefix ?? '';
  if (prefix !== '' && prefix !== './') throw new ReprimageError('USAGE', 'cpio namePrefix', `must be '' or './', not ${JSON.stringify(prefix)}`);
  const start = sink.position;
  const linkCounts = tree.linkCounts();
  const inodes = new Map<Node, number>();
  const seenLinks = new Map<Node, number>();
  const heldBack = new Map<Node, string[]>();
  const lost = { xattrs: 0, nsec: 0 };
  for (const { path, node } of tree.walkSortedPaths()) {
    const name = path === '' ? '.' : prefix + path;
    if (!inodes.has(node)) {
      inodes.set(node, inodes.size);
      if (node.xattrs.size > 0) lost.xattrs++;
      if (node.mtime.nsec !== 0) lost.nsec++;
    }
    const ino = inodes.get(node)!;
    const nlink = linkCounts.get(node) ?? 1;
    if (node.kind === 'file' && nlink > 1) {
      const seen = (seenLinks.get(node) ?? 0) + 1;
      seenLinks.set(node, seen);
      const earlier = heldBack.get(node) ?? [];
      if (seen < nlink) {
        heldBack.set(node, [name, ...earlier]); // GNU cpio keeps a stack: newest first
        continue;
      }
      heldBack.delete(node);
      for (const held of earlier) await writeEntry(sink, held, node, ino, nlink, false);
    }
    await writeEntry(sink, name, node, ino, nlink, true);
  }
  if (lost.xattrs > 0) options.warn?.(`cpio newc cannot hold extended attributes: left out on ${lost.xattrs} entr${lost.xattrs === 1 ? 'y' : 'ies'}`);
  if (lost.nsec > 0) options.warn?.(`cpio newc holds whole seconds: sub-second mtimes cut on ${lost.nsec} entr${lost.nsec === 1 ? 'y' : 'ies'}`);
  const trailer: Fields = { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0 };
  await writeHeaderAndName(sink, CPIO_TRAILER, trailer);
  const written = sink.position - start;
  const pad = (CPIO_ARCHIVE_BLOCK - (written % CPIO_ARCHIVE_BLOCK)) % CPIO_ARCHIVE_BLOCK;
  if (pad > 0) await sink.write(new Uint8Array(pad));
}

async function writeEntry(sink: Sink, name: string, node: Node, ino: number, nlink: number, withData: boolean): Promise<void> {
  const fits = (value: number, what: string) => {
    if (!Number.isSafeInteger(value) || value < 0 || value > U32) {
      throw new ReprimageError('UNSUPPORTED', displayName(name), `${what} ${value} does not fit a cpio newc header (0 to ${U32})`);
    }
    return value;
  };
  const target = node.kind === 'symlink' ? nameBytes(node.target) : undefined;
  const size = !withData ? 0 : node.kind === 'file' ? node.content.size : (target?.length ?? 0);
  const device = node.kind === 'char' || node.kind === 'block';
  await writeHeaderAndName(sink, name, {
    ino,
    mode: TYPE_BITS[node.kind] | (node.mode & 0o7777),
    uid: fits(node.uid, 'uid'),
    gid: fits(node.gid, 'gid'),
    nlink,
    mtime: fits(node.mtime.sec, 'mtime'),
    filesize: fits(size, 'size'),
    devmajor: 0,
    devminor: 0,
    rdevmajor: device ? fits(node.major, 'device major') : 0,
    rdevminor: device ? fits(node.minor, 'device minor') : 0,
  });
  if (size === 0) return;
  if (target) {
    await sink.write(target);
  } else if (node.kind === 'file' && (await copyToSink(node.content, sink))) {
    // read straight into the sink's buffer: no allocation per file (as the tar writer)
  } else if (node.kind === 'file') {
    let seen = 0;
    for await (const chunk of node.content.chunks()) {
      seen += chunk.length;
      if (seen > size) throw new ReprimageError('IO', node.content.origin, `grew beyond ${size} bytes while being archived`);
      await sink.write(chunk);
    }
    if (seen !== size) throw new ReprimageError('IO', node.content.origin, `shrank to ${seen} of ${size} bytes while being archived`);
  }
  const pad = pad4(size);
  if (pad > 0) await sink.write(ZERO_PADS[pad]!);
}

/** 1 to 3 zero bytes, made once; never changed. */
const ZERO_PADS: readonly Uint8Array[] = [0, 1, 2, 3].map((n) => new Uint8Array(n));

/**
 * The header, the NUL-terminated name and the padding that brings the data to a 4-byte
 * boundary. Into a sink that lends its buffer they are written in place, digit by digit (no
 * string or buffer per entry); any other sink is handed bytes of its own.
 */
async function writeHeaderAndName(sink: Sink, name: string, fields: Fields): Promise<void> {
  const nameZ = nameBytes(`${name}\0`);
  const total = CPIO_NEWC_HEADER_SIZE + nameZ.length + pad4(CPIO_NEWC_HEADER_SIZE + nameZ.length);
  if (sink.fill === undefined) {
    const out = new Uint8Array(total);
    out.set(encodeNewcHeader({ ...fields, namesize: nameZ.length, check: 0 }), 0);
    out.set(nameZ, CPIO_NEWC_HEADER_SIZE);
    return sink.write(out);
  }
  const block = HEADER_BLOCK.length >= total ? HEADER_BLOCK : new Uint8Array(total);
  block.fill(0, 0, total);
  block.set(NEWC_MAGIC_BYTES, 0);
  const values = [fields.ino, fields.mode, fields.uid, fields.gid, fields.nlink, fields.mtime, fields.filesize, fields.devmajor, fields.devminor, fields.rdevmajor, fields.rdevminor, nameZ.length, 0];
  for (let i = 0; i < values.length; i++) putHex8(block, 6 + 8 * i, values[i]!);
  block.set(nameZ, CPIO_NEWC_HEADER_SIZE);
  let at = 0;
  await sink.fill(total, (view) => {
    view.set(block.subarray(at, at + view.length));
    at += view.length;
  });
}

/** Reused for every entry whose header and name fit (nearly all: names up to 4 KiB). */
const HEADER_BLOCK = new Uint8Array(CPIO_NEWC_HEADER_SIZE + 4096 + 4);
const NEWC_MAGIC_BYTES = new TextEncoder().encode(CPIO_NEWC_MAGIC);
const HEX_UPPER = new TextEncoder().encode('0123456789ABCDEF');

/** `value` (0 to 2 ** 32 - 1) as eight upper-case hexadecimal digits, as encodeNewcHeader writes it. */
function putHex8(into: Uint8Array, at: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    into[at + i] = HEX_UPPER[value & 15]!;
    value >>>= 4;
  }
}
