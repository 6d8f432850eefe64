/**
 * The bytes of one side of a comparison: a file given on the command line, or the contents of
 * a member inside an image. A Blob streams its bytes, reads its first bytes for format sniffing,
 * and opens random access for readers, in place when it can (a byte range of an enclosing image)
 * and through a temporary file when it cannot (decompressed data larger than `MEMORY_LIMIT`).
 */
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { spoolToTempSource } from '../compress/decompress.js';
import { fromSystemError } from '../errors.js';
import { abortableSource, throwIfAborted } from '../io/abort.js';
import { bufferSource, openFileSource, sliceSource, type RandomAccessSource } from '../io/source.js';
import { fileContent, readContent, type Content } from '../tree/content.js';

export interface Blob {
  readonly size: number;
  /** Streams every byte, in order. */
  chunks(): AsyncIterable<Uint8Array>;
  /** The first `n` bytes (fewer when the blob is shorter). */
  head(n: number): Promise<Uint8Array>;
  /** Random access to the bytes; the caller closes the returned source. */
  open(): Promise<RandomAccessSource>;
  /** Set for a file on disk: two such blobs are compared with plain reads into reused buffers. */
  readonly filePath?: string;
}

/** Contents up to this size are held in memory when random access is needed; larger ones spool to disk. */
export const MEMORY_LIMIT = 32 << 20;
const FILE_CHUNK = 4 << 20;

/**
 * A regular file on disk of a known size: streamed as tree/content.ts's `fileContent` streams
 * files (one reader of files for the whole project), with random access and a cheap head.
 * `label` names it to readers (and so in their messages) when not its path: `-` for standard
 * input spooled to a temporary file.
 */
export function fileBlob(path: string, size: number, label = path): Blob {
  const content = fileContent(path, size);
  return {
    size,
    filePath: path,
    chunks: () => content.chunks(),
    async head(n) {
      const source = await openFileSource(path);
      try {
        return await source.read(0, Math.min(n, source.size));
      } finally {
        await source.close();
      }
    },
    open: async () => {
      const opened = await openFileSource(path);
      const source = label === path ? opened : { ...opened, name: label };
      fileWindows.set(source, { path, base: 0 });
      return source;
    },
  };
}

/**
 * Sources that are windows of a file on disk (a file opened by `fileBlob`, or a member's byte
 * range inside one): two such ranges are compared with reused buffers, as two files are.
 */
const fileWindows = new WeakMap<RandomAccessSource, { path: string; base: number }>();

/** The contents of a member; `name` labels temporary copies in error messages. */
export function contentBlob(content: Content, name: string): Blob {
  const blob: Blob = {
    size: content.size,
    chunks: () => content.chunks(),
    async head(n) {
      const want = Math.min(n, content.size);
      if (want === 0) return new Uint8Array(0);
      if (content.range) return content.range.source.read(content.range.offset, want);
      const out = new Uint8Array(want);
      let at = 0;
      for await (const chunk of content.chunks()) {
        const take = Math.min(chunk.length, want - at);
        out.set(chunk.subarray(0, take), at);
        at += take;
        if (at >= want) break; // leaving the loop closes the stream
      }
      return out.subarray(0, at);
    },
    async open() {
      if (content.range) {
        const slice = sliceSource(content.range.source, content.range.offset, content.size, name);
        const file = fileWindows.get(content.range.source);
        if (file) fileWindows.set(slice, { path: file.path, base: file.base + content.range.offset });
        return slice;
      }
      if (content.size <= MEMORY_LIMIT) return bufferSource(await readContent(content), name);
      return spoolToTempSource(content.chunks(), name);
    },
  };
  if (content.range) rangeBlobs.set(blob, content.range);
  if (content.stored) storedBlobs.set(blob, content.stored);
  return blob;
}

/**
 * As cmp does it, with reused buffers and no allocation per read; the two files are read at the
 * same time on the thread pool, so the two copies out of the page cache overlap. Compares `size`
 * bytes at `offsetA` of one file with those at `offsetB` of the other.
 */
async function sameFiles(pathA: string, offsetA: number, pathB: string, offsetB: number, size: number, stop: Stop): Promise<boolean> {
  const open = async (p: string) => {
    try {
      return await openFile(p, 'r');
    } catch (e) {
      throw fromSystemError(e, p);
    }
  };
  const [fa, fb] = await Promise.all([open(pathA), open(pathB)]);
  try {
    const ba = Buffer.allocUnsafe(Math.min(FILE_CHUNK, size));
    const bb = Buffer.allocUnsafe(Math.min(FILE_CHUNK, size));
    const fill = async (fh: FileHandle, buf: Buffer, want: number, position: number) => {
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got;
    };
    for (let at = 0; at < size; ) {
      stop();
      const want = Math.min(ba.length, size - at);
      const [na, nb] = await Promise.all([fill(fa, ba, want, offsetA + at), fill(fb, bb, want, offsetB + at)]);
      if (na !== nb || na === 0) return false;
      if (ba.compare(bb, 0, na, 0, na) !== 0) return false;
      at += na;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

const storedBlobs = new WeakMap<Blob, NonNullable<Content['stored']>>();

const rangeBlobs = new WeakMap<Blob, { source: RandomAccessSource; offset: number }>();

function rangeOf(blob: Blob): { source: RandomAccessSource; offset: number } | undefined {
  return rangeBlobs.get(blob);
}

/** Two ranges of random-access sources (members of two images), read in large steps. */
async function sameRanges(a: { source: RandomAccessSource; offset: number }, b: { source: RandomAccessSource; offset: number }, size: number, stop: Stop): Promise<boolean> {
  const fa = fileWindows.get(a.source);
  const fb = fileWindows.get(b.source);
  if (fa && fb) return sameFiles(fa.path, fa.base + a.offset, fb.path, fb.base + b.offset, size, stop);
  for (let at = 0; at < size; at += FILE_CHUNK) {
    stop();
    const n = Math.min(FILE_CHUNK, size - at);
    const [x, y] = await Promise.all([a.source.read(a.offset + at, n), b.source.read(b.offset + at, n)]);
    if (Buffer.compare(x, y) !== 0) return false;
  }
  return true;
}

/** A blob over a source that stays open for as long as the blob is used. */
export function sourceBlob(source: RandomAccessSource): Blob {
  return {
    size: source.size,
    async *chunks() {
      for (let at = 0; at < source.size; at += FILE_CHUNK) yield await source.read(at, Math.min(FILE_CHUNK, source.size - at));
    },
    head: (n) => source.read(0, Math.min(n, source.size)),
    // a window over the whole source: closing it leaves the source open for its owner
    open: async () => sliceSource(source, 0, source.size),
  };
}

/** Throws an ABORTED error once the comparison's signal is aborted: called before each chunk. */
type Stop = () => void;

/**
 * Whether two blobs hold the same bytes: sizes first, then both streams compared in lockstep,
 * stopping at the first difference. Memory: one chunk of each side. With a `signal`, each chunk
 * is read only while it is not aborted (an ABORTED error naming `subject`), so comparing two
 * multi-gigabyte members stops within one chunk.
 */
export async function sameBytes(a: Blob, b: Blob, signal?: AbortSignal, subject = 'diff'): Promise<boolean> {
  const stop: Stop = () => throwIfAborted(signal, subject);
  if (a.size !== b.size) return false;
  if (a.size === 0) return true;
  if (a.filePath !== undefined && b.filePath !== undefined) return sameFiles(a.filePath, 0, b.filePath, 0, a.size, stop);
  const sa = storedBlobs.get(a);
  const sb = storedBlobs.get(b);
  // equal stored (compressed) forms mean equal bytes, without decompressing; else look closer
  if (sa && sb && sa.form === sb.form && (await sameStreams(sa.parts(), sb.parts(), stop))) return true;
  const ra = rangeOf(a);
  const rb = rangeOf(b);
  if (ra && rb) return sameRanges(ra, rb, a.size, stop);
  return sameStreams(a.chunks(), b.chunks(), stop);
}

/**
 * `blob` for the readers, text and binary views that open it or stream it after sameBytes: every
 * chunk streamed and every read of the source it opens is refused once `signal` is aborted (an
 * ABORTED error naming `subject`). A window of a file on disk stays one, so members inside it
 * are still compared as cmp compares.
 */
export function abortableBlob(blob: Blob, signal: AbortSignal, subject: string): Blob {
  return {
    size: blob.size,
    async *chunks() {
      throwIfAborted(signal, subject);
      for await (const chunk of blob.chunks()) {
        throwIfAborted(signal, subject);
        yield chunk;
      }
    },
    head: async (n) => (throwIfAborted(signal, subject), blob.head(n)),
    async open() {
      throwIfAborted(signal, subject);
      const source = await blob.open();
      const guarded = abortableSource(source, signal);
      const file = fileWindows.get(source);
      if (file) fileWindows.set(guarded, file);
      return guarded;
    },
  };
}

/**
 * Verdicts on pairs of whole chunks, by identity. A SquashFS's small files share fragment blocks:
 * each file's stored form ends with its (cached) fragment block, so two images' thousands of
 * small files compare the same two block objects again and again; they are compared once.
 * Streams never change a chunk once it has been yielded.
 */
const chunkVerdicts = new WeakMap<Uint8Array, WeakMap<Uint8Array, boolean>>();
const REMEMBERED_CHUNK = 4096;

function sameChunks(a: Uint8Array, b: Uint8Array, n: number): boolean {
  if (a.length !== n || b.length !== n || n < REMEMBERED_CHUNK) return Buffer.compare(a.subarray(0, n), b.subarray(0, n)) === 0;
  let known = chunkVerdicts.get(a);
  const verdict = known?.get(b);
  if (verdict !== undefined) return verdict;
  const same = Buffer.compare(a, b) === 0;
  if (!known) chunkVerdicts.set(a, (known = new WeakMap()));
  known.set(b, same);
  return same;
}

/** Two byte streams compared in lockstep, whatever their chunk boundaries; stops at the first difference. */
async function sameStreams(sa: AsyncIterable<Uint8Array>, sb: AsyncIterable<Uint8Array>, stop: Stop): Promise<boolean> {
  const ia = sa[Symbol.asyncIterator]();
  const ib = sb[Symbol.asyncIterator]();
  let ca: Uint8Array = new Uint8Array(0);
  let cb: Uint8Array = new Uint8Array(0);
  try {
    while (true) {
      stop();
      if (ca.length === 0 && cb.length === 0) {
        // fetch both sides at once so their reads overlap
        const [ra, rb] = await Promise.all([ia.next(), ib.next()]);
        if (ra.done || rb.done) return ra.done === true && rb.done === true;
        ca = ra.value;
        cb = rb.value;
      } else if (ca.length === 0) {
        const r = await ia.next();
        if (r.done) return false;
        ca = r.value;
      } else if (cb.length === 0) {
        const r = await ib.next();
        if (r.done) return false;
        cb = r.value;
      }
      const n = Math.min(ca.length, cb.length);
      if (n > 0 && !sameChunks(ca, cb, n)) return false;
      ca = ca.subarray(n);
      cb = cb.subarray(n);
    }
  } finally {
    await Promise.all([ia.return?.(), ib.return?.()]);
  }
}
