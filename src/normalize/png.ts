/**
 * PNG: the `tIME` chunk is clamped (or set), and text chunks whose keyword says they hold a date
 * (`date:create`, `date:modify`, `date:timestamp` from ImageMagick, `Creation Time`) get the
 * reference time, written as a `tEXt` chunk, as strip-nondeterminism does. Every chunk's CRC is
 * checked; changed chunks get a new one. Image data is copied.
 */
import { corruptError, truncatedError } from '../errors.js';
import { crc32 } from '../compress/crc32.js';
import type { RandomAccessSource } from '../io/source.js';
import type { Normalizer, NormalizeContext } from './handler.js';
import { normalizedTime } from './handler.js';
import { detectPng } from './detect.js';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** Chunks at least this long (data + CRC) are never inspected, as in strip-nondeterminism. */
const INSPECT_LIMIT = 4096;
const CHUNK_LIMIT = 0x7fffffff;
const COPY = 1 << 20;

type Piece = { copy: [number, number] } | { bytes: Uint8Array };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function timeChunk(seconds: number): Uint8Array {
  const d = new Date(seconds * 1000);
  const data = new Uint8Array(7);
  new DataView(data.buffer).setUint16(0, d.getUTCFullYear());
  data.set([d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()], 2);
  return chunk('tIME', data);
}

function parseTime(data: Uint8Array): number {
  if (data.length !== 7) return Number.MAX_SAFE_INTEGER;
  const v = new DataView(data.buffer, data.byteOffset, 7);
  return Math.floor(Date.UTC(v.getUint16(0), data[2]! - 1, data[3]!, data[4]!, data[5]!, data[6]!) / 1000);
}

/** strftime("%Y-%m-%dT%H:%M:%S-00:00", gmtime(t)) */
function textDate(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}-00:00`;
}

async function plan(source: RandomAccessSource, ctx: NormalizeContext): Promise<Piece[]> {
  const subject = ctx.subject;
  const sig = await source.read(0, Math.min(8, source.size));
  if (sig.length < 8 || Buffer.compare(sig, PNG_SIGNATURE) !== 0) throw corruptError(subject, 'PNG signature', 0, 'not a PNG file');
  const pieces: Piece[] = [{ copy: [0, 8] }];
  let at = 8;
  let sawEnd = false;
  while (at < source.size && !sawEnd) {
    if (source.size - at < 8) throw truncatedError(subject, 'PNG chunk header', at, 8 - (source.size - at));
    const head = await source.read(at, 8);
    const length = new DataView(head.buffer, head.byteOffset, 8).getUint32(0);
    const type = Buffer.from(head.subarray(4, 8)).toString('latin1');
    if (length > CHUNK_LIMIT) throw corruptError(subject, `PNG chunk ${JSON.stringify(type)}`, at, `length ${length} is above the PNG limit of 2^31-1`);
    if (!/^[A-Za-z]{4}$/.test(type)) throw corruptError(subject, 'PNG chunk', at, `bad chunk type ${JSON.stringify(type)}`);
    const end = at + 12 + length;
    if (end > source.size) throw truncatedError(subject, `PNG chunk ${type}`, at, end - source.size);
    let crc = crc32(head.subarray(4, 8));
    let data: Uint8Array | undefined;
    if (length + 4 < INSPECT_LIMIT) {
      data = await source.read(at + 8, length);
      crc = crc32(data, crc);
    } else {
      for (let p = at + 8; p < at + 8 + length; p += COPY) crc = crc32(await source.read(p, Math.min(COPY, at + 8 + length - p)), crc);
    }
    const c = await source.read(at + 8 + length, 4);
    const storedCrc = ((c[0]! << 24) | (c[1]! << 16) | (c[2]! << 8) | c[3]!) >>> 0;
    if (storedCrc !== crc) throw corruptError(subject, `PNG chunk ${type}`, at, `CRC 0x${storedCrc.toString(16)} does not match its data (0x${crc.toString(16)})`);
    if (data && type === 'tIME') {
      pieces.push({ bytes: timeChunk(normalizedTime(ctx, parseTime(data))) });
    } else if (data && /^[tiz]EXt$/.test(type)) {
      const m = /^(date:[^\0]+|Creation Time)\0/.exec(Buffer.from(data).toString('latin1'));
      if (m) pieces.push({ bytes: chunk('tEXt', Buffer.from(`${m[1]}\0${textDate(ctx.buildTime)}`, 'latin1')) });
      else pieces.push({ copy: [at, end] });
    } else {
      pieces.push({ copy: [at, end] });
    }
    sawEnd = type === 'IEND';
    at = end;
  }
  if (!sawEnd) throw truncatedError(subject, 'PNG file (no IEND chunk)', at);
  if (at < source.size) {
    ctx.warn(`${subject}: ${source.size - at} bytes after the IEND chunk kept as they are`);
    pieces.push({ copy: [at, source.size] });
  }
  return pieces;
}

export const pngNormalizer: Normalizer = {
  id: 'png',
  description: 'PNG: tIME chunk and date text chunks; CRCs checked and recomputed',
  detect: detectPng,
  async prepare(source, ctx) {
    const pieces = await plan(source, ctx);
    return async (sink) => {
      for (const p of pieces) {
        if ('bytes' in p) {
          await sink.write(p.bytes);
          continue;
        }
        for (let at = p.copy[0]; at < p.copy[1]; at += COPY) await sink.write(await source.read(at, Math.min(COPY, p.copy[1] - at)));
      }
    };
  },
};
