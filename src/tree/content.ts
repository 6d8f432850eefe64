/**
 * Lazy file contents. A Tree never holds the bytes of its files; it holds where to get them:
 * a file on disk, a byte range of another file or image, a buffer, or a stream factory.
 * Contents are read when a writer streams them, once, in chunks.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ReprimageError, fromSystemError } from '../errors.js';
import type { Sink } from '../io/sink.js';
import { displayName, fsPath } from './names.js';
import type { RandomAccessSource } from '../io/source.js';

/** A run of data in a sparse file; everything outside the runs reads as zeros. */
export interface DataRegion {
  readonly offset: number;
  readonly length: number;
}

export interface Content {
  readonly size: number;
  /** Where the bytes come from, for messages (a path, or `image ▸ member`). */
  readonly origin: string;
  /** For sparse contents, the runs that hold data, ascending; undefined when dense. */
  readonly dataRegions?: readonly DataRegion[];
  /**
   * Set when the bytes are exactly one range of a random-access source, so that a reader (the
   * differ opening a SquashFS inside an ISO) can read them in place instead of copying them out.
   */
  readonly range?: { readonly source: RandomAccessSource; readonly offset: number };
  /**
   * The bytes as a reader stores them (compressed blocks), when it can give them. Two contents
   * whose `form` strings are equal and whose parts are byte-equal hold equal bytes, so the differ
   * need not decompress them. (Unequal stored parts say nothing: compare the bytes then.)
   */
  readonly stored?: StoredForm;
  /** The bytes in order, in chunks of any size; yields exactly `size` bytes in total. */
  chunks(): AsyncIterable<Uint8Array>;
  /**
   * Set on files on disk: opens the file for one sequential synchronous read, so that
   * `copyToSink` can read it straight into a sink's buffer.
   */
  openSync?(): SyncReader;
}

/** A content's bytes as its reader stores them (Content.stored). */
export interface StoredForm {
  /** Everything besides the parts' bytes that their meaning depends on (codec, block sizes…). */
  readonly form: string;
  /** The stored bytes, in order. */
  parts(): AsyncIterable<Uint8Array>;
  /**
   * Where the parts lie, when the reader knows without reading: byte ranges of random-access
   * sources, in order, holding exactly what `parts()` yields besides bytes that `form` already
   * tells. Undefined when it cannot say (compare `parts()` then); throws what `parts()` would.
   */
  extents?(): readonly StoredExtent[] | undefined;
}

/** A byte range of a random-access source (StoredForm.extents). */
export interface StoredExtent {
  readonly source: RandomAccessSource;
  readonly offset: number;
  readonly length: number;
}

/** One sequential synchronous read of a file on disk (Content.openSync). */
export interface SyncReader {
  /** Fills `into` with the next bytes; an IO error if the file ends first. */
  read(into: Uint8Array): void;
  /** An IO error if the file has grown beyond its listed size. */
  finish(): void;
  close(): void;
}

/**
 * Appends a content to a sink straight from its file into the sink's buffer, when the content
 * is a file on disk and the sink lends its buffer (FileSink); false (nothing written) otherwise,
 * and the caller streams `chunks()`. Saves an allocation and a copy per file: most of the cost of
 * a tar or ISO of many small files besides the system calls.
 */
export async function copyToSink(content: Content, sink: Sink): Promise<boolean> {
  if (!content.openSync || !sink.fill) return false;
  if (content.size === 0) return true;
  const reader = content.openSync();
  try {
    await sink.fill(content.size, (view) => reader.read(view));
    reader.finish();
  } finally {
    reader.close();
  }
  return true;
}

const CHUNK = 1 << 20;

/**
 * A regular file on disk, read when streamed, in chunks of at most 1 MiB sized to what is left
 * (small files cost one exact allocation). Reads are synchronous: for the many small files of a
 * root file system, a round trip through the thread pool per call costs more than the read.
 * Fails if the file's size changed since it was listed.
 */
export function fileContent(diskPath: string, size: number): Content {
  return new DiskFile(diskPath, size);
}

/**
 * A file on disk as a Content: two fields, its methods on the prototype. A loaded tree holds one
 * per regular file, so closures per file (as an object literal with methods would make) cost
 * a root file system of 40,000 files several megabytes.
 */
class DiskFile implements Content {
  constructor(
    private readonly diskPath: string,
    readonly size: number,
  ) {}

  /** For messages; fsPath(diskPath) for the system. */
  get origin(): string {
    return displayName(this.diskPath);
  }

  openSync(): SyncReader {
    return openFileReader(this.diskPath, this.size);
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    const size = this.size;
    if (size === 0) return;
    const path = this.origin;
    let fd: number;
    try {
      fd = openSync(fsPath(this.diskPath), 'r');
    } catch (e) {
      throw fromSystemError(e, path);
    }
    try {
      let seen = 0;
      while (seen < size) {
        const want = Math.min(CHUNK, size - seen);
        const buf = new Uint8Array(want);
        let got = 0;
        while (got < want) {
          const n = readSync(fd, buf, got, want - got, seen + got);
          if (n === 0) throw new ReprimageError('IO', path, `file shrank from ${size} to ${seen + got} bytes while reading it`);
          got += n;
        }
        seen += want;
        yield buf;
      }
      if (fstatSync(fd).size > size) throw new ReprimageError('IO', path, `file grew beyond ${size} bytes while reading it`);
    } catch (e) {
      throw fromSystemError(e, path);
    } finally {
      closeSync(fd);
    }
  }
}

/** Where `finish` reads the byte that must not be there. */
const PROBE = new Uint8Array(1);

function openFileReader(diskPath: string, size: number): SyncReader {
  const path = displayName(diskPath);
  let fd: number;
  try {
    fd = openSync(fsPath(diskPath), 'r');
  } catch (e) {
    throw fromSystemError(e, path);
  }
  let seen = 0;
  return {
    read(into) {
      try {
        for (let got = 0; got < into.length; ) {
          const n = readSync(fd, into, got, into.length - got, seen + got);
          if (n === 0) throw new ReprimageError('IO', path, `file shrank from ${size} to ${seen + got} bytes while reading it`);
          got += n;
        }
      } catch (e) {
        throw fromSystemError(e, path);
      }
      seen += into.length;
    },
    finish() {
      // one byte more, rather than fstat: the same system call cost without a Stats object per file
      let more: number;
      try {
        more = readSync(fd, PROBE, 0, 1, size);
      } catch (e) {
        throw fromSystemError(e, path);
      }
      if (more > 0) throw new ReprimageError('IO', path, `file grew beyond ${size} bytes while reading it`);
    },
    close() {
      closeSync(fd);
    },
  };
}

export function bytesContent(bytes: Uint8Array, origin = '<buffer>'): Content {
  return {
    size: bytes.length,
    origin,
    async *chunks() {
      if (bytes.length > 0) yield bytes;
    },
  };
}

export const emptyContent: Content = bytesContent(new Uint8Array(0), '<empty>');

/** `length` bytes at `offset` of a random-access source (a member of an image). */
export function rangeContent(source: RandomAccessSource, offset: number, length: number, origin = source.name): Content {
  return {
    size: length,
    origin,
    range: { source, offset },
    async *chunks() {
      for (let at = 0; at < length; at += CHUNK) {
        yield await source.read(offset + at, Math.min(CHUNK, length - at));
      }
    },
  };
}

/**
 * Contents produced by a function each time they are streamed (decompressed members, sparse
 * files rebuilt from their map). The factory must yield exactly `size` bytes.
 */
export function streamContent(
  size: number,
  origin: string,
  factory: () => AsyncIterable<Uint8Array>,
  dataRegions?: readonly DataRegion[],
): Content {
  return {
    size,
    origin,
    dataRegions,
    async *chunks() {
      let seen = 0;
      for await (const chunk of factory()) {
        seen += chunk.length;
        if (seen > size) throw new ReprimageError('CORRUPT_IMAGE', origin, `more than the declared ${size} bytes`);
        yield chunk;
      }
      if (seen !== size) throw new ReprimageError('TRUNCATED', origin, `${seen} of the declared ${size} bytes`);
    },
  };
}

/** Reads a whole content into memory; only for contents known to be small. */
export async function readContent(content: Content): Promise<Uint8Array> {
  const out = new Uint8Array(content.size);
  let at = 0;
  for await (const chunk of content.chunks()) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
