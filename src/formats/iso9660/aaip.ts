/**
 * Extended attributes as AAIP 2.0 "AL" entries (libburnia's Arbitrary Attribute Interchange
 * Protocol, what xorriso/libisofs write with `-xattr on|any` and read back on extraction).
 *
 * An attribute list is a byte stream of component records laid out as in RRIP SL (flags,
 * length, up to 255 bytes; flag 1 = the component goes on in the next record): name, value,
 * name, value … The stream is cut into AL entries of at most 250 bytes of component data each;
 * every AL entry but the last has its CONTINUE flag set. Names of the well-known namespaces are
 * shortened to one byte (0x02 system., 0x03 user., 0x04 isofs., 0x05 trusted., 0x06 security.),
 * and a name that itself starts with a byte 0x01–0x1F is escaped by a leading 0x01 — as
 * libisofs writes them. Like xorriso's default output, no ER entry announces AAIP.
 */
import { corruptError } from '../../errors.js';
import { encodeSuspEntry } from './susp.js';
import { compareNames, nameBytes, nameFromBytes } from '../../tree/names.js';

const CONTINUE = 0x01;
/** Component bytes per AL entry: 255 minus the 4-byte entry header and the flags byte. */
const AL_ROOM = 250;
const RECORD_ROOM = 255;
/** Readers stop at this many bytes of one attribute list (the SUSP area is bounded anyway). */
const MAX_LIST_BYTES = 16 * 1024 * 1024;

const NAMESPACES: ReadonlyArray<[number, string]> = [
  [0x02, 'system.'],
  [0x03, 'user.'],
  [0x04, 'isofs.'],
  [0x05, 'trusted.'],
  [0x06, 'security.'],
];

function encodeName(name: string): Uint8Array {
  for (const [code, prefix] of NAMESPACES) {
    if (name.startsWith(prefix)) return Buffer.concat([Uint8Array.of(code), nameBytes(name.slice(prefix.length))]);
  }
  const bytes = nameBytes(name);
  return bytes.length > 0 && bytes[0]! < 0x20 ? Buffer.concat([Uint8Array.of(0x01), bytes]) : bytes;
}

function decodeName(bytes: Uint8Array): string {
  const first = bytes[0];
  if (first === 0x01) return nameFromBytes(bytes.subarray(1));
  const ns = NAMESPACES.find(([code]) => code === first);
  if (ns) return ns[1] + nameFromBytes(bytes.subarray(1));
  return nameFromBytes(bytes);
}

/** The component records of one component, split into pieces of at most 255 bytes. */
function pushComponent(out: number[], bytes: Uint8Array): void {
  let at = 0;
  do {
    const piece = bytes.subarray(at, at + RECORD_ROOM);
    at += piece.length;
    out.push(at < bytes.length ? CONTINUE : 0, piece.length, ...piece);
  } while (at < bytes.length);
}

/** AL entries for `xattrs`, names in bytewise order; none for an empty map. */
export function encodeAl(xattrs: ReadonlyMap<string, Uint8Array>): Uint8Array[] {
  if (xattrs.size === 0) return [];
  const names = [...xattrs.keys()].sort(compareNames);
  const stream: number[] = [];
  for (const name of names) {
    pushComponent(stream, encodeName(name));
    pushComponent(stream, xattrs.get(name)!);
  }
  const entries: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += AL_ROOM) {
    const chunk = stream.slice(at, at + AL_ROOM);
    const data = new Uint8Array(1 + chunk.length);
    data[0] = at + AL_ROOM < stream.length ? CONTINUE : 0;
    data.set(chunk, 1);
    entries.push(encodeSuspEntry('AL', data));
  }
  return entries;
}

/**
 * Decodes the data of a record's AL entries (in order) into attributes. The ACL pair (empty
 * name) and libisofs's internal `isofs.*` attributes are left out: they are not file xattrs.
 * A list that breaks off inside a component, or holds a name without a value, is CORRUPT_IMAGE.
 */
export function decodeAl(entries: readonly Uint8Array[], where: string): Map<string, Uint8Array> {
  const stream: number[] = [];
  for (const data of entries) {
    if (data.length < 1) continue;
    if (stream.length + data.length > MAX_LIST_BYTES) throw corruptError(where, 'AAIP attribute list', undefined, `longer than ${MAX_LIST_BYTES} bytes`);
    for (let i = 1; i < data.length; i++) stream.push(data[i]!);
    if (!(data[0]! & CONTINUE)) break;
  }
  const components: Uint8Array[] = [];
  let current: number[] = [];
  let open = false;
  for (let at = 0; at < stream.length; ) {
    if (at + 2 > stream.length) throw corruptError(where, 'AAIP attribute list', undefined, 'a component record is cut off');
    const flags = stream[at]!;
    const len = stream[at + 1]!;
    if (at + 2 + len > stream.length) throw corruptError(where, 'AAIP attribute list', undefined, 'a component record is cut off');
    for (let i = 0; i < len; i++) current.push(stream[at + 2 + i]!);
    at += 2 + len;
    open = (flags & CONTINUE) !== 0;
    if (!open) {
      components.push(Uint8Array.from(current));
      current = [];
    }
  }
  if (open || components.length % 2 !== 0) throw corruptError(where, 'AAIP attribute list', undefined, 'a name without its value');
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < components.length; i += 2) {
    const rawName = components[i]!;
    if (rawName.length === 0) continue; // ACL in AAIP's compact form
    const name = decodeName(rawName);
    if (name.startsWith('isofs.') || name === '') continue;
    out.set(name, components[i + 1]!);
  }
  return out;
}
