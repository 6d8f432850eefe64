/**
 * Names and paths in a Tree. A path is relative to the tree's root, uses `/` between
 * components and has no `.`, `..` or empty components; the root itself is ''. Names compare
 * bytewise (as `LC_ALL=C sort`), never by locale (docs/design.md rule 2), and may hold any bytes
 * but `/` and NUL (rule 8; see `nameFromBytes`).
 */
import { ReprimageError } from '../errors.js';

/**
 * Names are byte strings (docs/design.md rule 8). A Tree holds them as JavaScript strings: valid
 * UTF-8 decodes as usual, and each byte that is not part of a valid UTF-8 sequence becomes the
 * lone surrogate U+DC80..U+DCFF (U+DC00 plus the byte), as Python's `surrogateescape` does.
 * Encoding turns each such lone surrogate back into its one byte, so bytes -> string -> bytes
 * is the identity, and a UTF-8 name keeps the exact string (and bytes) it always had.
 */
export function nameFromBytes(bytes: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return decodeEscaped(bytes);
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes of a name: UTF-8, except that an escaped byte (lone U+DC80..U+DCFF) is itself. */
export function nameBytes(name: string): Uint8Array {
  if (!SURROGATE.test(name)) return Buffer.from(name, 'utf8');
  const chunks: Buffer[] = [];
  let from = 0;
  for (const m of name.matchAll(ESCAPED_BYTE_G)) {
    chunks.push(Buffer.from(name.slice(from, m.index), 'utf8'), Buffer.of(m[0].charCodeAt(0) - 0xdc00));
    from = m.index + 1;
  }
  chunks.push(Buffer.from(name.slice(from), 'utf8'));
  return Buffer.concat(chunks);
}

/** The UTF-8 bytes of a name, as written into archives (escaped bytes written as themselves). */
export const utf8 = nameBytes;

const SURROGATE = /[\uD800-\uDFFF]/;
/** A low surrogate standing for a byte, not the second half of a pair. */
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const ESCAPED_BYTE_G = new RegExp(ESCAPED_BYTE.source, 'g');

/** True when a name holds bytes that are not UTF-8 (writers storing UTF-16 or UCS-2 names care). */
export function hasEscapedBytes(name: string): boolean {
  return SURROGATE.test(name) && ESCAPED_BYTE.test(name);
}

/** Strict UTF-8 (no overlong forms, no encoded surrogates, nothing above U+10FFFF), else escapes. */
function decodeEscaped(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    // sequence length, lead bits and the smallest code point of that length (no overlongs)
    const [len, lead, min] = c < 0x80 ? [1, 0x7f, 0] : c >= 0xc2 && c <= 0xdf ? [2, 0x1f, 0x80] : c >= 0xe0 && c <= 0xef ? [3, 0x0f, 0x800] : c >= 0xf0 && c <= 0xf4 ? [4, 0x07, 0x10000] : [0, 0, 0];
    let cp = c & lead;
    let ok = len > 0 && i + len <= b.length;
    for (let k = 1; ok && k < len; k++) {
      const t = b[i + k]!;
      if ((t & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (t & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok) {
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/**
 * Bytewise order of the names' bytes (as `LC_ALL=C sort`), escaped bytes included. JavaScript
 * compares UTF-16 code units, which agrees with UTF-8 byte order below the surrogates; from the
 * first differing code unit on, a surrogate on either side means comparing the encoded bytes.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    if ((x < 0xd800 || x >= 0xe000) && (y < 0xd800 || y >= 0xe000)) return (x >= 0xd800 ? x - 0x800 : x) - (y >= 0xd800 ? y - 0x800 : y);
    // start at a code point boundary: the shared prefix then encodes the same on both sides
    const prev = i > 0 ? a.charCodeAt(i - 1) : 0;
    const from = prev >= 0xd800 && prev <= 0xdbff ? i - 1 : i;
    return Buffer.compare(nameBytes(a.slice(from)), nameBytes(b.slice(from)));
  }
  return a.length - b.length;
}

const C_ESCAPES: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0b: '\\v', 0x0c: '\\f', 0x0d: '\\r', 0x5c: '\\\\' };
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const NEEDS_ESCAPE = /[\x00-\x1f\x7f-\x9f\\\uD800-\uDFFF]/;

/**
 * A name (or path, or link target) for a person to read, one line whatever it holds: a byte
 * that is not UTF-8 is `\ooo` (octal), control characters are `\n`, `\t`… or octal, and a
 * backslash is doubled, as GNU tar's default `escape` quoting prints names in `tar -tv`.
 * Valid UTF-8 names without control characters or backslashes are unchanged.
 */
export function displayName(name: string): string {
  if (!NEEDS_ESCAPE.test(name)) return name;
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const next = name.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += name[i]! + name[i + 1]!;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      out += octal(c - 0xdc00);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\\' + c.toString(16); // a lone surrogate no byte string decodes to: visible, not silent
    } else if (C_ESCAPES[c] !== undefined) {
      out += C_ESCAPES[c];
    } else if (c < 0x20 || c === 0x7f) {
      out += octal(c);
    } else if (c >= 0x80 && c <= 0x9f) {
      for (const byte of Buffer.from(name[i]!, 'utf8')) out += octal(byte);
    } else {
      out += name[i]!;
    }
  }
  return out;
}

function octal(byte: number): string {
  return '\\' + byte.toString(8).padStart(3, '0');
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


/**
 * A path for node:fs calls: the string itself when it is UTF-8, else its bytes, so that a name
 * read with escaped bytes opens the same file again.
 */
export function fsPath(path: string): string | Buffer {
  return hasEscapedBytes(path) ? Buffer.from(nameBytes(path)) : path;
}
