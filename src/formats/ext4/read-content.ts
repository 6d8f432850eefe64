/**
 * Lazy file contents from a file's runs: one contiguous run is a byte range of the image (so a
 * nested image can be read in place); anything else is streamed run by run, with holes and
 * unwritten extents read as zeros and exposed as a sparse file's data regions.
 */
import type { RandomAccessSource } from '../../io/source.js';
import { bytesContent, rangeContent, streamContent, type Content, type DataRegion } from '../../tree/content.js';
import type { Run } from './read-mapping.js';

const CHUNK = 1 << 20;
const ZEROS = new Uint8Array(CHUNK);

export function runsContent(source: RandomAccessSource, blockSize: number, size: number, runs: readonly Run[], origin: string): Content {
  if (size === 0) return bytesContent(new Uint8Array(0), origin);
  // the written parts of the file, clipped to its size (preallocation may reach past the end)
  const pieces: Array<{ offset: number; length: number; at: number }> = [];
  for (const r of runs) {
    if (r.unwritten) continue;
    const offset = r.logical * blockSize;
    if (offset >= size) break;
    pieces.push({ offset, length: Math.min(r.length * blockSize, size - offset), at: r.physical * blockSize });
  }
  const only = pieces[0];
  if (pieces.length === 1 && only!.offset === 0 && only!.length === size) return rangeContent(source, only!.at, size, origin);
  let covered = 0;
  for (const p of pieces) covered += p.length;
  const regions: DataRegion[] | undefined = covered === size ? undefined : pieces.map((p) => ({ offset: p.offset, length: p.length }));
  return streamContent(
    size,
    origin,
    async function* () {
      let pos = 0;
      const zeros = function* (until: number) {
        while (pos < until) {
          const n = Math.min(CHUNK, until - pos);
          pos += n;
          yield ZEROS.subarray(0, n);
        }
      };
      for (const p of pieces) {
        yield* zeros(p.offset);
        for (let done = 0; done < p.length; ) {
          const n = Math.min(CHUNK, p.length - done);
          yield await source.read(p.at + done, n);
          done += n;
        }
        pos = p.offset + p.length;
      }
      yield* zeros(size);
    },
    regions,
  );
}
