/**
 * Random-access byte sources: a file on disk, a buffer, or a window into another source.
 * Readers of image formats take one of these, so the same reader works on a file, on an image
 * held in memory, and on an image nested inside another image without copying it out.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fromSystemError, truncatedError } from '../errors.js';
import type { ByteRange } from './data-ranges.js';

export interface RandomAccessSource {
  /** The file (or nested path) the bytes belong to; used in error messages. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; a TRUNCATED error if the source ends first. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Optional: `target.length` bytes at `offset` into `target` (a reused buffer; src/io/zero-runs.ts). */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /**
   * Optional: the only byte ranges that may hold data (sorted, disjoint); everything else reads as
   * zeros, so whoever scans the source may skip it unread (a sparse file's holes: data-ranges.ts).
   */
  readonly dataRanges?: readonly ByteRange[];
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<RandomAccessSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fromSystemError(e, path);
  }
  const { size } = await fh.stat();
  const fill = async (offset: number, buf: Uint8Array) => {
    const length = buf.length;
    checkRange(path, size, offset, length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw truncatedError(path, 'data', offset + done, length - done);
      done += bytesRead;
    }
  };
  return {
    name: path,
    size,
    async read(offset, length) {
      checkRange(path, size, offset, length);
      const buf = new Uint8Array(length);
      await fill(offset, buf);
      return buf;
    },
    readInto: fill,
    close: () => fh.close(),
  };
}

export function bufferSource(bytes: Uint8Array, name: string): RandomAccessSource {
  return {
    name,
    size: bytes.length,
    async read(offset, length) {
      checkRange(name, bytes.length, offset, length);
      return bytes.subarray(offset, offset + length);
    },
    close: () => Promise.resolve(),
  };
}

/** A window of `length` bytes starting at `offset` of `parent`. Closing it leaves the parent open. */
export function sliceSource(parent: RandomAccessSource, offset: number, length: number, name = parent.name): RandomAccessSource {
  checkRange(parent.name, parent.size, offset, length);
  const slice: RandomAccessSource = {
    name,
    size: length,
    async read(at, n) {
      checkRange(name, length, at, n);
      return parent.read(offset + at, n);
    },
    close: () => Promise.resolve(),
  };
  const parentInto = parent.readInto?.bind(parent);
  if (parentInto) {
    slice.readInto = async (at, target) => {
      checkRange(name, length, at, target.length);
      return parentInto(offset + at, target);
    };
  }
  return slice;
}

function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${name}: bad read range ${offset}+${length}`);
  }
  if (offset + length > size) throw truncatedError(name, 'data', Math.min(offset, size), offset + length - size);
}
