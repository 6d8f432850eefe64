/**
 * `ar` archives (static libraries `.a`, and `.deb` packages): in every member header the mtime
 * is clamped (or set), uid and gid become 0 and the mode 0644 or 0755 (by the owner's execute
 * bit), as strip-nondeterminism's ar handler writes them. The symbol table (`/`, `/SYM64/`)
 * keeps its mode; the GNU long-name table (`//`) is left alone. Member data is copied.
 */
import { corruptError, truncatedError } from '../errors.js';
import type { RandomAccessSource } from '../io/source.js';
import type { NormalizeContext, Normalizer } from './handler.js';
import { normalizedTime } from './handler.js';

export const AR_MAGIC = '!<arch>\n';
export const AR_HEADER_SIZE = 60;
/** Member header fields (offset, length), all ASCII, space padded. */
const AR_FIELDS = { name: [0, 16], mtime: [16, 12], uid: [28, 6], gid: [34, 6], mode: [40, 8], size: [48, 10], magic: [58, 2] } as const;
const CHUNK = 1 << 20;

interface Member {
  headerAt: number;
  header: Uint8Array;
  dataSize: number;
}

function field(header: Uint8Array, f: readonly [number, number]): string {
  return Buffer.from(header.subarray(f[0], f[0] + f[1])).toString('latin1');
}

function put(header: Uint8Array, f: readonly [number, number], text: string): void {
  header.set(Buffer.from(text.padEnd(f[1], ' ').slice(0, f[1]), 'latin1'), f[0]);
}

async function readMembers(source: RandomAccessSource, ctx: NormalizeContext): Promise<Member[]> {
  const subject = ctx.subject;
  const members: Member[] = [];
  let at = AR_MAGIC.length;
  while (at < source.size) {
    if (source.size - at < AR_HEADER_SIZE) throw truncatedError(subject, 'ar member header', at, AR_HEADER_SIZE - (source.size - at));
    const header = (await source.read(at, AR_HEADER_SIZE)).slice();
    if (field(header, AR_FIELDS.magic) !== '`\n') throw corruptError(subject, 'ar member header', at, 'bad header magic');
    const sizeText = field(header, AR_FIELDS.size).trimEnd();
    if (!/^\d+$/.test(sizeText)) throw corruptError(subject, 'ar member header', at, `bad size field ${JSON.stringify(sizeText)}`);
    const dataSize = Number(sizeText);
    const padded = dataSize + (dataSize & 1);
    const end = at + AR_HEADER_SIZE + dataSize;
    if (end > source.size) throw truncatedError(subject, 'ar member data', at + AR_HEADER_SIZE, end - source.size);
    normalizeHeader(header, ctx);
    members.push({ headerAt: at, header, dataSize: Math.min(padded, source.size - at - AR_HEADER_SIZE) });
    at += AR_HEADER_SIZE + padded;
  }
  return members;
}

function normalizeHeader(header: Uint8Array, ctx: NormalizeContext): void {
  const name = field(header, AR_FIELDS.name);
  if (name.startsWith('// ')) return; // GNU long-name table: no times, owners or modes in use
  const mtimeText = field(header, AR_FIELDS.mtime).trim();
  const mtime = /^\d+$/.test(mtimeText) ? Number(mtimeText) : Number.MAX_SAFE_INTEGER;
  put(header, AR_FIELDS.mtime, String(normalizedTime(ctx, mtime)));
  put(header, AR_FIELDS.uid, '0');
  put(header, AR_FIELDS.gid, '0');
  if (name.startsWith('/ ')) return; // the symbol table keeps its mode
  const mode = parseInt(field(header, AR_FIELDS.mode).trim() || '0', 8);
  put(header, AR_FIELDS.mode, (Number.isNaN(mode) ? 0 : mode) & 0o100 ? '755' : '644');
}

export const arNormalizer: Normalizer = {
  id: 'ar',
  description: 'ar archives (.a, .deb): member mtimes, uid/gid 0, modes 0644/0755',
  detect: (head) => Buffer.from(head.subarray(0, 8)).toString('latin1') === AR_MAGIC,
  async prepare(source, ctx) {
    const members = await readMembers(source, ctx);
    return async (sink) => {
      await sink.write(new TextEncoder().encode(AR_MAGIC));
      for (const m of members) {
        await sink.write(m.header);
        const from = m.headerAt + AR_HEADER_SIZE;
        for (let p = 0; p < m.dataSize; p += CHUNK) await sink.write(await source.read(from + p, Math.min(CHUNK, m.dataSize - p)));
      }
    };
  },
};
