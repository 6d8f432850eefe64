/**
 * The tar of an OVA (OVF 1.0 §5.3): plain ustar members in the order given (the descriptor must
 * come first, which a name-sorted archive would not give), mode 0644, owner 0/0 with no names,
 * mtime given; a member of 8 GiB or more has its size in base-256, as GNU tar writes it.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';

const BLOCK = 512;
const RECORD = 20 * BLOCK;

export interface OvaMember {
  name: string;
  size: number;
  /** Appends exactly `size` bytes. */
  write(sink: Sink): Promise<void>;
}

export async function writeOvaTar(sink: Sink, members: readonly OvaMember[], mtime: number): Promise<void> {
  const start = sink.position;
  for (const m of members) {
    await sink.write(ustarHeader(m.name, m.size, mtime));
    const before = sink.position;
    await m.write(sink);
    if (sink.position - before !== m.size) throw new ReprimageError('IO', m.name, `wrote ${sink.position - before} bytes, not ${m.size}`);
    const pad = (BLOCK - (m.size % BLOCK)) % BLOCK;
    if (pad) await sink.write(new Uint8Array(pad));
  }
  const used = sink.position - start + 2 * BLOCK;
  await sink.write(new Uint8Array(2 * BLOCK + ((RECORD - (used % RECORD)) % RECORD)));
}

function ustarHeader(name: string, size: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > 100) throw new ReprimageError('USAGE', name, 'an OVA member name is at most 100 bytes');
  h.set(bytes, 0);
  const text = (at: number, s: string) => { for (let i = 0; i < s.length; i++) h[at + i] = s.charCodeAt(i); };
  const octal = (at: number, width: number, v: number) => text(at, `${v.toString(8).padStart(width - 1, '0')}\0`);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  if (size < 8 * 1024 ** 3) octal(124, 12, size);
  else {
    let v = BigInt(size);
    for (let i = 11; i >= 1; i--) { h[124 + i] = Number(v & 0xffn); v >>= 8n; }
    h[124] = 0x80;
  }
  octal(136, 12, mtime);
  h[156] = 0x30; // '0': a regular file
  text(257, 'ustar\u000000');
  h.fill(0x20, 148, 156);
  const sum = h.reduce((s, b) => s + b, 0);
  text(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}
