/**
 * ISO 9660 file and directory identifiers (ECMA-119 §7.5, §7.6, §9.3) as we write them:
 * d-characters only (A–Z, 0–9, _), at most 31 characters (interchange level 2), files as
 * "NAME.EXT;1", directories without a dot. Rock Ridge and Joliet carry the real names; these
 * are the fallback for readers without either. Collisions get a numeric suffix, assigned in
 * bytewise order of the real names, so the result is deterministic.
 */

export const ISO_MAX_ID_LENGTH = 31;

function dChars(s: string): string {
  // plain ASCII (nearly every name) without a regular expression per character
  let ascii = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return dCharsOfText(s);
    const upper = c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
    const keep = (upper >= 0x41 && upper <= 0x5a) || (upper >= 0x30 && upper <= 0x39) || upper === 0x5f;
    ascii += keep ? String.fromCharCode(upper) : '_';
  }
  return ascii;
}

function dCharsOfText(s: string): string {
  let out = '';
  for (const ch of s.toUpperCase()) out += /^[A-Z0-9_]$/.test(ch) ? ch : '_';
  return out;
}

/** The identifier of a file named `name` (without collision handling). */
export function isoFileStem(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  const hasExt = dot > 0 && dot < name.length - 1;
  let base = dChars(hasExt ? name.slice(0, dot) : name);
  let ext = hasExt ? dChars(name.slice(dot + 1)) : '';
  // name + "." + ext + ";1" must fit 31 characters; keep at most 3… the extension is cut first to 8.
  if (ext.length > 8) ext = ext.slice(0, 8);
  const room = ISO_MAX_ID_LENGTH - 3 - ext.length;
  if (base.length > room) base = base.slice(0, room);
  if (base.length === 0 && ext.length === 0) base = '_';
  return { base, ext };
}

/** The identifier of a directory named `name` (without collision handling). */
export function isoDirStem(name: string): string {
  const d = dChars(name).slice(0, ISO_MAX_ID_LENGTH);
  return d.length === 0 ? '_' : d;
}

/**
 * Assigns unique identifiers to the children of one directory. `children` must come in the
 * order that decides who keeps the plain name (bytewise order of the real names).
 * `taken` holds identifiers already used in that directory (relocated directories).
 */
export function assignIsoIds(children: ReadonlyArray<{ name: string; dir: boolean }>, taken = new Set<string>()): string[] {
  const out: string[] = [];
  for (const c of children) {
    let id: string;
    if (c.dir) {
      const stem = isoDirStem(c.name);
      id = stem;
      for (let n = 1; taken.has(id); n++) {
        const suffix = String(n);
        id = stem.slice(0, ISO_MAX_ID_LENGTH - suffix.length) + suffix;
      }
    } else {
      const { base, ext } = isoFileStem(c.name);
      id = `${base}.${ext};1`;
      for (let n = 1; taken.has(id); n++) {
        const suffix = String(n);
        id = `${base.slice(0, Math.max(0, ISO_MAX_ID_LENGTH - 3 - ext.length - suffix.length))}${suffix}.${ext};1`;
      }
    }
    taken.add(id);
    out.push(id);
  }
  return out;
}

/**
 * §9.3 ordering of identifiers: by name (shorter padded with spaces), then by extension (padded),
 * then by version, highest first. Works on code units, so it serves Joliet (UCS-2) names too.
 */
export function compareIdentifiers(a: string, b: string): number {
  const [an, ae, av] = splitId(a);
  const [bn, be, bv] = splitId(b);
  return comparePadded(an, bn) || comparePadded(ae, be) || bv - av;
}

/**
 * Sorts `items` in place by their identifiers in compareIdentifiers order (stable), splitting
 * each identifier once instead of at every comparison.
 */
export function sortByIdentifier<T>(items: T[], id: (item: T) => string): void {
  const keyed = items.map((item) => {
    const [name, ext, version] = splitId(id(item));
    return { item, name, ext, version };
  });
  keyed.sort((a, b) => comparePadded(a.name, b.name) || comparePadded(a.ext, b.ext) || b.version - a.version);
  keyed.forEach((k, i) => (items[i] = k.item));
}

function splitId(id: string): [string, string, number] {
  const semi = id.lastIndexOf(';');
  const version = semi >= 0 ? Number(id.slice(semi + 1)) || 0 : 0;
  const body = semi >= 0 ? id.slice(0, semi) : id;
  const dot = body.lastIndexOf('.');
  return dot >= 0 ? [body.slice(0, dot), body.slice(dot + 1), version] : [body, '', version];
}

function comparePadded(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? a.charCodeAt(i) : 0x20;
    const y = i < b.length ? b.charCodeAt(i) : 0x20;
    if (x !== y) return x - y;
  }
  return 0;
}

/** The readable form of an ISO identifier: version and a trailing dot removed. */
export function plainIsoName(id: string): string {
  const semi = id.lastIndexOf(';');
  let s = semi >= 0 ? id.slice(0, semi) : id;
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}
