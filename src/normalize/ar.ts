/**
 * `ar` archives (static libraries `.a`, and `.deb` packages): in every member header the mtime
 * is clamped (or set), uid and gid become 0 and the mode 0644 or 0755 (by the owner's execute
 * bit), as strip-nondeterminism's ar handler writes them. The symbol table (`/`, `/SYM64/`)
 * keeps its mode; the GNU long-name table (`//`) is left alone. Member data is copied.
 */
import { corruptError, truncatedError } from '../errors.js';
import { AR_FIELDS, AR_FMAG, AR_HEADER_SIZE, AR_MAGIC, setArField, writeArMembers, type ArField } from '../formats/ar/index.js';
import type { RandomAccessSource } from '../io/source.js';
import type { NormalizeContext, Normalizer } from './handler.js';
import { normalizedTime } from './handler.js';
import { detectAr } from './detect.js';

const CHUNK = 1 << 20;

interface Member {
  headerAt: number;
  header: Uint8Array;
  dataSize: number;
}

function field(header: Uint8Array, f: ArField): string {
  const [at, width] = AR_FIELDS[f];
  return Buffer.from(header.subarray(at, at + width)).toString('latin1');
}

async function readMembers(source: RandomAccessSource, ctx: NormalizeContext): Promise<Member[]> {
  const subject = ctx.subject;
  const members: Member[] = [];
  let at = AR_MAGIC.length;
  while (at < source.size) {
    if (source.size - at < AR_HEADER_SIZE) throw truncatedError(subject, 'ar member header', at, AR_HEADER_SIZE - (source.size - at));
    const header = (await source.read(at, AR_HEADER_SIZE)).slice();
    if (field(header, 'fmag') !== AR_FMAG) throw corruptError(subject, 'ar member header', at, 'bad header magic');
    const sizeText = field(header, 'size').trimEnd();
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
  const name = field(header, 'name');
  if (name.startsWith('// ')) return; // GNU long-name table: no times, owners or modes in use
  const mtimeText = field(header, 'mtime').trim();
  const mtime = /^\d+$/.test(mtimeText) ? Number(mtimeText) : Number.MAX_SAFE_INTEGER;
  setArField(header, 'mtime', String(normalizedTime(ctx, mtime)));
  setArField(header, 'uid', '0');
  setArField(header, 'gid', '0');
  if (name.startsWith('/ ')) return; // the symbol table keeps its mode
  const mode = parseInt(field(header, 'mode').trim() || '0', 8);
  setArField(header, 'mode', (Number.isNaN(mode) ? 0 : mode) & 0o100 ? '755' : '644');
}

export const arNormalizer: Normalizer = {
  id: 'ar',
  description: 'ar archives (.a, .deb): member mtimes, uid/gid 0, modes 0644/0755',
  detect: detectAr,
  async prepare(source, ctx) {
    const members = await readMembers(source, ctx);
    return (sink) =>
      writeArMembers(
        sink,
        members.map((m) => ({
          header: m.header,
          async writeData(s) {
            const from = m.headerAt + AR_HEADER_SIZE;
            for (let p = 0; p < m.dataSize; p += CHUNK) await s.write(await source.read(from + p, Math.min(CHUNK, m.dataSize - p)));
          },
        })),
      );
  },
};
