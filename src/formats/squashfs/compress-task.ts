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

/**
 * The handler of one worker. The result goes back in the job's own buffer (the compressed bytes
 * are shorter, or the block is kept raw), so a block costs one buffer, not two: the main thread
 * allocates it, and it comes back holding what is written.
 */
export async function createHandler(init: unknown): Promise<(job: CompressJob) => Promise<TaskResult<CompressResult>>> {
  const codec = await createSquashfsCodec(init as SquashfsCodecSettings);
  return async (job) => {
    const data = job.data;
    let bytes = data;
    let compressed = false;
    if (!job.raw) {
      const packed = await codec.compress(data, job.metadata);
      if (packed.length > 0 && packed.length < data.length) {
        data.set(packed);
        bytes = data.subarray(0, packed.length);
        compressed = true;
      }
    }
    return { result: { bytes, compressed }, transfer: [data.buffer as ArrayBuffer] };
  };
}
