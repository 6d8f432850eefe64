/**
 * The job a compression worker runs: compress one data, fragment or metadata block, or pass it
 * through raw when asked to or when compression does not make it smaller (as mksquashfs does).
 */
import { createSquashfsCodec, type SquashfsCodecSettings } from '../../compress/squashfs-codecs.js';
import type { TaskResult } from '../../parallel/ordered-pool.js';

export interface CompressJob {
  data: Uint8Array;
  metadata: boolean;
  /** Store raw without trying (the -noD / -noF / -noI options). */
  raw: boolean;
}

export interface CompressResult {
  bytes: Uint8Array;
  compressed: boolean;
}

export async function createHandler(init: unknown): Promise<(job: CompressJob) => Promise<TaskResult<CompressResult>>> {
  const codec = await createSquashfsCodec(init as SquashfsCodecSettings);
  return async (job) => {
    let bytes = job.data;
    let compressed = false;
    if (!job.raw) {
      const packed = await codec.compress(job.data, job.metadata);
      if (packed.length > 0 && packed.length < job.data.length) {
        bytes = packed;
        compressed = true;
      }
    }
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
    return { result: { bytes, compressed }, transfer: [bytes.buffer as ArrayBuffer] };
  };
}
