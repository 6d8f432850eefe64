/**
 * Helpers for the virtual-disk writers (qcow2, VHD, VMDK, GCE): reading a raw disk image in
 * fixed units, and telling which units are all zeros, so that those are left out of the output
 * (an unallocated cluster, grain or block reads as zeros in every one of these formats).
 */
import type { Sink } from './sink.js';
import type { RandomAccessSource } from './source.js';

/** True when bytes[from, to) are all zero. */
export function isAllZero(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  let i = from;
  // eight bytes at a time where the view is aligned: most of a disk's data is not zero early on
  if ((bytes.byteOffset + i) % 8 === 0) {
    const words = Math.floor((to - i) / 8);
    if (words > 0) {
      const w = new BigUint64Array(bytes.buffer, bytes.byteOffset + i, words);
      for (let k = 0; k < words; k++) if (w[k] !== 0n) return false;
      i += words * 8;
    }
  }
  for (; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The source in consecutive units of `unit` bytes (the last one zero-padded to a whole unit),
 * read `perRead` units at a time (4 MiB) so that a 64 KiB cluster size does not mean 64 KiB reads.
 * Yields each unit's index and bytes (a view valid until the next step).
 */
export async function* readUnits(source: RandomAccessSource, unit: number, perRead = Math.max(1, Math.floor((4 << 20) / unit))): AsyncGenerator<{ index: number; bytes: Uint8Array }> {
  const count = Math.ceil(source.size / unit);
  const buffer = new Uint8Array(unit * perRead);
  for (let first = 0; first < count; first += perRead) {
    const offset = first * unit;
    const length = Math.min(buffer.length, source.size - offset);
    const data = await source.read(offset, length);
    buffer.set(data);
    if (length < buffer.length) buffer.fill(0, length);
    const n = Math.min(perRead, count - first);
    for (let k = 0; k < n; k++) yield { index: first + k, bytes: buffer.subarray(k * unit, (k + 1) * unit) };
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
  const step = 4 << 20;
  for (let offset = 0; offset < source.size; offset += step) {
    const bytes = await source.read(offset, Math.min(step, source.size - offset));
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
