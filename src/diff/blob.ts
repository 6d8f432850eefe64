/**
 * The bytes of one side of a comparison: a file given on the command line, or the contents of
 * a member inside an image. A Blob streams its bytes, reads its first bytes for format sniffing,
 * and opens random access for readers, in place when it can (a byte range of an enclosing image)
 * and through a temporary file when it cannot (decompressed data larger than `MEMORY_LIMIT`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { spoolToTempSource } from '../compress/decompress.js';
import { fromSystemError } from '../errors.js';
import { bufferSource, openFileSource, sliceSource, type RandomAccessSource } from '../io/source.js';
import { readContent, type Content } from '../tree/content.js';

export interface Blob {
  readonly size: number;
  /** Streams every byte, in order. */
  chunks(): AsyncIterable<Uint8Array>;
  /** The first `n` bytes (fewer when the blob is shorter). */
  head(n: number): Promise<Uint8Array>;
  /** Random access to the bytes; the caller closes the returned source. */
  open(): Promise<RandomAccessSource>;
}

/** Contents up to this size are held in memory when random access is needed; larger ones spool to disk. */
export const MEMORY_LIMIT = 32 << 20;
const FILE_CHUNK = 4 << 20;

/** A regular file on disk of a known size. */
export function fileBlob(path: string, size: number): Blob {
  return {
    size,
    async *chunks() {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        throw fromSystemError(e, path);
      }
      try {
        // synchronous reads: a thread-pool round trip per chunk halves the speed of the fast path
        for (let at = 0; at < size; ) {
          const buf = Buffer.allocUnsafe(Math.min(FILE_CHUNK, size - at));
          const n = readSync(fd, buf, 0, buf.length, at);
          if (n === 0) break;
          at += n;
          yield n === buf.length ? buf : buf.subarray(0, n);
        }
      } finally {
        closeSync(fd);
      }
    },
    async head(n) {
      const source = await openFileSource(path);
      try {
        return await source.read(0, Math.min(n, source.size));
      } finally {
        await source.close();
      }
    },
    open: () => openFileSource(path),
  };
}

/** The contents of a member; `name` labels temporary copies in error messages. */
export function contentBlob(content: Content, name: string): Blob {
  return {
    size: content.size,
    chunks: () => content.chunks(),
    async head(n) {
      const want = Math.min(n, content.size);
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
      if (content.range) return sliceSource(content.range.source, content.range.offset, content.size, name);
      if (content.size <= MEMORY_LIMIT) return bufferSource(await readContent(content), name);
      return spoolToTempSource(content.chunks(), name);
    },
  };
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

/**
 * Whether two blobs hold the same bytes: sizes first, then both streams compared in lockstep,
 * stopping at the first difference. Memory: one chunk of each side.
 */
export async function sameBytes(a: Blob, b: Blob): Promise<boolean> {
  if (a.size !== b.size) return false;
  if (a.size === 0) return true;
  const ia = a.chunks()[Symbol.asyncIterator]();
  const ib = b.chunks()[Symbol.asyncIterator]();
  let ca: Uint8Array = new Uint8Array(0);
  let cb: Uint8Array = new Uint8Array(0);
  try {
    while (true) {
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
      if (n > 0 && Buffer.compare(ca.subarray(0, n), cb.subarray(0, n)) !== 0) return false;
      ca = ca.subarray(n);
      cb = cb.subarray(n);
    }
  } finally {
    await Promise.all([ia.return?.(), ib.return?.()]);
  }
}
