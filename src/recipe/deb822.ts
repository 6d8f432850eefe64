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

/**
 * Visits the stanzas of a large index (a Packages file: tens of MB, tens of thousands of
 * stanzas) with only the fields named in `wanted` (lower case) collected, keys in lower case.
 * The same syntax and errors as `parseStanzas`, without its cost: no array of every line, no map
 * of every field, and each stanza's text is a slice of `text` (V8 keeps a slice as a reference
 * into it) instead of a copy. `lock` of a desktop recipe peaked at 724 MB with `parseStanzas`.
 */
export function scanStanzas(text: string, subject: string, wanted: ReadonlySet<string>, visit: (fields: Map<string, string>, stanzaText: string) => void): void {
  let fields = new Map<string, string>();
  let count = 0; // fields in this stanza, wanted or not
  let last: string | undefined; // the last field's name (lower case), if wanted
  let start = -1; // where this stanza's first line starts
  let end = -1; // where its last line ends (at its '\n' or '\r\n', or the end of the text)
  let hasCr = false;
  const flush = () => {
    if (count > 0) visit(fields, stanzaTextOf(text, start, end, hasCr));
    fields = new Map();
    count = 0;
    last = undefined;
    start = -1;
    hasCr = false;
  };
  let lineNo = 0;
  for (let pos = 0; pos < text.length; ) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    let lineEnd = nl;
    const cr = lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13;
    if (cr) lineEnd--;
    const first = pos < lineEnd ? text.charCodeAt(pos) : -1;
    const lineStart = pos;
    pos = nl + 1;
    if (first === -1 || ((first <= 32 || first >= 128) && text.slice(lineStart, lineEnd).trim() === '')) {
      flush();
      continue;
    }
    if (start < 0) start = lineStart;
    end = lineEnd;
    hasCr ||= cr;
    if (first === 32 || first === 9) {
      if (count === 0) throw new ReprimageError('CORRUPT_IMAGE', `${subject}:${lineNo}`, 'continuation line without a field');
      if (last !== undefined) fields.set(last, `${fields.get(last)!}\n${text.slice(lineStart + 1, lineEnd)}`);
      continue;
    }
    const colon = text.indexOf(':', lineStart);
    if (colon <= lineStart || colon >= lineEnd) {
      throw new ReprimageError('CORRUPT_IMAGE', `${subject}:${lineNo}`, `not a "Field: value" line: ${JSON.stringify(text.slice(lineStart, Math.min(lineEnd, lineStart + 80)))}`);
    }
    count++;
    const name = text.slice(lineStart, colon).toLowerCase();
    last = wanted.has(name) ? name : undefined;
    if (last !== undefined) fields.set(last, text.slice(colon + 1, lineEnd).trim());
  }
  flush();
}

/** A stanza's lines joined by "\n" with one after the last, as `parseStanzas` gives it. */
function stanzaTextOf(text: string, start: number, end: number, hasCr: boolean): string {
  if (hasCr) {
    return `${text
      .slice(start, end)
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .join('\n')}\n`;
  }
  return text.charCodeAt(end) === 10 ? text.slice(start, end + 1) : `${text.slice(start, end)}\n`;
}
