/**
 * Names and paths in a Tree. A path is relative to the tree's root, uses `/` between
 * components and has no `.`, `..` or empty components; the root itself is ''. Names compare
 * bytewise in UTF-8 (as `LC_ALL=C sort`), never by locale (DESIGN.md rule 2).
 */
import { ReprimageError } from '../errors.js';

/**
 * Bytewise UTF-8 order. JavaScript compares UTF-16 code units, which disagrees with UTF-8 byte
 * order only between surrogates (astral characters) and U+E000..U+FFFF; the adjustment below
 * maps code units onto code-point order.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Turns a path as an archive or a file list spells it (`./usr/bin/`, `/etc`, `a//b`) into a Tree
 * path. Leading `./` and `/` are dropped only when `allowAbsolute`; a `..` component is always
 * refused, because it would place the entry outside the tree.
 */
export function toTreePath(raw: string, subject: string, options: { allowAbsolute?: boolean } = {}): string {
  if (raw.includes('\0')) throw new ReprimageError('CORRUPT_IMAGE', subject, `path contains a NUL byte: ${JSON.stringify(raw)}`);
  if (raw.startsWith('/') && !options.allowAbsolute) {
    throw new ReprimageError('PATH_ESCAPE', subject, `absolute path ${JSON.stringify(raw)}`);
  }
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new ReprimageError('PATH_ESCAPE', subject, `path ${JSON.stringify(raw)} climbs out of its root with '..'`);
    parts.push(part);
  }
  return parts.join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The UTF-8 bytes of a name, as written into archives. */
export function utf8(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}
