/**
 * Where a sparse file holds data. A 2 GiB disk image is mostly holes; reading them costs the
 * kernel a page of zeros each and us a compare, which is most of a conversion's time (qemu-img
 * skips them with lseek SEEK_DATA). Node has no lseek, and reprimage takes no native addon, so
 * one run of `filefrag` (e2fsprogs, installed on every Debian system) asks the file system for
 * the file's extents (FIEMAP), after flushing its dirty pages (`-s`), so data not yet written
 * back is counted too.
 *
 * The answer is only a hint that a caller may use to skip reading: ranges outside it must read
 * as zeros. So it is taken only when it is plainly whole: every extent row numbered in order, the
 * last one flagged `last`, the size filefrag saw equal to ours, and the extents adding up to what
 * the file has allocated (st_blocks) less a little for the file system's own extent-tree blocks.
 * A compressed or inline extent, a file system without FIEMAP (tmpfs), a missing filefrag or
 * anything unexpected gives `undefined`: the caller then reads every byte, as before.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Bytes [start, end) of a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Where filefrag is on Debian (merged /usr or not); an ordinary user's PATH has no sbin. */
const FILEFRAG = ['/usr/sbin/filefrag', '/sbin/filefrag'];
/** filefrag's run is milliseconds; a stuck one (a hung network file system) must not stall the caller. */
const TIMEOUT_MS = 10_000;

/**
 * The ranges of the open file `fd` that may hold data, sorted and disjoint, or undefined when they
 * cannot be known for sure. `size` is the file's size and `allocated` its st_blocks × 512.
 * filefrag is handed the descriptor itself as its standard input (it opens `/dev/stdin`), so the
 * answer is about the file we have open, whatever has happened to its name since.
 */
export async function fileDataRanges(fd: number, size: number, allocated: number): Promise<ByteRange[] | undefined> {
  const tool = FILEFRAG.find((p) => existsSync(p));
  if (!tool) return undefined;
  const output = await new Promise<string | undefined>((resolve) => {
    const child = spawn(tool, ['-e', '-s', '-b1', '/dev/stdin'], { stdio: [fd, 'pipe', 'ignore'], env: { LC_ALL: 'C' }, timeout: TIMEOUT_MS });
    const out: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(out).toString('latin1') : undefined));
  });
  return output === undefined ? undefined : parseFilefrag(output, size, allocated);
}

/** One extent row of `filefrag -e -b1`: number, logical first..last byte, physical range, length, [expected,] flags. */
const ROW = /^\s*(\d+):\s*(\d+)\.\.\s*(\d+):\s*\d+\.\.\s*\d+:\s*(\d+):[^\n]*?([a-z_,]*)$/;

/** Parses filefrag's answer; undefined unless it is whole and agrees with the file (see the file's comment). */
export function parseFilefrag(output: string, size: number, allocated: number): ByteRange[] | undefined {
  const lines = output.split('\n');
  const sizeLine = /^File size of .* is (\d+) \((\d+) blocks of 1 bytes\)$/m.exec(output);
  if (!sizeLine || Number(sizeLine[1]) !== size) return undefined;
  const ranges: ByteRange[] = [];
  let lastFlagged = false;
  let total = 0;
  let rows = 0;
  for (const line of lines) {
    const m = ROW.exec(line);
    if (!m) continue;
    const [number, first, last, length, flags] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), m[5]!];
    if (number !== rows++ || last < first || length !== last - first + 1) return undefined;
    // an extent whose bytes are stored some other way does not tell what reads back
    if (/inline|encoded|not_aligned|data_encrypted|unknown_loc/.test(flags)) return undefined;
    const previous = ranges[ranges.length - 1];
    if (previous && first < previous.end) return undefined;
    total += length;
    const end = Math.min(size, last + 1);
    if (first < end) {
      if (previous && previous.end === first) ranges[ranges.length - 1] = { start: previous.start, end };
      else ranges.push({ start: first, end });
    }
    lastFlagged = /\blast\b/.test(flags);
  }
  if (rows > 0 && !lastFlagged) return undefined; // cut short
  if (!/ \d+ extents? found$/m.test(output)) return undefined;
  // what is allocated and not in an extent is the file system's own bookkeeping (extent tree
  // blocks): a few blocks, one per few hundred extents; much more means the map missed data
  const slack = 64 * 1024 * (2 + Math.ceil(rows / 64));
  if (total > allocated || allocated - total > slack) return undefined;
  return ranges;
}

/** The index of the first of `ranges` (sorted and disjoint) that ends after `start`; `ranges.length` if none. */
function firstEndingAfter(ranges: readonly ByteRange[], start: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.end <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether bytes [start, end) meet one of `ranges` (sorted and disjoint). */
export function meetsData(ranges: readonly ByteRange[], start: number, end: number): boolean {
  const lo = firstEndingAfter(ranges, start);
  return lo < ranges.length && ranges[lo]!.start < end;
}

/** The parts of bytes [start, end) that meet `ranges` (sorted and disjoint), clipped to it, in order. */
export function dataWithin(ranges: readonly ByteRange[], start: number, end: number): ByteRange[] {
  const lo = firstEndingAfter(ranges, start);
  const parts: ByteRange[] = [];
  for (let i = lo; i < ranges.length && ranges[i]!.start < end; i++) parts.push({ start: Math.max(start, ranges[i]!.start), end: Math.min(end, ranges[i]!.end) });
  return parts;
}
