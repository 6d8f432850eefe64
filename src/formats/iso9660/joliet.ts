/**
 * Joliet names (Microsoft Joliet specification, 1995): UCS-2 big-endian, at most 64 characters,
 * without * / : ; ? \ and control characters. Characters outside the Basic Multilingual Plane
 * and bytes of a name that are not UTF-8 (lone surrogates, names.ts) cannot be stored and
 * become "_"; the Rock Ridge name keeps them. Files get the version suffix ";1" like the ISO names.
 */
import { compareIdentifiers } from './iso-names.js';

/** Longest Joliet identifier in characters, version suffix included. */
export const JOLIET_MAX_NAME = 64;

function jolietChars(name: string): string {
  let out = '';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    out += c > 0xffff || c < 0x20 || (c >= 0xd800 && c <= 0xdfff) || '*/:;?\\'.includes(ch) ? '_' : ch;
  }
  return out;
}

/**
 * Unique Joliet identifiers for the children of one directory, in the order given (which decides
 * who keeps the plain name). Long names are cut, keeping the extension where possible.
 */
export function assignJolietIds(children: ReadonlyArray<{ name: string; dir: boolean }>): string[] {
  const taken = new Set<string>();
  return children.map((c) => {
    const full = jolietChars(c.name);
    const suffix = c.dir ? '' : ';1';
    const room = JOLIET_MAX_NAME - suffix.length;
    const fit = (s: string, tag: string) => {
      if (s.length + tag.length <= room) return s + tag;
      const dot = c.dir ? -1 : s.lastIndexOf('.');
      const ext = dot > 0 && s.length - dot <= 8 ? s.slice(dot) : '';
      return s.slice(0, room - tag.length - ext.length) + tag + ext;
    };
    let id = fit(full, '') + suffix;
    for (let n = 1; taken.has(id.toUpperCase()); n++) id = fit(full, String(n)) + suffix;
    taken.add(id.toUpperCase());
    return id;
  });
}

export function encodeUcs2(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >>> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return out;
}

export function decodeUcs2(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s;
}

/** Joliet directories are sorted like ISO ones, on UCS-2 code units. */
export const compareJolietIds = compareIdentifiers;
