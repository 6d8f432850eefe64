/**
 * Compares stored extents (byte ranges of two images: the compressed blocks of two files, the
 * fragment blocks they share with other files) without a new buffer per file. Each side reads
 * through a few reused windows of WINDOW bytes: the files of an image are walked in about the
 * order they are stored, so most of them lie in a window already read, and an image's data is
 * read in large reads, about once, as cmp reads it. Verdicts on a pair of ranges are remembered,
 * since the small files of a directory share a handful of fragment blocks.
 *
 * One comparison runs at a time per pair of sources (the windows are shared); the two sides'
 * reads run at the same time.
 */
import type { RandomAccessSource } from '../io/source.js';
import type { StoredExtent } from '../tree/content.js';

const WINDOW = 1 << 20;
/** Windows per side: one following the files' blocks, others for the fragment blocks they end in. */
const WINDOWS = 3;
/** Pairs of ranges whose verdict is kept (bounded; forgotten all at once when full). */
const VERDICTS = 4096;

interface Window {
  start: number;
  length: number;
  bytes: Buffer;
  used: number;
}

/** One side's windows over its source, least recently used replaced first. */
class WindowedReader {
  readonly #windows: Window[] = [];
  #clock = 0;

  constructor(readonly source: RandomAccessSource) {}

  /** A view of `length` (at most WINDOW) bytes at `offset`, valid until the next call. */
  async view(offset: number, length: number): Promise<Uint8Array> {
    // a source in memory gives views of itself: nothing to keep
    if (!this.source.readInto) return this.source.read(offset, length);
    for (const w of this.#windows) {
      if (offset >= w.start && offset + length <= w.start + w.length) {
        w.used = ++this.#clock;
        return w.bytes.subarray(offset - w.start, offset - w.start + length);
      }
    }
    let w: Window;
    if (this.#windows.length < WINDOWS) {
      w = { start: 0, length: 0, bytes: Buffer.allocUnsafe(WINDOW), used: 0 };
      this.#windows.push(w);
    } else {
      w = this.#windows.reduce((p, q) => (q.used < p.used ? q : p));
    }
    const n = Math.min(WINDOW, this.source.size - offset);
    w.start = offset;
    w.length = 0; // empty until the read is done, should it fail
    await this.source.readInto(offset, w.bytes.subarray(0, n));
    w.length = n;
    w.used = ++this.#clock;
    return w.bytes.subarray(0, length);
  }
}

export class ExtentComparer {
  readonly a: WindowedReader;
  readonly b: WindowedReader;
  readonly #verdicts = new Map<string, boolean>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(a: RandomAccessSource, b: RandomAccessSource) {
    this.a = new WindowedReader(a);
    this.b = new WindowedReader(b);
  }

  /** Whether two lists of extents hold the same bytes (false also when their shapes differ). */
  same(xs: readonly StoredExtent[], ys: readonly StoredExtent[], stop: () => void = () => undefined): Promise<boolean> {
    if (xs.length !== ys.length) return Promise.resolve(false);
    for (let i = 0; i < xs.length; i++) if (xs[i]!.length !== ys[i]!.length) return Promise.resolve(false);
    const run = this.#queue.then(() => this.#all(xs, ys, stop));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #all(xs: readonly StoredExtent[], ys: readonly StoredExtent[], stop: () => void): Promise<boolean> {
    for (let i = 0; i < xs.length; i++) if (!(await this.#one(xs[i]!, ys[i]!, stop))) return false;
    return true;
  }

  /** `stop` throws when the comparison is aborted: called before each window is read. */
  async #one(x: StoredExtent, y: StoredExtent, stop: () => void): Promise<boolean> {
    if (x.length === 0) return true;
    const key = `${x.offset}:${y.offset}:${x.length}`;
    const known = this.#verdicts.get(key);
    if (known !== undefined) return known;
    let same = true;
    for (let at = 0; at < x.length && same; at += WINDOW) {
      stop();
      const n = Math.min(WINDOW, x.length - at);
      const [u, v] = await Promise.all([this.a.view(x.offset + at, n), this.b.view(y.offset + at, n)]);
      same = Buffer.compare(u, v) === 0;
    }
    if (this.#verdicts.size >= VERDICTS) this.#verdicts.clear();
    this.#verdicts.set(key, same);
    return same;
  }
}

/** Comparers by pair of sources, dropped with the sources (the windows go with them). */
const comparers = new WeakMap<RandomAccessSource, WeakMap<RandomAccessSource, ExtentComparer>>();

/**
 * Whether the extents of two stored forms hold the same bytes; undefined when they cannot be
 * compared here (extents spread over several sources), and the caller compares the stored
 * parts as streams.
 */
export function sameExtents(xs: readonly StoredExtent[], ys: readonly StoredExtent[], stop?: () => void): Promise<boolean> | undefined {
  if (xs.length === 0 || ys.length === 0) return Promise.resolve(xs.length === ys.length);
  const sa = xs[0]!.source;
  const sb = ys[0]!.source;
  if (xs.some((e) => e.source !== sa) || ys.some((e) => e.source !== sb)) return undefined;
  let inner = comparers.get(sa);
  if (!inner) comparers.set(sa, (inner = new WeakMap()));
  let comparer = inner.get(sb);
  if (!comparer) inner.set(sb, (comparer = new ExtentComparer(sa, sb)));
  return comparer.same(xs, ys, stop);
}
