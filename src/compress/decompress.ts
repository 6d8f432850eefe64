/**
 * Reading compressed data: detection by magic number, streaming decompression with bounded
 * memory, decompression of one compressed segment of a larger file (a concatenated initramfs),
 * and spooling to an anonymous temporary file for random access. `node:zlib` is fine here:
 * docs/design.md rule 6 forbids it only for bytes we write.
 *
 * | codec | reader | segment end found by |
 * |---|---|---|
 * | gzip | node:zlib (raw inflate; header, CRC-32 and size checked here) | each member's trailer |
 * | zstd | fzstd | walking frame and block headers |
 * | lz4 (frame and legacy) | `lz4-frame.ts` | the decoder |
 * | xz | liblzma in WebAssembly (`liblzma/decoder.ts`) | its stream footer (`xz-stream-end.ts`) |
 * | lzma (lzma-alone) | liblzma in WebAssembly | its declared size or end marker |
 * | bzip2, lzop | — (UNSUPPORTED: no well-kept pure JavaScript decoder) | |
 */
import { createGunzip, createInflateRaw } from 'node:zlib';
import { Readable, type Transform } from 'node:stream';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import * as fzstd from 'fzstd';
import { ReprimageError } from '../errors.js';
import type { RandomAccessSource } from '../io/source.js';
import { openFileSource } from '../io/source.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { ByteReader } from './byte-reader.js';
import { crc32 } from './crc32.js';
import { decodeLz4Stream } from './lz4-frame.js';
import { decodeLzmaChunks } from './liblzma/decoder.js';
import { xzStreamEnd } from './xz-stream-end.js';
import { checkZstdWindow, zstdHeaderRest, ZstdFrameGuard } from './zstd-window.js';

export type Compression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'lz4' | 'lzma' | 'lzop';

const MAGICS: Array<[Compression, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]], // frame format
  ['lz4', [0x02, 0x21, 0x4c, 0x18]], // legacy format, which the kernel uses for initramfs
  ['lzop', [0x89, 0x4c, 0x5a, 0x4f]],
];

const CHUNK = 64 * 1024;

/**
 * The compression of data starting with `head` (at least 13 bytes for lzma), or undefined.
 * Only magic numbers are used, never a file name.
 */
export function detectCompression(head: Uint8Array): Compression | undefined {
  for (const [kind, magic] of MAGICS) if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  // a zstd skippable frame (magic 0x184D2A50..5F): pzstd starts every file with one, and zstd
  // readers step over it to the frames that follow
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  // lzma-alone has no magic: properties byte 0x5d (the only value xz and the kernel write),
  // a dictionary size, then the size, which is all ones (unknown) or below 2^48
  if (head.length >= 13 && head[0] === 0x5d && head[1] === 0 && head[12] !== undefined && (head[12] === 0xff || head[12] === 0) && head[11] === head[12]) {
    return 'lzma';
  }
  return undefined;
}

/**
 * Decompresses a whole stream (every gzip member, zstd frame, xz stream, lz4 frame). Memory is
 * bounded by the codec's window, never by the data's size. Corrupt or truncated input is a
 * ReprimageError (CORRUPT_IMAGE or TRUNCATED) naming `subject` and the codec; bzip2 and lzop are
 * UNSUPPORTED.
 */
export async function* decompressChunks(input: AsyncIterable<Uint8Array>, kind: Compression, subject: string): AsyncIterable<Uint8Array> {
  try {
    switch (kind) {
      case 'gzip':
        yield* throughTransform(input, createGunzip()); // reads concatenated members too
        return;
      case 'zstd':
        yield* unzstd(input, subject);
        return;
      case 'xz':
      case 'lzma':
        yield* decodeLzmaChunks(input, kind);
        return;
      case 'lz4': {
        const reader = new ByteReader(input);
        yield* decodeLz4Stream(reader, subject);
        for (;;) {
          const rest = await reader.some(CHUNK);
          if (rest.length === 0) return;
          if (rest.some((b) => b !== 0)) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt lz4 data: unexpected bytes after the last stream at compressed byte ${reader.consumed - rest.length}`);
        }
      }
      default:
        throw unsupported(kind, subject);
    }
  } catch (e) {
    throw codecError(e, kind, subject);
  }
}

/** A decompressed segment: its bytes, spooled, and how many compressed bytes it took. */
export interface DecompressedSegment {
  source: RandomAccessSource;
  compressedLength: number;
}

/**
 * Decompresses the compressed data starting at `offset` of `source` and stops where it ends,
 * as the kernel does for each segment of a concatenated initramfs: after the last gzip member,
 * zstd frame, lz4 stream or the xz stream's footer; lzma (no end to find without decoding)
 * takes the rest of the source, and its decoder stops where the stream ends. The decompressed bytes
 * go to an anonymous temporary file (see spoolToTempSource); close the returned source.
 */
export async function decompressSegment(source: RandomAccessSource, offset: number, kind: Compression, subject: string): Promise<DecompressedSegment> {
  let end = source.size;
  let chunks: AsyncIterable<Uint8Array>;
  switch (kind) {
    case 'gzip':
      chunks = gunzipMembers(source, offset, subject, (at) => (end = at));
      break;
    case 'zstd':
      end = await zstdFramesEnd(source, offset, subject);
      chunks = decompressChunks(sourceChunks(source, offset, end), kind, subject);
      break;
    case 'lz4':
      chunks = (async function* () {
        const reader = new ByteReader(sourceChunks(source, offset, source.size));
        try {
          end = offset + (yield* decodeLz4Stream(reader, subject));
        } catch (e) {
          throw codecError(e, kind, subject);
        }
      })();
      break;
    case 'xz':
      end = await xzStreamEnd(source, offset, subject);
      chunks = decompressChunks(sourceChunks(source, offset, end), kind, subject);
      break;
    case 'lzma':
      chunks = decompressChunks(sourceChunks(source, offset, source.size), kind, subject);
      break;
    default:
      throw unsupported(kind, subject);
  }
  const spooled = await spoolToTempSource(chunks, subject);
  return { source: spooled, compressedLength: end - offset };
}

function unsupported(kind: Compression, subject: string): ReprimageError {
  return new ReprimageError('UNSUPPORTED', subject, `${kind}-compressed data is not supported (gzip, xz, zstd, lz4 and lzma are); decompress it first`);
}

/** Turns a decoder's own error into TRUNCATED or CORRUPT_IMAGE naming the subject and codec. */
function codecError(e: unknown, kind: Compression, subject: string): unknown {
  if (e instanceof ReprimageError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  const truncated = /unexpected end|unexpected eof|truncat|end of (file|stream|input)/i.test(msg) || code === 'Z_BUF_ERROR';
  return new ReprimageError(truncated ? 'TRUNCATED' : 'CORRUPT_IMAGE', subject, `${truncated ? 'truncated' : 'corrupt'} ${kind} data (${msg})`, { cause: e });
}

async function* sourceChunks(source: RandomAccessSource, from: number, to: number, stop?: () => boolean): AsyncIterable<Uint8Array> {
  for (let at = from; at < to && !stop?.(); at += CHUNK) yield await source.read(at, Math.min(CHUNK, to - at));
}

async function* throughTransform(input: AsyncIterable<Uint8Array>, transform: Transform): AsyncIterable<Uint8Array> {
  const feed = Readable.from(input, { objectMode: false, highWaterMark: CHUNK });
  feed.on('error', (e) => transform.destroy(e));
  feed.pipe(transform);
  try {
    for await (const chunk of transform as AsyncIterable<Buffer>) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
  } finally {
    feed.destroy();
  }
}

/** How far ahead a zstd frame is read, to lower its window before fzstd sees it (zstd-window.ts). */
const ZSTD_LOOKAHEAD = 1 << 20;
/**
 * fzstd moves its whole window at every block, so its work is blocks × window while zstd's is the
 * output. A frame whose blocks are far smaller than its window (legal, but what no encoder makes
 * without flushing at every few kilobytes) costs more than this many window bytes per output byte,
 * plus a few windows' start, is refused rather than decoded for minutes.
 */
const ZSTD_WINDOW_WORK_PER_BYTE = 4096;
const ZSTD_WINDOW_WORK_START = 16;

async function* unzstd(input: AsyncIterable<Uint8Array>, subject: string): AsyncIterable<Uint8Array> {
  const guard = new ZstdFrameGuard(subject);
  const out: Uint8Array[] = [];
  let produced = 0;
  let work = 0;
  const stream = new fzstd.Decompress((chunk) => {
    const window = guard.takeBlockWindow();
    work += window;
    produced += chunk.length;
    if (work > ZSTD_WINDOW_WORK_PER_BYTE * produced + ZSTD_WINDOW_WORK_START * window) {
      throw new ReprimageError('UNSUPPORTED', subject, `zstd data of ${produced} bytes in blocks far smaller than their ${window}-byte window: too slow to decode here; decompress it with zstd -d first`);
    }
    out.push(chunk);
  });
  // bytes held back while a frame's window may still be lowered, and where they start
  let held: Uint8Array[] = [];
  let heldAt = 0;
  let heldBytes = 0;
  const release = (): void => {
    const patches = guard.takeWindowPatches();
    for (const chunk of held) {
      let piece = chunk;
      for (const { at, descriptor } of patches) {
        if (at < heldAt || at >= heldAt + chunk.length) continue;
        if (piece === chunk) piece = chunk.slice();
        piece[at - heldAt] = descriptor;
      }
      stream.push(piece);
      heldAt += chunk.length;
    }
    held = [];
    heldBytes = 0;
  };
  let any = false;
  for await (const chunk of input) {
    any = any || chunk.length > 0;
    guard.push(chunk);
    held.push(chunk);
    heldBytes += chunk.length;
    if (guard.openWindowAt !== undefined) {
      if (heldBytes < ZSTD_LOOKAHEAD) continue;
      guard.keepWindow();
    }
    release();
    while (out.length > 0) yield out.shift()!;
  }
  if (!any) throw new Error('unexpected end of input');
  guard.endOfInput();
  release();
  stream.push(new Uint8Array(0), true);
  while (out.length > 0) yield out.shift()!;
}

/** gzip members from `offset` on, each checked against its CRC-32 and size; `onEnd` hears where they stop. */
async function* gunzipMembers(source: RandomAccessSource, offset: number, subject: string, onEnd: (at: number) => void): AsyncIterable<Uint8Array> {
  let at = offset;
  do {
    const deflateStart = await gzipHeaderEnd(source, at, subject);
    const inflate = createInflateRaw();
    let finished = false;
    let crc = 0;
    let size = 0;
    try {
      for await (const chunk of throughTransform(sourceChunks(source, deflateStart, source.size, () => finished), inflate)) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        yield chunk;
      }
    } catch (e) {
      throw codecError(e, 'gzip', subject);
    }
    finished = true;
    const trailer = deflateStart + inflate.bytesWritten;
    if (trailer + 8 > source.size) throw new ReprimageError('TRUNCATED', subject, `truncated gzip data: member trailer at byte ${trailer} cut short`);
    const t = await source.read(trailer, 8);
    const view = new DataView(t.buffer, t.byteOffset, 8);
    if (view.getUint32(0, true) !== crc) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt gzip data: CRC-32 mismatch in the member at byte ${at}`);
    if (view.getUint32(4, true) !== size % 2 ** 32) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt gzip data: size mismatch in the member at byte ${at}`);
    at = trailer + 8;
  } while (at + 2 <= source.size && (await isGzipMagic(source, at)));
  onEnd(at);
}

async function isGzipMagic(source: RandomAccessSource, at: number): Promise<boolean> {
  const m = await source.read(at, 2);
  return m[0] === 0x1f && m[1] === 0x8b;
}

/** Checks a gzip member header (RFC 1952 §2.3) and returns where its deflate data starts. */
async function gzipHeaderEnd(source: RandomAccessSource, at: number, subject: string): Promise<number> {
  const short = () => new ReprimageError('TRUNCATED', subject, `truncated gzip data: member header at byte ${at} cut short`);
  if (at + 10 > source.size) throw short();
  const h = await source.read(at, 10);
  if (h[0] !== 0x1f || h[1] !== 0x8b) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt gzip data: no gzip magic at byte ${at}`);
  if (h[2] !== 8) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt gzip data: compression method ${h[2]} at byte ${at} (only 8, deflate, exists)`);
  const flags = h[3]!;
  if (flags & 0xe0) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt gzip data: reserved flag bits set at byte ${at}`);
  let p = at + 10;
  if (flags & 4) {
    if (p + 2 > source.size) throw short();
    const x = await source.read(p, 2);
    p += 2 + (x[0]! | (x[1]! << 8));
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    // a NUL-terminated name or comment
    for (;;) {
      if (p >= source.size) throw short();
      const piece = await source.read(p, Math.min(256, source.size - p));
      const nul = piece.indexOf(0);
      if (nul >= 0) {
        p += nul + 1;
        break;
      }
      p += piece.length;
    }
  }
  if (flags & 2) p += 2;
  if (p > source.size) throw short();
  return p;
}

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;

/**
 * Where the run of zstd frames (and skippable frames) starting at `offset` ends, found from the
 * frame and block headers alone (RFC 8878 §3.1), without decompressing.
 */
async function zstdFramesEnd(source: RandomAccessSource, offset: number, subject: string): Promise<number> {
  const bad = (what: string, at: number) => new ReprimageError('CORRUPT_IMAGE', subject, `corrupt zstd data: ${what} at byte ${at}`);
  const short = (at: number) => new ReprimageError('TRUNCATED', subject, `truncated zstd data: frame cut short at byte ${at}`);
  const u32 = async (at: number) => {
    if (at + 4 > source.size) throw short(at);
    const b = await source.read(at, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  };
  let at = offset;
  let frames = 0;
  while (at + 4 <= source.size) {
    const magic = await u32(at);
    if (magic >>> 4 === 0x184d2a5) {
      at += 8 + (await u32(at + 4));
      if (at > source.size) throw short(source.size);
    } else if (magic === ZSTD_MAGIC) {
      if (at + 5 > source.size) throw short(at);
      const fhd = (await source.read(at + 4, 1))[0]!;
      if (fhd & 0x08) throw bad('reserved bit set in the frame header', at + 4);
      const rest = zstdHeaderRest(fhd);
      if (at + 5 + rest > source.size) throw short(at + 5);
      checkZstdWindow(fhd, await source.read(at + 5, rest), subject, at);
      let p = at + 5 + rest;
      for (;;) {
        if (p + 3 > source.size) throw short(p);
        const b = await source.read(p, 3);
        const header = b[0]! | (b[1]! << 8) | (b[2]! << 16);
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw bad('reserved block type', p);
        if (size > ZSTD_BLOCK_MAX) throw bad(`block of ${size} bytes`, p);
        p += 3 + (type === 1 ? 1 : size);
        if (header & 1) break;
      }
      if (fhd & 0x04) p += 4;
      if (p > source.size) throw short(source.size);
      at = p;
    } else {
      break;
    }
    frames++;
  }
  if (frames === 0) throw bad('no zstd frame', offset);
  return at;
}

/**
 * Writes a stream into an anonymous temporary file and returns random access to it. The file
 * is unlinked as soon as it is open for reading, so nothing is left behind even if the process
 * is killed afterwards; while it is being written it is a tracked temporary (src/io/temporaries.ts),
 * which the CLI removes on SIGINT/SIGTERM. Memory stays bounded by one chunk.
 */
export async function spoolToTempSource(chunks: AsyncIterable<Uint8Array>, name: string): Promise<RandomAccessSource> {
  const dir = await makeTemporaryDirectory('reprimage-spool-');
  const path = join(dir.path, 'data');
  let inner: RandomAccessSource | undefined;
  try {
    const fh = await open(path, 'w', 0o600);
    try {
      for await (const chunk of chunks) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    inner = await openFileSource(path);
    await dir.remove(); // the open descriptor keeps the data
  } catch (e) {
    await inner?.close();
    await dir.remove();
    throw e;
  }
  const file = inner;
  // Archive readers read headers and names a few bytes at a time: serve small reads from one
  // 64 KiB window, one system call per window instead of two or three per entry (a cpio segment
  // of thousands of small entries took 40 times longer from the spool than from memory).
  let window: Uint8Array = new Uint8Array(0);
  let windowAt = 0;
  return {
    name,
    size: file.size,
    async read(offset, length) {
      if (length > SPOOL_WINDOW / 16) return file.read(offset, length);
      if (offset < windowAt || offset + length > windowAt + window.length) {
        if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > file.size) return file.read(offset, length); // its error
        // window and its offset change together, after the read: reads may overlap in time
        const fresh = await file.read(offset, Math.min(SPOOL_WINDOW, file.size - offset));
        window = fresh;
        windowAt = offset;
        return fresh.slice(0, length);
      }
      return window.slice(offset - windowAt, offset - windowAt + length);
    },
    close: () => file.close(),
  };
}

const SPOOL_WINDOW = 64 * 1024;
