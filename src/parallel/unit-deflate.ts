/**
 * Reads a raw disk image in fixed units (clusters, grains) and deflates the non-zero ones on
 * worker threads, handing them to `emit` strictly in disk order (docs/design.md rule 5): the output
 * is the same with 1 worker or 16. The backlog is bounded (4 units per worker).
 */
import type { RandomAccessSource } from '../io/source.js';
import { isAllZero, readUnits } from '../io/zero-runs.js';
import { OrderedPipeline, WorkerPool, defaultWorkerCount } from './ordered-pool.js';

/** The codecs of src/compress/unit-deflate-task.ts, which the workers load by URL. */
export type UnitCodec = 'qcow2' | 'vmdk';

export interface DeflatedUnit {
  index: number;
  /** The unit's bytes; undefined for an all-zero unit. */
  bytes?: Uint8Array;
  /** Its compressed form. */
  packed?: Uint8Array;
}

export async function deflateUnits(
  source: RandomAccessSource, unit: number, codec: UnitCodec, workers: number | undefined, emit: (u: DeflatedUnit) => Promise<void>,
): Promise<void> {
  const n = Math.max(1, workers ?? defaultWorkerCount());
  const pool = await WorkerPool.start<Uint8Array, Uint8Array>(new URL('../compress/unit-deflate-task.js', import.meta.url), codec, n);
  try {
    const pipeline = new OrderedPipeline<DeflatedUnit>(emit, Math.max(8, n * 4));
    for await (const { index, bytes, zero } of readUnits(source, unit)) {
      if (zero || isAllZero(bytes)) {
        await pipeline.submit({ index });
        continue;
      }
      const copy = bytes.slice(); // the view is reused for the next unit
      const job = copy.slice();
      await pipeline.submit(pool.run(job, { transfer: [job.buffer] }).then((packed) => ({ index, bytes: copy, packed })));
    }
    await pipeline.drain();
  } finally {
    await pool.close();
  }
}
