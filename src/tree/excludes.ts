/**
 * Exclude patterns (docs/metadata-policy.md): anchored at the tree root; `*` and `?` stay within
 * one path component; `**` crosses components; a pattern without `/` matches that name at any
 * depth (like mksquashfs's `... name`); excluding a directory excludes everything under it.
 */
import { readFile } from 'node:fs/promises';
import picomatch from 'picomatch';
import { ReprimageError, fromSystemError } from '../errors.js';

export type PathMatcher = (path: string) => boolean;

export function compileExcludes(patterns: string[], subject: string): PathMatcher {
  const matchers = patterns.map((raw, i) => {
    const pattern = raw.replace(/^\.?\//, '').replace(/\/+$/, '');
    if (pattern === '') throw new ReprimageError('USAGE', subject, `pattern ${i + 1} is empty`);
    try {
      return picomatch(pattern, { dot: true, basename: !pattern.includes('/'), nonegate: true });
    } catch (e) {
      throw new ReprimageError('USAGE', subject, `bad pattern ${JSON.stringify(raw)}: ${(e as Error).message}`);
    }
  });
  return (path) => matchers.some((m) => m(path));
}

/** One pattern per line; blank lines and lines starting with `#` are ignored. */
export async function readPatternFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw fromSystemError(e, path);
  }
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}
