/**
 * File names on FAT: which long names can be stored, how two names collide (FAT compares names
 * without regard to case), and the 8.3 short name of each entry.
 *
 * Short names follow Linux vfat with `shortname=winnt` (what Windows NT and mtools do):
 * - a name that is already a valid 8.3 name whose base and extension are each all upper case or
 *   all lower case is stored as a short name only, lower-case parts marked by the DIR_NTRes case
 *   bits 0x08 (base) and 0x10 (extension);
 * - any other name gets long-name entries and a short alias: the name upper-cased, spaces and
 *   dots before the last dot dropped, characters that 8.3 names cannot hold (`+,;=[]` and every
 *   non-ASCII character) replaced by `_`, base cut to 8 and extension to 3 characters;
 * - the alias keeps this "basis" unchanged only when nothing was lost but case; otherwise it gets
 *   a numeric tail `~1` … `~9` after at most 6 base characters (as Linux and Windows), then
 *   `~10` … `~999999` with the base shortened to make room (fatgen103's numeric-tail rule; Linux
 *   and Windows switch to random or hashed tails there, which would not be reproducible).
 * Aliases are chosen per directory after every name that is a short name by itself has been
 * placed, and in bytewise name order, so they depend only on the set of names.
 */

/** Characters Linux vfat refuses in long names (besides controls below 0x20). */
const LONG_NAME_BAD = new Set(['"', '*', '/', ':', '<', '>', '?', '\\', '|']);
/** Punctuation allowed in short names (fatgen103 §6.1), besides A–Z and 0–9. */
const SHORT_NAME_PUNCT = new Set([...'$%\'-_@~`!(){}^#&']);
/** Characters allowed in long names that a short name must replace by `_`. */
const SHORT_NAME_REPLACED = new Set([...'+,;=[]']);

/** Why `name` cannot be a FAT long name, or undefined when it can. */
export function longNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'is not a file name';
  if (name.length > 255) return 'is longer than 255 UTF-16 code units';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    // a byte that is not UTF-8 (names.ts keeps it as U+DC80..U+DCFF) has no UTF-16 form
    if (c >= 0xdc80 && c <= 0xdcff) return `is not UTF-8 (byte \\${(c - 0xdc00).toString(8)}), and FAT long names are UTF-16`;
    if (c < 0x20 || LONG_NAME_BAD.has(ch)) return `contains ${JSON.stringify(ch)}, which FAT cannot store`;
    if (c >= 0xd800 && c <= 0xdfff) return 'contains an unpaired UTF-16 surrogate';
  }
  if (name.endsWith('.') || name.endsWith(' ')) return 'ends with a dot or a space, which FAT readers strip';
  return undefined;
}

/** Upper-cases one UTF-16 unit the way FAT's case-insensitive compare does (no locale). */
function upperUnit(ch: string): string {
  const u = ch.toUpperCase();
  return u.length === ch.length ? u : ch;
}

/** The key under which two long names collide: upper case, unit by unit, locale-free. */
export function foldName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) out += upperUnit(name[i]!);
  return out;
}

/** The 11 bytes of an 8.3 name ("NAME    EXT"), DIR_Name. */
export type ShortName = string;

/** The short name chosen for one long name, and whether long-name entries must precede it. */
export interface ShortNameChoice {
  /** 11 ASCII characters, space-padded: base (8) then extension (3). */
  short: ShortName;
  /** DIR_NTRes case bits (CASE_LOWER_BASE, CASE_LOWER_EXT). */
  caseFlags: number;
  /** Whether long-name entries must precede the short entry. */
  needsLongName: boolean;
}

interface Basis {
  base: string;
  ext: string;
  /** True when nothing but case was lost: the name itself is a valid 8.3 name. */
  lossless: boolean;
  baseCase: 'upper' | 'lower' | 'mixed' | 'none';
  extCase: 'upper' | 'lower' | 'mixed' | 'none';
}

function caseOf(part: string): Basis['baseCase'] {
  let upper = false;
  let lower = false;
  for (const ch of part) {
    if (ch >= 'a' && ch <= 'z') lower = true;
    else if (ch >= 'A' && ch <= 'Z') upper = true;
  }
  return upper && lower ? 'mixed' : upper ? 'upper' : lower ? 'lower' : 'none';
}

/** Maps one character of a long name into a short name, or undefined for dropped ones. */
function shortChar(ch: string): { out: string; lossy: boolean } {
  if (ch >= 'a' && ch <= 'z') return { out: ch.toUpperCase(), lossy: false };
  if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || SHORT_NAME_PUNCT.has(ch)) return { out: ch, lossy: false };
  if (SHORT_NAME_REPLACED.has(ch)) return { out: '_', lossy: true };
  return { out: '_', lossy: true }; // non-ASCII: not mapped to an OEM code page (documented)
}

/** The basis name: Linux vfat's split at the last dot, with dots and spaces of the base dropped. */
function basisOf(name: string): Basis {
  let dot = name.lastIndexOf('.');
  // A name that is only dots and spaces before its last dot (".bashrc") has no extension.
  if (dot >= 0 && /^[. ]*$/.test(name.slice(0, dot))) dot = -1;
  const rawBase = dot < 0 ? name : name.slice(0, dot);
  const rawExt = dot < 0 ? '' : name.slice(dot + 1);
  let lossless = true;
  let base = '';
  for (const ch of rawBase) {
    if (ch === '.' || ch === ' ') {
      lossless = false;
      continue;
    }
    const m = shortChar(ch);
    if (m.lossy) lossless = false;
    if (base.length < 8) base += m.out;
    else lossless = false;
  }
  let ext = '';
  for (const ch of rawExt) {
    if (ch === '.' || ch === ' ') {
      lossless = false;
      continue;
    }
    const m = shortChar(ch);
    if (m.lossy) lossless = false;
    if (ext.length < 3) ext += m.out;
    else lossless = false;
  }
  if (base === '') {
    base = '_';
    lossless = false;
  }
  return { base, ext, lossless, baseCase: caseOf(rawBase), extCase: caseOf(rawExt) };
}

function pack(base: string, ext: string): ShortName {
  return base.padEnd(8, ' ') + ext.padEnd(3, ' ');
}

/**
 * Chooses the short names of one directory's entries. `names` are the long names in the order
 * they are stored; the result has one choice per name, in the same order. Throws nothing: the
 * caller has checked `longNameProblem` and case-insensitive collisions first.
 */
export function chooseShortNames(names: readonly string[]): ShortNameChoice[] {
  const taken = new Set<ShortName>();
  const out: Array<ShortNameChoice | undefined> = new Array(names.length);
  const bases = names.map(basisOf);
  // Pass 1: names that are short names by themselves keep them.
  bases.forEach((b, i) => {
    if (!b.lossless) return;
    const short = pack(b.base, b.ext);
    const caseFine = b.baseCase !== 'mixed' && b.extCase !== 'mixed';
    if (caseFine && !taken.has(short)) {
      taken.add(short);
      const caseFlags = (b.baseCase === 'lower' ? 0x08 : 0) | (b.extCase === 'lower' ? 0x10 : 0);
      out[i] = { short, caseFlags, needsLongName: false };
    }
  });
  // Pass 2: names that need a long name; a lossless basis ("Makefile") is used as is if free.
  bases.forEach((b, i) => {
    if (out[i]) return;
    if (b.lossless) {
      const short = pack(b.base, b.ext);
      if (!taken.has(short)) {
        taken.add(short);
        out[i] = { short, caseFlags: 0, needsLongName: true };
        return;
      }
    }
    for (let n = 1; n <= 999999; n++) {
      const tail = `~${n}`;
      const short = pack(b.base.slice(0, 8 - tail.length) + tail, b.ext);
      if (!taken.has(short)) {
        taken.add(short);
        out[i] = { short, caseFlags: 0, needsLongName: true };
        return;
      }
    }
    throw new Error('unreachable: a directory holds at most 65536 entries');
  });
  return out as ShortNameChoice[];
}

/** The checksum of an 11-byte short name that every long-name entry of the set carries. */
export function shortNameChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** The short name as a reader shows it: trailing spaces dropped, the case bits applied. */
export function displayShortName(short: Uint8Array, caseFlags: number): string {
  const bytes = short.slice(0, 11);
  if (bytes[0] === 0x05) bytes[0] = 0xe5;
  let base = Buffer.from(bytes.subarray(0, 8)).toString('latin1').replace(/ +$/, '');
  let ext = Buffer.from(bytes.subarray(8, 11)).toString('latin1').replace(/ +$/, '');
  if (caseFlags & 0x08) base = base.toLowerCase();
  if (caseFlags & 0x10) ext = ext.toLowerCase();
  return ext === '' ? base : `${base}.${ext}`;
}
