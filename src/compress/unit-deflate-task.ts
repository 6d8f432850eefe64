/**
 * The job a worker runs for the VM image writers: deflate one cluster or grain.
 * - `qcow2`: raw deflate with QEMU's settings (4 KiB window, level 6, memLevel 9), by pako 2.1.0;
 * - `vmdk`: a zlib stream at level 6, by libdeflate (WebAssembly).
 * Both depend only on the pinned packages, so any worker gives the same bytes.
 */
import pako from 'pako';
import type { TaskResult } from '../parallel/ordered-pool.js';
import { createDeflateCompressor } from './libdeflate/compressor.js';

export type UnitCodec = 'qcow2' | 'vmdk';

export async function createHandler(init: unknown): Promise<(data: Uint8Array) => Promise<TaskResult<Uint8Array>>> {
  const codec = init as UnitCodec;
  const libdeflate = codec === 'vmdk' ? await createDeflateCompressor(6) : undefined;
  return async (data) => {
    let packed = libdeflate ? libdeflate.zlib(data) : pako.deflateRaw(data, { level: 6, windowBits: 12, memLevel: 9 });
    if (packed.byteOffset !== 0 || packed.byteLength !== packed.buffer.byteLength) packed = packed.slice();
    return { result: packed, transfer: [packed.buffer as ArrayBuffer] };
  };
}
