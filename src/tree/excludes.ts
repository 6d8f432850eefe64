/**
 * Path patterns for excludes and emptied files (docs/metadata-policy.md). A pattern is anchored
 * at the tree root (a leading `/` or `./` and trailing `/` are ignored); `*`, `?` and `[…]`
 * match within one path component, dot files included; `**` as a whole component matches any
 * number of components; a pattern without `/` matches that name at any depth (like mksquashfs's
 * `... name`); and when a directory matches, so does everything under it. Braces, extglobs and
 * `!` negation are not special: patterns mean what fnmatch(3) would make of them, plus `**`.
 */
import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { ReprimageError, fromSystemError } from '../errors.js';
import { nameFromBytes } from './names.js';

/** True when a Tree path is matched by a pattern, itself or through one of its directories. */
export type PathMatcher = (path: string) => boolean;

const OPTIONS = { dot: true, nonegate: true, noextglob: true, nobrace: true, strictSlashes: true } as const;

/**
 * Compiles patterns into one matcher. A bad pattern (empty, or with a `..` component, or one
 * picomatch refuses) is a USAGE error naming `subject` and the pattern; patterns read by
 * `readPatternFile` were already checked line by line.
 */
export function compileExcludes(patterns: readonly string[], subject: string): PathMatcher {
  const matchers = patterns.map((raw, i) => compilePattern(raw, patterns.length === 1 ? subject : `${subject} (pattern ${i + 1})`));
  if (matchers.length === 0) return () => false;
  return (path) => {
    if (path === '') return false;
    // the path itself, then each of its directories: `var/cache` excludes `var/cache/apt/x`
    let end = path.length;
    while (end > 0) {
      const prefix = path.slice(0, end);
      if (matchers.some((m) => m(prefix))) return true;
      end = path.lastIndexOf('/', end - 1);
    }
    return false;
  };
}

function compilePattern(raw: string, where: string): (path: string) => boolean {
  const pattern = raw.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
  if (pattern === '') throw new ReprimageError('USAGE', where, `empty pattern ${JSON.stringify(raw)}`);
  if (pattern.includes('\0')) throw new ReprimageError('USAGE', where, `pattern ${JSON.stringify(raw)} contains a NUL byte`);
  if (pattern.split('/').includes('..')) throw new ReprimageError('USAGE', where, `pattern ${JSON.stringify(raw)} has a '..' component, which no tree path has`);
  // fnmatch's `[!…]` is picomatch's `[^…]`
  const glob = pattern.replace(/(^|[^\\])\[!/g, '$1[^');
  try {
    return picomatch(glob, { ...OPTIONS, basename: !pattern.includes('/') });
  } catch (e) {
    throw new ReprimageError('USAGE', where, `bad pattern ${JSON.stringify(raw)}: ${(e as Error).message}`);
  }
}

/**
 * Reads a pattern file like `mksquashfs -wildcards -ef FILE`: one pattern per line; blank lines
 * and lines whose first non-blank character is `#` are ignored; blanks around a pattern are
 * dropped. Every pattern is checked here, so an error names `FILE:LINE`.
 */
export async function readPatternFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = nameFromBytes(readFileSync(path)); // patterns may name bytes that are not UTF-8
  } catch (e) {
    throw fromSystemError(e, path);
  }
  const patterns: string[] = [];
  text.split('\n').forEach((line, i) => {
    const pattern = line.trim();
    if (pattern === '' || pattern.startsWith('#')) return;
    compilePattern(pattern, `${path}:${i + 1}`);
    patterns.push(pattern);
  });
  return patterns;
}
