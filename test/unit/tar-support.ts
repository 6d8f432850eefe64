// Hand-made tar archives for the reader tests: headers built field by field with the layout
// codecs, so a test can say exactly which byte is wrong.
import { BLOCK, putBytes, putNumber, putString, sealChecksum } from '../../src/formats/tar/layout.js';
import { paxRecord } from '../../src/formats/tar/index.js';
import { bufferSource, type RandomAccessSource } from '../../src/io/source.js';

export interface HeaderSpec {
  name: string;
  type?: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  /** 'gnu' = "ustar  \0", 'ustar' = "ustar\000", 'v7' = no magic. */
  magic?: 'gnu' | 'ustar' | 'v7';
  prefix?: string;
  dev?: [number, number];
  /** Called before the checksum is sealed, to plant odd bytes. */
  patch?: (h: Uint8Array) => void;
  /** Leave the checksum as the patch left it. */
  rawChecksum?: boolean;
}

export function header(s: HeaderSpec): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putBytes(h, 'name', Buffer.from(s.name));
  putNumber(h, 'mode', s.mode ?? 0o644, true);
  putNumber(h, 'uid', s.uid ?? 0, true);
  putNumber(h, 'gid', s.gid ?? 0, true);
  putNumber(h, 'size', s.size ?? 0, true);
  putNumber(h, 'mtime', s.mtime ?? 0, true);
  putString(h, 'typeflag', s.type ?? '0');
  putBytes(h, 'linkname', Buffer.from(s.linkname ?? ''));
  const magic = s.magic ?? 'ustar';
  if (magic === 'gnu') putString(h, 'magic', 'ustar  \0');
  if (magic === 'ustar') putString(h, 'magic', 'ustar\x0000');
  if (s.prefix) putBytes(h, 'prefix', Buffer.from(s.prefix));
  if (s.dev) {
    putNumber(h, 'devmajor', s.dev[0], true);
    putNumber(h, 'devminor', s.dev[1], true);
  }
  s.patch?.(h);
  if (!s.rawChecksum) sealChecksum(h);
  return h;
}

/** Data padded to whole blocks. */
export function body(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const out = new Uint8Array(Math.ceil(bytes.length / BLOCK) * BLOCK);
  out.set(bytes);
  return out;
}

/** A member: its header and its padded data. */
export function member(s: Omit<HeaderSpec, 'size'>, data: Uint8Array | string = ''): Uint8Array {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([header({ ...s, size: bytes.length }), body(bytes)]);
}

/** A pax extended header ('x' or 'g') carrying `records`. */
export function paxMember(records: Array<[string, string | Uint8Array]>, type: 'x' | 'g' = 'x'): Uint8Array {
  const data = Buffer.concat(records.map(([k, v]) => paxRecord(k, typeof v === 'string' ? Buffer.from(v) : v)));
  return member({ name: 'PaxHeaders/x', type }, data);
}

/** The parts, then the two zero blocks that end an archive. */
export function archive(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat([...parts, new Uint8Array(2 * BLOCK)]);
}

export function source(bytes: Uint8Array, name = 'test.tar'): RandomAccessSource {
  return bufferSource(bytes, name);
}

/**
 * A source of `size` bytes that holds `head` at the start and zeros after it, without storing
 * the zeros: an archive with a multi-GiB member for the cost of its headers.
 */
export function sparseSource(head: Uint8Array, size: number, tail: Uint8Array = new Uint8Array(0), name = 'huge.tar'): RandomAccessSource {
  const tailAt = size - tail.length;
  return {
    name,
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`bad read ${offset}+${length}`);
      const out = new Uint8Array(length);
      if (offset < head.length) out.set(head.subarray(offset, Math.min(head.length, offset + length)));
      if (offset + length > tailAt) {
        const from = Math.max(offset, tailAt);
        out.set(tail.subarray(from - tailAt, offset + length - tailAt), from - offset);
      }
      return out;
    },
    close: () => Promise.resolve(),
  };
}
