/**
 * The job a worker runs for the VM image writers: deflate one cluster or grain.
 * - `qcow2`: raw deflate with QEMU's settings (4 KiB window, level 6, memLevel 9), by pako 2.1.0;
 * - `vmdk`: a zlib stream at level 6, by libdeflate (WebAssembly).
 * Both depend only on the pinned packages, so any worker gives the same bytes.
 */
import pako from 'pako';
import { createDeflateCompressor } from './libdeflate/compressor.js';

/** The result a worker hands back (parallel/ordered-pool.ts's TaskResult, which this layer cannot import). */
interface Packed {
  result: Uint8Array;
  transfer: ArrayBuffer[];
}

export async function createHandler(init: unknown): Promise<(data: Uint8Array) => Promise<Packed>> {
  const codec = init as 'qcow2' | 'vmdk';
  const libdeflate = codec === 'vmdk' ? await createDeflateCompressor(6) : undefined;
  return async (data) => {
    let packed = libdeflate ? libdeflate.zlib(data) : pako.deflateRaw(data, { level: 6, windowBits: 12, memLevel: 9 });
    if (packed.byteOffset !== 0 || packed.byteLength !== packed.buffer.byteLength) packed = packed.slice();
    return { result: packed, transfer: [packed.buffer as ArrayBuffer] };
  };
}
