/**
 * Python bytecode (`.pyc`): a timestamp-based file (PEP 552 flags 0, and every pre-3.7 file)
 * records its source's mtime; that field is clamped (or set) to the reference time, the value
 * the source file itself gets in a clamped image, so Python still sees the cache as fresh.
 * Hash-based files (flags bit 0) hold no time and are left as they are.
 */
import { truncatedError } from '../errors.js';
import type { Normalizer } from './handler.js';
import { normalizedTime, readWhole } from './handler.js';
import { detectPyc, PYC_MAGIC_PEP552, PYC_MAGIC_PY27, pycMagicNumber } from './detect.js';

/** CPython 3.3 added the source size after the mtime. */
const MAGIC_SOURCE_SIZE = 3230;
const LIMIT = 256 << 20;

/** The byte offset of the mtime field, or undefined for a hash-based file. */
function mtimeOffset(bytes: Uint8Array, magic: number): number | undefined {
  if (magic === PYC_MAGIC_PY27 || magic < PYC_MAGIC_PEP552) return 4;
  const flags = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
  return flags & 1 ? undefined : 8;
}

export const pycNormalizer: Normalizer = {
  id: 'pyc',
  description: 'Python bytecode: source mtime in timestamp-based .pyc headers',
  detect: detectPyc,
  async prepare(source, ctx) {
    const bytes = await readWhole(source, LIMIT, '.pyc file');
    const magic = pycMagicNumber(bytes);
    const headerSize = magic === undefined || magic === PYC_MAGIC_PY27 || magic < MAGIC_SOURCE_SIZE ? 8 : magic < PYC_MAGIC_PEP552 ? 12 : 16;
    if (bytes.length < headerSize) throw truncatedError(ctx.subject, '.pyc header', 0, headerSize - bytes.length);
    const at = magic === undefined ? undefined : mtimeOffset(bytes, magic);
    if (at === undefined) return (sink) => sink.write(bytes);
    const out = bytes.slice();
    const v = new DataView(out.buffer);
    v.setUint32(at, normalizedTime(ctx, v.getUint32(at, true)) >>> 0, true);
    return (sink) => sink.write(out);
  },
};
