/**
 * Splitting one line of a file list into fields (docs/file-list.md): fields are separated by
 * blanks; `#` at the start of a field begins a comment; a field in double quotes may hold
 * blanks, `#` and escapes. Unquoted fields are taken literally, backslashes included, so the
 * lines of the kernel's gen_init_cpio mean what they meant there.
 */
import { ReprimageError } from '../errors.js';
import { nameBytes, nameFromBytes } from './names.js';

export interface Word {
  text: string;
  /** Written in double quotes: an xattr value in quotes is always text. */
  quoted: boolean;
}

const ESCAPES: Record<string, number> = { '\\': 0x5c, '"': 0x22, n: 0x0a, t: 0x09, r: 0x0d };

/** The fields of `line`; `where` (`FILE:LINE`) names the line in errors. */
export function splitWords(line: string, where: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"') {
      const [text, end] = quoted(line, i + 1, where);
      if (end < line.length && line[end] !== ' ' && line[end] !== '\t') {
        throw new ReprimageError('USAGE', where, `text after a closing quote at column ${end + 1}; separate fields with a blank`);
      }
      words.push({ text, quoted: true });
      i = end;
    } else {
      let end = i;
      while (end < line.length && line[end] !== ' ' && line[end] !== '\t') {
        if (line[end] === '"') throw new ReprimageError('USAGE', where, `a quote inside an unquoted field at column ${end + 1}; quote the whole field`);
        end++;
      }
      words.push({ text: line.slice(i, end), quoted: false });
      i = end;
    }
  }
  return words;
}

/** Reads a quoted field starting after its opening quote; returns it and the index after the closing quote. */
function quoted(line: string, start: number, where: string): [string, number] {
  const bytes: number[] = [];
  let i = start;
  for (;;) {
    if (i >= line.length) throw new ReprimageError('USAGE', where, `unterminated quote starting at column ${start}`);
    const c = line[i]!;
    if (c === '"') break;
    if (c !== '\\') {
      const cp = line.codePointAt(i)!;
      bytes.push(...nameBytes(String.fromCodePoint(cp))); // an escaped byte stays that byte
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const octal = /^[0-7]{3}/.exec(line.slice(i + 1, i + 4));
    if (octal) {
      const byte = parseInt(octal[0], 8);
      if (byte > 0xff) throw new ReprimageError('USAGE', where, `escape \\${octal[0]} at column ${i + 1} is more than one byte`);
      bytes.push(byte);
      i += 4;
      continue;
    }
    const e = line[i + 1];
    if (e === undefined || !(e in ESCAPES)) {
      throw new ReprimageError('USAGE', where, `unknown escape '\\${e ?? ''}' at column ${i + 1} (known: \\\\ \\" \\n \\t \\r \\ooo)`);
    }
    bytes.push(ESCAPES[e]!);
    i += 2;
  }
  // names are bytes (names.ts): `\351` gives the byte 0xE9 even where it is not UTF-8
  return [nameFromBytes(new Uint8Array(bytes)), i + 1];
}

/**
 * Writes `text` as one field that `splitWords` reads back unchanged: as it is when that is
 * safe, else in double quotes with `\\`, `\"`, `\n`, `\t`, `\r` and `\ooo` for other control
 * characters. For programs that generate file lists.
 */
export function quoteField(text: string): string {
  const escapedByte = (c: string) => c.length === 1 && c.charCodeAt(0) >= 0xdc80 && c.charCodeAt(0) <= 0xdcff;
  const control = (c: string) => c.charCodeAt(0) < 0x20 || c === '\x7f' || escapedByte(c);
  const chars = [...text];
  if (chars.length > 0 && !chars.some((c) => control(c) || /[\s"#\\]/.test(c))) return text;
  const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  const escaped = chars.map((c) => named[c] ?? (control(c) ? `\\${(c.charCodeAt(0) & 0xff).toString(8).padStart(3, '0')}` : c));
  return `"${escaped.join('')}"`;
}
