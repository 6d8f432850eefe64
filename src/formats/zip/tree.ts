/**
 * A zip archive as a Tree, for `ls` and `pack` (the differ compares zip entries field by field
 * instead: src/diff/comparators/zip.ts). What the Tree keeps:
 *
 * - paths: names ending in `/` are directories; a leading `/` is dropped as unzip does; `..`
 *   is PATH_ESCAPE; parents not listed are made 0755 at the epoch;
 * - type and permissions: from the Unix mode in the external attributes when the entry was made
 *   on Unix (file, directory, symbolic link whose target is the entry's data); else 0644 for
 *   files and 0755 for directories;
 * - mtime: the extended-timestamp extra field (`UT`) when present, else the DOS time read as
 *   UTC (DOS times carry no zone; reading them in the host's zone would make the Tree depend on
 *   it, DESIGN.md rule 1);
 * - uid and gid: the Info-ZIP Unix extra field (`ux`) when present, else 0.
 */
import { ReprimageError } from '../../errors.js';
import { readContent } from '../../tree/content.js';
import { DuplicateNames } from '../../tree/duplicates.js';
import { toTreePath } from '../../tree/names.js';
import { Tree, kindFromMode, newDir, newMeta, type Time } from '../../tree/tree.js';
import { EXTRA_EXTENDED_TIMESTAMP, EXTRA_INFOZIP_UNIX_NEW, dosToUnix, splitExtra } from './layout.js';
import type { ZipArchive, ZipEntry } from './reader.js';

/** A symbolic link's target is its data: longer than PATH_MAX is not a link target. */
const MAX_LINK_TARGET = 4096;
const HOST_UNIX = 3;

export async function zipTree(zip: ZipArchive, subject: string, warn: (message: string) => void): Promise<Tree> {
  const tree = new Tree(newDir({ mode: 0o755 }));
  const duplicates = new DuplicateNames(subject, 'entry');
  for (const e of zip.entries) {
    const where = `${subject} ▸ ${e.name}`;
    const path = toTreePath(e.name, where, { allowAbsolute: true });
    const unixMode = e.versionMadeBy >> 8 === HOST_UNIX ? e.externalAttributes >>> 16 : 0;
    const isDirName = e.name.endsWith('/');
    const kind = kindFromMode(unixMode) ?? (isDirName ? 'dir' : 'file');
    const meta = newMeta({ mode: unixMode & 0o7777 || (kind === 'dir' ? 0o755 : 0o644), mtime: entryTime(e), ...entryOwner(e) });
    duplicates.see(path, kind === 'dir');
    if (path === '') {
      if (kind === 'dir') Object.assign(tree.root, meta);
      continue;
    }
    switch (kind) {
      case 'dir':
        tree.set(path, { ...newDir(meta) });
        break;
      case 'file':
        tree.set(path, { kind: 'file', ...meta, content: zip.content(e) });
        break;
      case 'symlink': {
        if (e.size > MAX_LINK_TARGET) throw new ReprimageError('CORRUPT_IMAGE', where, `symbolic link target of ${e.size} bytes`);
        const target = Buffer.from(await readContent(zip.content(e))).toString('utf8');
        tree.set(path, { kind: 'symlink', ...meta, target });
        break;
      }
      default:
        throw new ReprimageError('UNSUPPORTED', where, `a ${kind} in a zip archive`);
    }
  }
  duplicates.report(warn);
  return tree;
}

/** The `UT` mtime (local header first, where Info-ZIP puts all three times), else the DOS time as UTC. */
function entryTime(e: ZipEntry): Time {
  for (const extra of [e.localExtra, e.extra]) {
    const field = splitExtra(extra).fields.find((f) => f.id === EXTRA_EXTENDED_TIMESTAMP);
    if (field && field.data.length >= 5 && field.data[0]! & 1) return { sec: new DataView(field.data.buffer, field.data.byteOffset).getInt32(1, true), nsec: 0 };
  }
  return { sec: dosToUnix(e.dosDate, e.dosTime), nsec: 0 };
}

/** uid and gid from Info-ZIP's `ux` field (version 1, then size-prefixed little-endian numbers). */
function entryOwner(e: ZipEntry): { uid: number; gid: number } {
  for (const extra of [e.localExtra, e.extra]) {
    const d = splitExtra(extra).fields.find((f) => f.id === EXTRA_INFOZIP_UNIX_NEW)?.data;
    if (!d || d.length < 3 || d[0] !== 1) continue;
    const uidSize = d[1]!;
    const gidSize = d[2 + uidSize];
    if (uidSize > 4 || gidSize === undefined || gidSize > 4 || d.length < 3 + uidSize + gidSize) continue;
    return { uid: le(d, 2, uidSize), gid: le(d, 3 + uidSize, gidSize) };
  }
  return { uid: 0, gid: 0 };
}

function le(bytes: Uint8Array, at: number, size: number): number {
  let n = 0;
  for (let i = size - 1; i >= 0; i--) n = n * 256 + bytes[at + i]!;
  return n;
}
