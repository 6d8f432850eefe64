/**
 * gzip (RFC 1952): in the header of every member, the original file name and the header CRC are
 * dropped, a non-zero MTIME is clamped (or set), and the OS byte becomes 3 (Unix). The deflate
 * data and the trailers are copied; nothing is ever recompressed. Member boundaries are found by
 * inflating with node:zlib and discarding the output (reading only; docs/design.md rule 6).
 */
import { createInflateRaw } from 'node:zlib';
import { corruptError, truncatedError, ReprimageError } from '../errors.js';
import type { RandomAccessSource } from '../io/source.js';
import type { NormalizeContext, Normalizer } from './handler.js';
import { detectGzip } from './detect.js';

const ID1 = 0x1f;
const ID2 = 0x8b;
const CM_DEFLATE = 8;
const FTEXT = 0x01;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED_FLAGS = 0xe0;
/** ID1 ID2 CM FLG MTIME(4) XFL OS */
const HEADER_SIZE = 10;
const TRAILER_SIZE = 8;
export const GZIP_OS_UNIX = 3;
const CHUNK = 1 << 20;
/** A name or comment longer than this is not a real gzip header. */
const MAX_STRING = 1 << 20;

interface Member {
  /** The header as it is to be written. */
  header: Uint8Array;
  /** Where the deflate data starts and where the member (with its trailer) ends. */
  dataAt: number;
  end: number;
}

async function readCString(source: RandomAccessSource, at: number, subject: string, what: string): Promise<number> {
  for (let p = at; p < source.size; ) {
    const n = Math.min(4096, source.size - p);
    const chunk = await source.read(p, n);
    const nul = chunk.indexOf(0);
    if (nul >= 0) return p + nul + 1;
    p += n;
    if (p - at > MAX_STRING) throw corruptError(subject, `gzip ${what}`, at, `longer than ${MAX_STRING} bytes`);
  }
  throw truncatedError(subject, `gzip ${what}`, at);
}

/** Parses the member header at `at` and returns the normalized header and where the deflate data starts. */
async function readHeader(source: RandomAccessSource, at: number, ctx: NormalizeContext): Promise<{ header: Uint8Array; dataAt: number }> {
  const subject = ctx.subject;
  if (source.size - at < HEADER_SIZE) throw truncatedError(subject, 'gzip header', at, HEADER_SIZE - (source.size - at));
  const fixed = await source.read(at, HEADER_SIZE);
  if (fixed[0] !== ID1 || fixed[1] !== ID2) throw corruptError(subject, 'gzip header', at, 'bad magic');
  if (fixed[2] !== CM_DEFLATE) throw new ReprimageError('UNSUPPORTED', subject, `gzip compression method ${fixed[2]} at byte ${at} (only deflate exists)`);
  const flags = fixed[3]!;
  if (flags & RESERVED_FLAGS) throw corruptError(subject, 'gzip header', at, `reserved flag bits set (0x${flags.toString(16)})`);
  const parts: Uint8Array[] = [];
  let p = at + HEADER_SIZE;
  let extra: Uint8Array | undefined;
  if (flags & FEXTRA) {
    if (source.size - p < 2) throw truncatedError(subject, 'gzip extra field', p, 2);
    const lenBytes = await source.read(p, 2);
    const xlen = lenBytes[0]! | (lenBytes[1]! << 8);
    if (source.size - p - 2 < xlen) throw truncatedError(subject, 'gzip extra field', p, xlen + 2 - (source.size - p));
    extra = await source.read(p, 2 + xlen);
    p += 2 + xlen;
  }
  if (flags & FNAME) p = await readCString(source, p, subject, 'file name');
  let comment: Uint8Array | undefined;
  if (flags & FCOMMENT) {
    const end = await readCString(source, p, subject, 'comment');
    comment = await source.read(p, end - p);
    p = end;
  }
  if (flags & FHCRC) {
    if (source.size - p < 2) throw truncatedError(subject, 'gzip header CRC', p, 2);
    p += 2;
  }
  const v = new DataView(fixed.buffer, fixed.byteOffset, HEADER_SIZE);
  const mtime = v.getUint32(4, true);
  const header = new Uint8Array(HEADER_SIZE);
  header.set(fixed);
  const hv = new DataView(header.buffer);
  header[3] = flags & (FTEXT | FEXTRA | FCOMMENT);
  // MTIME 0 means "no time"; a time that is there is clamped (or set).
  if (mtime !== 0) hv.setUint32(4, ctx.clamp ? Math.min(mtime, Math.max(0, ctx.buildTime)) : Math.max(0, ctx.buildTime), true);
  header[9] = GZIP_OS_UNIX;
  if (extra) parts.push(extra);
  if (comment) parts.push(comment);
  const total = parts.reduce((n, x) => n + x.length, HEADER_SIZE);
  const out = new Uint8Array(total);
  out.set(header);
  let o = HEADER_SIZE;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return { header: out, dataAt: p };
}

/** The length of the raw deflate stream starting at `at`, found by inflating it (output discarded). */
export function deflateStreamLength(source: RandomAccessSource, at: number, subject: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const inflate = createInflateRaw({ chunkSize: 64 * 1024 });
    let finished = false;
    inflate.on('data', () => undefined);
    inflate.once('end', () => {
      finished = true;
      resolve(inflate.bytesWritten);
    });
    inflate.once('error', (e: NodeJS.ErrnoException) => {
      finished = true;
      if (e.code === 'Z_BUF_ERROR') reject(truncatedError(subject, 'gzip deflate data', at));
      else reject(corruptError(subject, 'gzip deflate data', at, e.message));
    });
    void (async () => {
      try {
        for (let p = at; p < source.size && !finished; p += CHUNK) {
          const chunk = await source.read(p, Math.min(CHUNK, source.size - p));
          if (!inflate.write(chunk)) {
            await new Promise<void>((done) => {
              const settle = () => {
                inflate.off('drain', settle);
                inflate.off('end', settle);
                inflate.off('error', settle);
                done();
              };
              inflate.on('drain', settle);
              inflate.on('end', settle);
              inflate.on('error', settle);
            });
          }
        }
        if (!finished) inflate.end();
      } catch (e) {
        finished = true;
        inflate.destroy();
        reject(e);
      }
    })();
  });
}

async function readMembers(source: RandomAccessSource, ctx: NormalizeContext): Promise<{ members: Member[]; trailingAt: number }> {
  const members: Member[] = [];
  let at = 0;
  while (at < source.size) {
    if (members.length > 0) {
      // After the first member: another member, or bytes that are kept as they are (zero padding).
      const n = Math.min(3, source.size - at);
      const magic = await source.read(at, n);
      if (n < 3 || magic[0] !== ID1 || magic[1] !== ID2 || magic[2] !== CM_DEFLATE) break;
    }
    const { header, dataAt } = await readHeader(source, at, ctx);
    const length = await deflateStreamLength(source, dataAt, ctx.subject);
    const end = dataAt + length + TRAILER_SIZE;
    if (end > source.size) throw truncatedError(ctx.subject, 'gzip trailer', dataAt + length, end - source.size);
    members.push({ header, dataAt, end });
    at = end;
  }
  return { members, trailingAt: at };
}

async function copyRange(source: RandomAccessSource, write: (b: Uint8Array) => Promise<void>, from: number, to: number): Promise<void> {
  for (let p = from; p < to; p += CHUNK) await write(await source.read(p, Math.min(CHUNK, to - p)));
}

export const gzipNormalizer: Normalizer = {
  id: 'gzip',
  description: 'gzip (every member): file name and header CRC dropped, MTIME clamped, OS set to Unix',
  detect: detectGzip,
  async prepare(source, ctx) {
    const { members, trailingAt } = await readMembers(source, ctx);
    return async (sink) => {
      const write = (b: Uint8Array) => sink.write(b);
      for (const m of members) {
        await sink.write(m.header);
        await copyRange(source, write, m.dataAt, m.end);
      }
      await copyRange(source, write, trailingAt, source.size);
    };
  },
};
