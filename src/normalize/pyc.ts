/**
 * Python bytecode (`.pyc`): a timestamp-based file (PEP 552 flags 0, and every pre-3.7 file)
 * records its source's mtime; that field is clamped (or set) to the reference time, the value
 * the source file itself gets in a clamped image, so Python still sees the cache as fresh.
 * Hash-based files (flags bit 0) hold no time and are left as they are.
 */
import { truncatedError } from '../errors.js';
import type { Normalizer } from './handler.js';
import { normalizedTime, readWhole } from './handler.js';

/** CPython 3.7 (PEP 552) added the 4-byte flags word after the magic. */
const MAGIC_PEP552 = 3390;
/** CPython 3.3 added the source size after the mtime. */
const MAGIC_SOURCE_SIZE = 3230;
const MAGIC_PY27 = 62211;
const LIMIT = 256 << 20;

function magicNumber(head: Uint8Array): number | undefined {
  if (head.length < 8 || head[2] !== 0x0d || head[3] !== 0x0a) return undefined;
  const n = head[0]! | (head[1]! << 8);
  return (n >= 3000 && n < 4000) || n === MAGIC_PY27 ? n : undefined;
}

/** The byte offset of the mtime field, or undefined for a hash-based file. */
function mtimeOffset(bytes: Uint8Array, magic: number): number | undefined {
  if (magic === MAGIC_PY27 || magic < MAGIC_PEP552) return 4;
  const flags = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
  return flags & 1 ? undefined : 8;
}

export const pycNormalizer: Normalizer = {
  id: 'pyc',
  description: 'Python bytecode: source mtime in timestamp-based .pyc headers',
  detect: (head, _size, name) => {
    const magic = magicNumber(head);
    if (magic === undefined) return false;
    if (/\.py[co]$/.test(name)) return true;
    if (magic < MAGIC_PEP552) return false;
    const flags = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
    return flags === 0 || flags === 1 || flags === 3;
  },
  async prepare(source, ctx) {
    const bytes = await readWhole(source, LIMIT, '.pyc file');
    const magic = magicNumber(bytes);
    const headerSize = magic === undefined || magic === MAGIC_PY27 || magic < MAGIC_SOURCE_SIZE ? 8 : magic < MAGIC_PEP552 ? 12 : 16;
    if (bytes.length < headerSize) throw truncatedError(ctx.subject, '.pyc header', 0, headerSize - bytes.length);
    const at = magic === undefined ? undefined : mtimeOffset(bytes, magic);
    if (at === undefined) return (sink) => sink.write(bytes);
    const out = bytes.slice();
    const v = new DataView(out.buffer);
    v.setUint32(at, normalizedTime(ctx, v.getUint32(at, true)) >>> 0, true);
    return (sink) => sink.write(out);
  },
};
