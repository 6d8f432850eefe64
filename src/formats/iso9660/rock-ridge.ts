/**
 * Rock Ridge (RRIP 1.12, IEEE P1282) entries: POSIX attributes (PX), device numbers (PN),
 * symbolic links (SL), alternate names (NM), time stamps (TF) and deep directory relocation
 * (CL child link, PL parent link, RE relocated). Names and link targets are UTF-8 bytes.
 */
import { encodeDirDateTime, decodeDirDateTime, decodeDecDateTime, getBoth32, putBoth32 } from './numbers.js';
import { encodeEr, encodeSuspEntry, type SuspEntry } from './susp.js';
import { nameBytes, nameFromBytes } from '../../tree/names.js';
import { decodeZf, type ZisofsInfo } from './zisofs.js';

/** The extension reference we write: RRIP 1.10's identifier, as libisofs and genisoimage do. */
export const RRIP_ER_ID = 'RRIP_1991A';
export const RRIP_ER_DESCRIPTOR = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
export const RRIP_ER_SOURCE = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';
/** Identifiers that mean Rock Ridge in an ER entry. */
export const RRIP_IDS = new Set(['RRIP_1991A', 'IEEE_P1282', 'IEEE_1282']);

export function encodeRripEr(): Uint8Array {
  return encodeEr(RRIP_ER_ID, RRIP_ER_DESCRIPTOR, RRIP_ER_SOURCE, 1);
}

/** PX: st_mode (type and permission bits), st_nlink, st_uid, st_gid, st_ino (44 bytes, RRIP 1.12). */
export function encodePx(mode: number, nlink: number, uid: number, gid: number, ino: number): Uint8Array {
  const data = new Uint8Array(40);
  putBoth32(data, 0, mode);
  putBoth32(data, 8, nlink);
  putBoth32(data, 16, uid);
  putBoth32(data, 24, gid);
  putBoth32(data, 32, ino);
  return encodeSuspEntry('PX', data);
}

/**
 * PN: device number. We record the Linux/glibc dev_t encoding split into a high and a low word,
 * as libisofs does; Linux decodes that form too (high word 0 → major/minor from the low word).
 */
export function encodePn(major: number, minor: number): Uint8Array {
  const low = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)) >>> 0;
  const high = ((major & 0xfffff000) | ((minor >>> 20) & 0xfff)) >>> 0;
  const data = new Uint8Array(16);
  putBoth32(data, 0, high);
  putBoth32(data, 8, low);
  return encodeSuspEntry('PN', data);
}

/** PN data → major/minor, accepting both the dev_t split form and the (major, minor) form. */
export function decodePn(data: Uint8Array): { major: number; minor: number } {
  const high = getBoth32(data, 0);
  const low = getBoth32(data, 8);
  if (high === 0 || (low & ~0xff) === 0) {
    if (high !== 0) return { major: high, minor: low };
    return { major: (low >>> 8) & 0xfff, minor: (low & 0xff) | ((low >>> 12) & 0xfff00) };
  }
  // A full 64-bit glibc dev_t.
  return {
    major: ((high & 0xfffff000) | ((low >>> 8) & 0xfff)) >>> 0,
    minor: (((high & 0xfff) << 20) | ((low >>> 12) & 0xfff00) | (low & 0xff)) >>> 0,
  };
}

const NM_CONTINUE = 0x01;
const NM_CURRENT = 0x02;
const NM_PARENT = 0x04;

/** NM entries holding `name` (split into several when longer than one entry can hold). */
export function encodeNm(name: Uint8Array): Uint8Array[] {
  const room = 255 - 5;
  const out: Uint8Array[] = [];
  for (let at = 0; at < name.length || out.length === 0; at += room) {
    const part = name.subarray(at, at + room);
    const data = new Uint8Array(1 + part.length);
    data[0] = at + room < name.length ? NM_CONTINUE : 0;
    data.set(part, 1);
    out.push(encodeSuspEntry('NM', data));
  }
  return out;
}

const SL_CONTINUE = 0x01;
const SL_CURRENT = 0x02;
const SL_PARENT = 0x04;
const SL_ROOT = 0x08;

/** SL entries for a symlink target: components ("/" root, ".", "..", names), split as needed. */
export function encodeSl(target: string): Uint8Array[] {
  const components: Uint8Array[] = [];
  const parts = target.split('/');
  const push = (flags: number, text: Uint8Array) => {
    // A component must fit one SL entry (250 bytes of components), so long ones are split.
    const max = 246;
    if (text.length <= max) {
      components.push(Uint8Array.of(flags, text.length, ...text));
      return;
    }
    for (let at = 0; at < text.length; at += max) {
      const piece = text.subarray(at, at + max);
      components.push(Uint8Array.of(at + max < text.length ? SL_CONTINUE : 0, piece.length, ...piece));
    }
  };
  parts.forEach((part, i) => {
    if (i === 0 && part === '' && parts.length > 1) push(SL_ROOT, new Uint8Array(0));
    else if (part === '.') push(SL_CURRENT, new Uint8Array(0));
    else if (part === '..') push(SL_PARENT, new Uint8Array(0));
    else if (!(i === 0 && part === '' && parts.length === 1)) push(0, nameBytes(part));
  });
  if (target === '/') components.splice(0, components.length, Uint8Array.of(SL_ROOT, 0));
  // Pack the components into entries of at most 255 bytes (5 bytes of header and flags).
  const entries: Uint8Array[] = [];
  let current: Uint8Array[] = [];
  let size = 0;
  const flush = (last: boolean) => {
    const data = new Uint8Array(1 + size);
    data[0] = last ? 0 : SL_CONTINUE;
    let at = 1;
    for (const c of current) {
      data.set(c, at);
      at += c.length;
    }
    entries.push(encodeSuspEntry('SL', data));
    current = [];
    size = 0;
  };
  // Where entries break, the last component of the first entry is an empty one with the
  // CONTINUE flag: Linux and libisofs then add no separator, and libarchive (which never adds
  // one between entries) agrees with them.
  for (const c of components) {
    if (size + c.length > 248 && current.length > 0) {
      current.push(Uint8Array.of(SL_CONTINUE, 0));
      size += 2;
      flush(false);
    }
    current.push(c);
    size += c.length;
  }
  flush(true);
  return entries;
}

/** Accumulates SL component data across entries and produces the target string. */
export class SymlinkDecoder {
  readonly #parts: string[] = [];
  #pending: number[] = [];
  #continues = false;

  add(data: Uint8Array): void {
    let at = 1;
    while (at + 2 <= data.length) {
      const flags = data[at]!;
      const len = data[at + 1]!;
      const text = data.subarray(at + 2, Math.min(at + 2 + len, data.length));
      at += 2 + len;
      if (flags & (SL_ROOT | SL_CURRENT | SL_PARENT)) {
        this.#flushPending();
        this.#parts.push(flags & SL_ROOT ? '' : flags & SL_CURRENT ? '.' : '..');
        continue;
      }
      for (const b of text) this.#pending.push(b);
      this.#continues = (flags & SL_CONTINUE) !== 0;
      if (!this.#continues) this.#flushPending(true);
    }
  }

  #flushPending(always = false): void {
    if (always || this.#pending.length > 0) this.#parts.push(nameFromBytes(Uint8Array.from(this.#pending)));
    this.#pending = [];
    this.#continues = false;
  }

  get target(): string {
    this.#flushPending();
    if (this.#parts.length === 1 && this.#parts[0] === '') return '/';
    return this.#parts.join('/');
  }
}

const TF_CREATION = 0x01;
const TF_MODIFY = 0x02;
const TF_ACCESS = 0x04;
const TF_ATTRIBUTES = 0x08;
const TF_LONG_FORM = 0x80;

/** TF with modification, access and attribute-change times all equal to `sec` (7-byte form). */
export function encodeTf(sec: number): Uint8Array {
  const data = new Uint8Array(1 + 3 * 7);
  data[0] = TF_MODIFY | TF_ACCESS | TF_ATTRIBUTES;
  for (let i = 0; i < 3; i++) encodeDirDateTime(sec, data, 1 + i * 7);
  return encodeSuspEntry('TF', data);
}

/** The modification time recorded in a TF entry, if any. */
export function decodeTfModify(data: Uint8Array): number | undefined {
  const flags = data[0] ?? 0;
  const size = flags & TF_LONG_FORM ? 17 : 7;
  let at = 1;
  for (const bit of [TF_CREATION, TF_MODIFY]) {
    if (!(flags & bit)) continue;
    if (bit === TF_MODIFY) {
      if (at + size > data.length) return undefined;
      return size === 17 ? decodeDecDateTime(data, at) : decodeDirDateTime(data, at);
    }
    at += size;
  }
  return undefined;
}

function locationEntry(signature: 'CL' | 'PL', sector: number): Uint8Array {
  const data = new Uint8Array(8);
  putBoth32(data, 0, sector);
  return encodeSuspEntry(signature, data);
}

/** CL: this placeholder file stands for the directory relocated to `sector`. */
export function encodeCl(sector: number): Uint8Array {
  return locationEntry('CL', sector);
}

/** PL: in a relocated directory's "..", the sector of its original parent. */
export function encodePl(sector: number): Uint8Array {
  return locationEntry('PL', sector);
}

/** RE: this directory record is a relocated directory; Rock Ridge readers skip it. */
export function encodeRe(): Uint8Array {
  return encodeSuspEntry('RE', new Uint8Array(0));
}

/** What Rock Ridge says about one directory record, gathered from all its entries. */
export interface RockRidgeInfo {
  mode?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  ino?: number;
  name?: string;
  /** NM with the CURRENT or PARENT flag: the record names "." or "..". */
  nameIsDot?: boolean;
  symlink?: string;
  device?: { major: number; minor: number };
  mtime?: number;
  childLink?: number;
  parentLink?: number;
  relocated?: boolean;
  /** The data of the AAIP AL entries, in order (decoded by aaip.ts, which names the image on errors). */
  attributeList?: Uint8Array[];
  /** ZF: the file's data is zisofs-compressed (see zisofs.ts). */
  zisofs?: ZisofsInfo;
}

/** Interprets the Rock Ridge entries among `entries` (other signatures are ignored). */
export function interpretRockRidge(entries: readonly SuspEntry[]): RockRidgeInfo {
  const info: RockRidgeInfo = {};
  let name: number[] | undefined;
  let sl: SymlinkDecoder | undefined;
  for (const e of entries) {
    const d = e.data;
    switch (e.signature) {
      case 'PX':
        if (d.length >= 32) {
          info.mode = getBoth32(d, 0);
          info.nlink = getBoth32(d, 8);
          info.uid = getBoth32(d, 16);
          info.gid = getBoth32(d, 24);
          if (d.length >= 40) info.ino = getBoth32(d, 32);
        }
        break;
      case 'PN':
        if (d.length >= 16) info.device = decodePn(d);
        break;
      case 'NM':
        if (d.length >= 1) {
          if (d[0]! & (NM_CURRENT | NM_PARENT)) info.nameIsDot = true;
          else (name ??= []).push(...d.subarray(1));
        }
        break;
      case 'SL':
        (sl ??= new SymlinkDecoder()).add(d);
        break;
      case 'TF': {
        const t = decodeTfModify(d);
        if (t !== undefined) info.mtime = t;
        break;
      }
      case 'CL':
        if (d.length >= 8) info.childLink = getBoth32(d, 0);
        break;
      case 'PL':
        if (d.length >= 8) info.parentLink = getBoth32(d, 0);
        break;
      case 'RE':
        info.relocated = true;
        break;
      case 'AL':
        (info.attributeList ??= []).push(d);
        break;
      case 'ZF':
        info.zisofs = decodeZf(d);
        break;
    }
  }
  if (name) info.name = nameFromBytes(Uint8Array.from(name));
  if (sl) info.symlink = sl.target;
  return info;
}
