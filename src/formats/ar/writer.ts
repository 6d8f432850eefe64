/**
 * Writing ar archives: the global header, then per member a 60-byte text header and the data,
 * padded with a newline to an even length (as GNU ar and dpkg-deb write them). Names are stored
 * as dpkg-deb stores them: plain, at most 16 bytes, no GNU `/` terminator and no long-name table.
 * The normalizer rewrites member headers of existing archives with `setArField` and
 * `writeArMembers`; `writeAr` makes an archive from names, metadata and bytes.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import { nameBytes } from '../../tree/names.js';
import { AR_FIELDS, AR_FMAG, AR_HEADER_SIZE, AR_MAGIC } from './layout.js';

export type ArField = keyof typeof AR_FIELDS;

/** Writes `text` (ASCII) into a header field, space padded; longer text is cut to the field. */
export function setArField(header: Uint8Array, field: ArField, text: string): void {
  const [at, width] = AR_FIELDS[field];
  header.set(Buffer.from(text.padEnd(width, ' ').slice(0, width), 'latin1'), at);
}

/** A member header from its fields; USAGE for a name or number the header cannot hold. */
export function encodeArHeader(m: { name: string; mtime: number; uid: number; gid: number; mode: number; size: number }): Uint8Array {
  const header = new Uint8Array(AR_HEADER_SIZE).fill(0x20);
  const name = nameBytes(m.name);
  if (name.length === 0 || name.length > AR_FIELDS.name[1] || m.name.includes('/') || m.name.endsWith(' ')) {
    throw new ReprimageError('USAGE', m.name, 'an ar member name is 1 to 16 bytes, without a slash or a trailing space');
  }
  header.set(name, AR_FIELDS.name[0]);
  const put = (field: ArField, value: number, radix: number) => {
    const text = value.toString(radix);
    if (!Number.isSafeInteger(value) || value < 0 || text.length > AR_FIELDS[field][1]) throw new ReprimageError('USAGE', m.name, `ar member ${field} ${value} does not fit its header field`);
    setArField(header, field, text);
  };
  put('mtime', m.mtime, 10);
  put('uid', m.uid, 10);
  put('gid', m.gid, 10);
  put('mode', m.mode, 8);
  put('size', m.size, 10);
  setArField(header, 'fmag', AR_FMAG);
  return header;
}

/** One member ready to write: its header, and a writer of its data (the odd-size padding byte included). */
export interface ArOutputMember {
  header: Uint8Array;
  writeData(sink: Sink): Promise<void>;
}

/** The global header, then each member's header and data, in the order given. */
export async function writeArMembers(sink: Sink, members: Iterable<ArOutputMember>): Promise<void> {
  await sink.write(new TextEncoder().encode(AR_MAGIC));
  for (const m of members) {
    await sink.write(m.header);
    await m.writeData(sink);
  }
}

/** An archive of the given members, in the order given (dpkg needs `debian-binary` first). */
export async function writeAr(sink: Sink, members: ReadonlyArray<{ name: string; mtime: number; uid: number; gid: number; mode: number; data: Uint8Array }>): Promise<void> {
  await writeArMembers(
    sink,
    members.map((m) => ({
      header: encodeArHeader({ ...m, size: m.data.length }),
      async writeData(s: Sink) {
        await s.write(m.data);
        if (m.data.length % 2 === 1) await s.write(new Uint8Array([0x0a]));
      },
    })),
  );
}
