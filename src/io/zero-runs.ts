/**
 * Helpers for the virtual-disk writers (qcow2, VHD, VMDK, GCE): reading a raw disk image in
 * fixed units, and telling which units are all zeros, so that those are left out of the output
 * (an unallocated cluster, grain or block reads as zeros in every one of these formats).
 */
import { dataWithin, meetsData, type ByteRange } from './data-ranges.js';
import { FileSink, type Sink } from './sink.js';
import type { RandomAccessSource } from './source.js';

/** Compared against: a native memcmp is several times faster than a loop in JavaScript (most of a disk is zeros). */
const ZEROS = Buffer.alloc(64 << 10);

/** True when bytes[from, to) are all zero. */
export function isAllZero(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = from; at < to; at += ZEROS.length) {
    const end = Math.min(to, at + ZEROS.length);
    if (view.compare(ZEROS, 0, end - at, at, end) !== 0) return false;
  }
  return true;
}

/**
 * Reads `target.length` bytes at `offset` into `target`: through the source's `readInto` when it
 * has one (no new buffer per read: fresh memory costs a page fault per 4 KiB), else a copy of `read`.
 */
export async function readInto(source: RandomAccessSource, offset: number, target: Uint8Array): Promise<void> {
  if (source.readInto) return source.readInto(offset, target);
  target.set(await source.read(offset, target.length));
}

/** A chunk of the source: its bytes (a view valid until the next step); `zero` when known to be all zeros unread. */
export interface Chunk {
  offset: number;
  bytes: Uint8Array;
  zero: boolean;
}

/**
 * The source in consecutive chunks of `chunk` bytes (the last one shorter), each a view valid
 * until the next step. Up to `depth` reads are in flight at once, into a ring of buffers: the
 * reads of the chunks ahead overlap the work on this one, and the disk sees several requests at
 * a time (as qemu-img keeps several in flight). A chunk outside the source's `dataRanges` is not
 * read: it comes as zeros, flagged `zero` (a sparse image's holes are most of it).
 */
export async function* readChunks(source: RandomAccessSource, chunk: number, depth = 4): AsyncGenerator<Chunk> {
  const count = Math.ceil(source.size / chunk);
  const ranges = source.dataRanges;
  const hole = (i: number) => ranges !== undefined && !meetsData(ranges, i * chunk, Math.min(source.size, (i + 1) * chunk));
  let zeros: Uint8Array | undefined; // never written to: fresh pages, no cost until read
  const ring = Array.from({ length: Math.max(1, Math.min(depth, count)) }, () => new Uint8Array(chunk));
  const pending: Array<Promise<void>> = [];
  const start = (i: number): Promise<void> => {
    if (hole(i)) return Promise.resolve();
    const offset = i * chunk;
    const target = ring[i % ring.length]!.subarray(0, Math.min(chunk, source.size - offset));
    const read = ranges ? readData(source, ranges, offset, target) : readInto(source, offset, target);
    read.catch(() => undefined); // awaited in turn below; a read failing ahead of its turn must not go unhandled
    return read;
  };
  for (let i = 0; i < ring.length && i < count; i++) pending.push(start(i));
  for (let i = 0; i < count; i++) {
    const slot = i % ring.length;
    await pending[slot];
    const offset = i * chunk;
    const length = Math.min(chunk, source.size - offset);
    if (hole(i)) {
      zeros ??= new Uint8Array(chunk);
      yield { offset, bytes: zeros.subarray(0, length), zero: true };
    } else {
      yield { offset, bytes: ring[slot]!.subarray(0, length), zero: false };
    }
    // the consumer is done with this buffer: read the chunk `depth` ahead into it
    if (i + ring.length < count) pending[slot] = start(i + ring.length);
  }
}

/**
 * Fills `target` with the source's bytes at `offset`, reading only the parts that meet the data
 * ranges: the rest is zeros, set here (cheaper than the kernel copying out a hole's zero pages).
 */
function readData(source: RandomAccessSource, ranges: readonly ByteRange[], offset: number, target: Uint8Array): Promise<void> {
  const parts = dataWithin(ranges, offset, offset + target.length);
  const reads: Array<Promise<void>> = [];
  let at = 0;
  for (const p of parts) {
    target.fill(0, at, p.start - offset);
    reads.push(readInto(source, p.start, target.subarray(p.start - offset, p.end - offset)));
    at = p.end - offset;
  }
  target.fill(0, at);
  return reads.length === 1 ? reads[0]! : Promise.all(reads).then(() => undefined);
}

/**
 * The source in consecutive units of `unit` bytes (the last one zero-padded to a whole unit),
 * read `perRead` units at a time (4 MiB) so that a 64 KiB cluster size does not mean 64 KiB reads.
 * Yields each unit's index and bytes (a view valid until the next step), and `zero` when the
 * unit is known to be zeros without looking (outside the source's `dataRanges`); a unit not so
 * flagged may still be all zeros.
 */
export async function* readUnits(source: RandomAccessSource, unit: number, perRead = Math.max(1, Math.floor((4 << 20) / unit))): AsyncGenerator<{ index: number; bytes: Uint8Array; zero: boolean }> {
  const chunk = unit * perRead;
  const ranges = source.dataRanges;
  for await (const { offset, bytes, zero } of readChunks(source, chunk)) {
    const first = offset / unit;
    const n = Math.ceil(bytes.length / unit);
    let view = bytes;
    if (bytes.length % unit !== 0) {
      // the source's last unit, zero-padded (the ring buffer past it holds an earlier chunk's bytes)
      view = new Uint8Array(n * unit);
      view.set(bytes);
    }
    for (let k = 0; k < n; k++) {
      const start = offset + k * unit;
      const known = zero || (ranges !== undefined && !meetsData(ranges, start, start + unit));
      yield { index: first + k, bytes: view.subarray(k * unit, (k + 1) * unit), zero: known };
    }
  }
}

/** Appends `length` zero bytes: a hole where the sink can make one (Sink.skip). */
export async function appendZeros(sink: Sink, length: number): Promise<void> {
  if (length <= 0) return;
  if (sink.skip) return sink.skip(length);
  const zeros = new Uint8Array(Math.min(length, 1 << 20));
  for (let left = length; left > 0; left -= zeros.length) await sink.write(left >= zeros.length ? zeros : zeros.subarray(0, left));
}

/**
 * Copies the source to the sink, leaving each all-zero run of `unit` bytes as a hole: the raw
 * writer's copy, and the data part of a fixed VHD.
 */
export async function copySparse(source: RandomAccessSource, sink: Sink, unit = 4096): Promise<void> {
  // a file sink has written or copied the bytes when write resolves; a stream may still hold them
  const chunks = sink instanceof FileSink ? readChunks(source, 4 << 20) : freshChunks(source, 4 << 20);
  for await (const { bytes, zero } of chunks) {
    if (zero || isAllZero(bytes)) {
      await appendZeros(sink, bytes.length); // most of a disk image: one test instead of a thousand
      continue;
    }
    let runStart = 0;
    let runZero = false;
    for (let at = 0; at < bytes.length; at += unit) {
      const end = Math.min(bytes.length, at + unit);
      const zero = isAllZero(bytes, at, end);
      if (zero !== runZero && at > runStart) {
        if (runZero) await appendZeros(sink, at - runStart);
        else await sink.write(bytes.subarray(runStart, at));
        runStart = at;
      }
      runZero = zero;
    }
    if (runZero) await appendZeros(sink, bytes.length - runStart);
    else await sink.write(bytes.subarray(runStart));
  }
}

/** As readChunks, one new buffer per chunk and one read at a time: for sinks that may keep what they are given. */
async function* freshChunks(source: RandomAccessSource, chunk: number): AsyncGenerator<Chunk> {
  for (let offset = 0; offset < source.size; offset += chunk) yield { offset, bytes: await source.read(offset, Math.min(chunk, source.size - offset)), zero: false };
}
