/**
 * Writes a GCE image tarball: a raw disk image as `disk.raw` in an old-GNU sparse tar, gzip'd
 * (layout.ts). Two passes over the raw image: the first finds the runs of data (4 KiB blocks
 * that are not all zero), which the header must list before the data; the second streams those
 * runs through gzip. Memory: the map (24 bytes per run).
 *
 * Deterministic: mode 0644, owner root (0/0), mtime SOURCE_DATE_EPOCH; gzip by pako 2.1.0 with
 * the header `gzip -n` writes (no name, no time).
 */
import { GzipSink } from '../../compress/gzip.js';
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { RandomAccessSource } from '../../io/source.js';
import { isAllZero, readChunks } from '../../io/zero-runs.js';
import { GCE_MEMBER_NAME, TAR_BLOCK, TAR_RECORD, encodeOldGnuSparseHeaders, type DataRun } from './layout.js';

const RUN_UNIT = 4096;
const STEP = 1 << 20;

export interface GceWriteOptions {
  /** The build time (SOURCE_DATE_EPOCH): the member's mtime. */
  buildTime: number;
  /** gzip level 1..9; default 6, as `tar -z` (gzip's default). */
  level?: number;
  subject?: string;
}

export interface GceReport {
  virtualSize: number;
  /** Bytes of data stored (the runs). */
  dataBytes: number;
  runs: number;
  /** Bytes of the tar before compression. */
  tarSize: number;
}

/** The runs of data of a raw image, in 4 KiB units, ascending; with (size, 0) last when it ends in a hole. */
export async function findDataRuns(source: RandomAccessSource): Promise<DataRun[]> {
  const runs: DataRun[] = [];
  let open: DataRun | undefined;
  for await (const { offset, bytes, zero } of readChunks(source, STEP)) {
    if (zero) {
      open = undefined;
      continue;
    }
    for (let at = 0; at < bytes.length; at += RUN_UNIT) {
      const end = Math.min(bytes.length, at + RUN_UNIT);
      if (isAllZero(bytes, at, end)) {
        open = undefined;
      } else if (open) {
        open.length += end - at;
      } else {
        open = { offset: offset + at, length: end - at };
        runs.push(open);
      }
    }
  }
  const last = runs[runs.length - 1];
  if (!last || last.offset + last.length < source.size) runs.push({ offset: source.size, length: 0 });
  return runs;
}

export async function writeGceTarball(source: RandomAccessSource, sink: Sink, options: GceWriteOptions): Promise<GceReport> {
  const subject = options.subject ?? 'gce';
  if (!Number.isSafeInteger(options.buildTime) || options.buildTime < 0) throw new ReprimageError('USAGE', subject, `bad buildTime ${options.buildTime}`);
  const map = await findDataRuns(source);
  const headers = encodeOldGnuSparseHeaders({ name: GCE_MEMBER_NAME, mode: 0o644, mtime: options.buildTime, realSize: source.size, map });
  const gzip = new GzipSink(sink, { level: options.level ?? 6 });
  await gzip.write(headers);
  let dataBytes = 0;
  for (const run of map) {
    for (let at = 0; at < run.length; at += STEP) {
      const n = Math.min(STEP, run.length - at);
      await gzip.write(await source.read(run.offset + at, n));
    }
    dataBytes += run.length;
  }
  let size = headers.length + dataBytes;
  const pad = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
  size += pad + 2 * TAR_BLOCK;
  const recordPad = (TAR_RECORD - (size % TAR_RECORD)) % TAR_RECORD;
  await gzip.write(new Uint8Array(pad + 2 * TAR_BLOCK + recordPad));
  size += recordPad;
  await gzip.close();
  return { virtualSize: source.size, dataBytes, runs: map.filter((r) => r.length > 0).length, tarSize: size };
}
