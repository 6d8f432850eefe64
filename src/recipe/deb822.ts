/**
 * Debian control-file syntax (deb822), as used by Release and Packages indices: stanzas separated
 * by blank lines, `Field: value` lines, continuation lines starting with a space or tab.
 */
import { ReprimageError } from '../errors.js';

/** One stanza: field names as written (case kept), values with continuation lines joined by "\n". */
export interface Stanza {
  fields: Map<string, string>;
  /** The stanza's text exactly as in the file (without the separating blank line). */
  text: string;
}

/** Splits `text` into stanzas; `subject` names the file in errors. */
export function parseStanzas(text: string, subject: string): Stanza[] {
  const out: Stanza[] = [];
  let fields = new Map<string, string>();
  let lines: string[] = [];
  let last: string | undefined;
  const flush = () => {
    if (fields.size > 0) out.push({ fields, text: `${lines.join('\n')}\n` });
    fields = new Map();
    lines = [];
    last = undefined;
  };
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.replace(/\r$/, '');
    if (line.trim() === '') {
      flush();
      continue;
    }
    lines.push(line);
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) throw new ReprimageError('CORRUPT_IMAGE', `${subject}:${i + 1}`, 'continuation line without a field');
      fields.set(last, `${fields.get(last)!}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ReprimageError('CORRUPT_IMAGE', `${subject}:${i + 1}`, `not a "Field: value" line: ${JSON.stringify(line.slice(0, 80))}`);
    last = line.slice(0, colon);
    fields.set(last, line.slice(colon + 1).trim());
  }
  flush();
  return out;
}

/** A field, case-insensitively (deb822 field names are case-insensitive). */
export function field(stanza: Stanza, name: string): string | undefined {
  const direct = stanza.fields.get(name);
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of stanza.fields) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export interface ReleaseFile {
  sha256: string;
  size: number;
}

/** The `SHA256:` list of a Release file: path → hash and size. */
export function releaseChecksums(release: Stanza, subject: string): Map<string, ReleaseFile> {
  const list = field(release, 'SHA256');
  if (list === undefined) throw new ReprimageError('CORRUPT_IMAGE', subject, 'Release has no SHA256 field');
  const out = new Map<string, ReleaseFile>();
  for (const line of list.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 1 && parts[0] === '') continue;
    const [hash, size, path] = parts;
    if (parts.length !== 3 || !/^[0-9a-f]{64}$/.test(hash!) || !/^\d+$/.test(size!)) {
      throw new ReprimageError('CORRUPT_IMAGE', subject, `bad SHA256 line in Release: ${JSON.stringify(line.slice(0, 120))}`);
    }
    out.set(path!, { sha256: hash!, size: Number(size) });
  }
  return out;
}
