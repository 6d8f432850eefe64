/**
 * File data of a SquashFS image: cuts each file into blocks, finds sparse (all-zero) blocks,
 * packs small files (and, with `alwaysFragments`, file tails) into shared fragment blocks,
 * stores identical block lists and identical fragments once, and has the blocks compressed in
 * parallel while writing them strictly in submission order.
 *
 * The order is mksquashfs's (reproducible mode): files in the order they are added; each
 * file's blocks; a fragment block is written as soon as it is full, after the blocks of the
 * file whose tail filled it; the last, partly filled fragment block after every file.
 *
 * Duplicates: a file's block list is identified by the hashes of its blocks (a sparse block
 * hashes as "zero", whatever its length, as mksquashfs compares compressed sizes where a sparse
 * block is 0). A file whose first block starts a list already stored is hashed first and
 * written only if no stored list matches, so nothing is written twice and nothing is buffered.
 */
import { createHash } from 'node:crypto';
import type { Sink } from '../../io/sink.js';
import type { Content } from '../../tree/content.js';
import { ReprimageError } from '../../errors.js';
import type { OrderedPipeline, WorkerPool } from '../../parallel/ordered-pool.js';
import type { CompressJob, CompressResult } from './compress-task.js';
import type { BlockCache } from './block-cache.js';
import { SQUASHFS_BLOCK_UNCOMPRESSED, SQUASHFS_INVALID_FRAGMENT } from './constants.js';
import type { FragmentEntry } from './layout/tables.js';

/** Where a run of data blocks went; filled in as the blocks are written. */
export interface BlockRun {
  /** Offset of the first block from the start of the image. */
  start: number;
  /** On-disk size word of each block (0 = sparse, bit 24 = stored raw). */
  sizes: Uint32Array;
}

export interface FileData {
  size: number;
  /** Undefined for empty files and files held entirely in a fragment. */
  run: BlockRun | undefined;
  fragment: number;
  fragmentOffset: number;
  /** Bytes in sparse blocks, when the source itself is sparse (mksquashfs's `sparse`). */
  sparseBytes: number;
  /** Whether the data (blocks and fragment) were found already stored. */
  duplicate: boolean;
}

export interface BlockProcessorOptions {
  blockSize: number;
  noFragments: boolean;
  alwaysFragments: boolean;
  duplicates: boolean;
  uncompressedData: boolean;
  uncompressedFragments: boolean;
  /** Compressed blocks to reuse, and to add to (off when undefined). */
  cache?: BlockCache;
}

/** A fragment block being filled; `first` and `last` name its files in errors. */
interface OpenFragment {
  data: Uint8Array;
  fill: number;
  index: number;
  first: string;
  last: string;
}

type Emitted =
  | { kind: 'start'; run: BlockRun }
  | { kind: 'block'; run: BlockRun; index: number; result: CompressResult }
  | { kind: 'fragment'; index: number; result: CompressResult };

const ZERO = new Uint8Array(1 << 20);

function isZero(block: Uint8Array): boolean {
  return Buffer.compare(block, ZERO.subarray(0, block.length)) === 0;
}

function keyOf(block: Uint8Array): string {
  if (isZero(block)) return 'z';
  return createHash('sha256').update(block).digest('base64');
}

/**
 * Yields the content in blocks of `blockSize` (the last one shorter), each in its own buffer. A
 * file on disk is read straight into each block (no chunk buffers to allocate, copy and leave
 * to the collector: they kept tens of MiB of freed memory in the C heap of a large image).
 */
async function* blocksOf(content: Content, blockSize: number): AsyncGenerator<Uint8Array> {
  if (content.openSync) {
    if (content.size === 0) return;
    const reader = content.openSync();
    try {
      for (let left = content.size; left > 0; left -= blockSize) {
        const block = new Uint8Array(Math.min(blockSize, left));
        reader.read(block);
        yield block;
      }
      reader.finish();
    } finally {
      reader.close();
    }
    return;
  }
  let block = new Uint8Array(Math.min(blockSize, content.size));
  let fill = 0;
  let left = content.size;
  for await (const chunk of content.chunks()) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, block.length - fill);
      block.set(chunk.subarray(at, at + take), fill);
      fill += take;
      at += take;
      if (fill === block.length) {
        yield block;
        left -= fill;
        if (left <= 0 && at < chunk.length) throw new ReprimageError('IO', content.origin, `more than the declared ${content.size} bytes`);
        block = new Uint8Array(Math.min(blockSize, Math.max(left, 0)));
        fill = 0;
        if (left <= 0) break;
      }
    }
  }
  if (left > 0) throw new ReprimageError('IO', content.origin, `${content.size - left} of the declared ${content.size} bytes`);
}

export class BlockProcessor {
  readonly fragments: FragmentEntry[] = [];
  /**
   * Open fragment blocks: whole small files go to one, tails of larger files to the other
   * (mksquashfs's `def_fragment` and `tail_fragment`).
   */
  #open: Record<'file' | 'tail', OpenFragment | undefined> = { file: undefined, tail: undefined };
  #runs = new Map<string, BlockRun>();
  #firstKeys = new Set<string>();
  #tails = new Map<string, { fragment: number; offset: number }>();
  readonly #pipeline: OrderedPipeline<Emitted>;
  /** Bytes of data and fragment blocks written. */
  dataBytes = 0;

  constructor(
    private readonly sink: Sink,
    /** Sink position of the image's byte 0. */
    private readonly base: number,
    private readonly pool: WorkerPool<CompressJob, CompressResult>,
    makePipeline: (emit: (e: Emitted) => Promise<void>) => OrderedPipeline<Emitted>,
    private readonly o: BlockProcessorOptions,
  ) {
    this.#pipeline = makePipeline((e) => this.#emit(e));
  }

  /** Stores one file's contents; the returned record is complete once `finish` has returned. */
  async addFile(content: Content, path: string): Promise<FileData> {
    // A reading of the content holds its file open until its iterator ends, and a small file is
    // read by one `next()` that never reaches the end: every iterator is closed here, on every
    // path, so one file is open at a time however many the tree holds.
    const opened: AsyncIterator<Uint8Array>[] = [];
    const read = () => {
      const it = blocksOf(content, this.o.blockSize)[Symbol.asyncIterator]();
      opened.push(it);
      return it;
    };
    try {
      return await this.#store(content, path, read);
    } finally {
      for (const it of opened) await it.return?.();
    }
  }

  async #store(content: Content, path: string, read: () => AsyncIterator<Uint8Array>): Promise<FileData> {
    const size = content.size;
    const bs = this.o.blockSize;
    const none: FileData = { size, run: undefined, fragment: SQUASHFS_INVALID_FRAGMENT, fragmentOffset: 0, sparseBytes: 0, duplicate: false };
    if (size === 0) return none;
    const fragmentTail = !this.o.noFragments && (size < bs || (this.o.alwaysFragments && size % bs !== 0));
    const blockCount = fragmentTail ? Math.floor(size / bs) : Math.ceil(size / bs);
    const sparseSource = content.dataRegions !== undefined && content.dataRegions.reduce((n, r) => n + r.length, 0) < size;

    const it = read();
    const keys: string[] = [];
    let tail: Uint8Array | undefined;
    let run: BlockRun | undefined;
    let duplicate = false;

    const first = (await it.next()).value as Uint8Array;
    if (blockCount === 0) {
      tail = first;
    } else {
      const firstKey = keyOf(first);
      if (this.o.duplicates && this.#firstKeys.has(firstKey)) {
        // A stored list may match: hash everything first, write only if none does.
        keys.push(firstKey);
        for (let r = await it.next(); !r.done; r = await it.next()) {
          if (keys.length < blockCount) keys.push(keyOf(r.value));
          else tail = r.value;
        }
        if (tail && isZero(tail)) {
          keys.push('z');
          tail = undefined;
        }
        const found = this.#runs.get(keys.join(' '));
        if (found) {
          run = found;
          duplicate = true;
        } else {
          run = await this.#writeBlocks(path, read(), undefined, keys.length, blockCount, keys);
        }
      } else {
        keys.push(firstKey);
        run = await this.#writeBlocks(path, it, first, blockCount + (fragmentTail ? 1 : 0), blockCount, keys, (t) => (tail = t));
      }
      if (!duplicate && this.o.duplicates) {
        const k = keys.join(' ');
        if (!this.#runs.has(k)) this.#runs.set(k, run);
        this.#firstKeys.add(keys[0]!);
      }
    }
    let sparseBytes = 0;
    if (run && sparseSource) {
      for (let i = 0; i < run.sizes.length; i++) if (run.sizes[i] === 0) sparseBytes += Math.min(bs, size - i * bs);
      if (sparseBytes >= size) sparseBytes = size - 1;
    }
    const result: FileData = { ...none, run, sparseBytes, duplicate };
    if (tail && isZero(tail)) {
      // mksquashfs stores an all-zero small file as one sparse block, not as a fragment.
      const found = this.o.duplicates ? this.#runs.get('z') : undefined;
      if (found) {
        result.run = found;
        result.duplicate = true;
      } else {
        const zeroRun: BlockRun = { start: 0, sizes: new Uint32Array(1) };
        await this.#pipeline.submit({ kind: 'start', run: zeroRun });
        result.run = zeroRun;
        if (this.o.duplicates) {
          this.#runs.set('z', zeroRun);
          this.#firstKeys.add('z');
        }
      }
      if (sparseSource) result.sparseBytes = size - 1;
    } else if (tail) {
      const key = `${tail.length}:${keyOf(tail)}`;
      const found = this.o.duplicates ? this.#tails.get(key) : undefined;
      const ref = found ?? (await this.#addTail(tail, run === undefined ? 'file' : 'tail', path));
      if (!found && this.o.duplicates) this.#tails.set(key, ref);
      result.fragment = ref.fragment;
      result.fragmentOffset = ref.offset;
      result.duplicate = (run === undefined || duplicate) && found !== undefined;
    }
    return result;
  }

  /** Writes the last fragment block and waits until everything is written. */
  async finish(): Promise<void> {
    if (this.#open.file) await this.#closeFragment('file');
    if (this.#open.tail) await this.#closeFragment('tail');
    await this.#pipeline.drain();
  }

  /**
   * Submits the blocks of one file. `first` (already read) is block 0 when given; blocks past
   * `blockCount` are the tail, handed to `onTail` unless all zero (then a sparse block).
   */
  async #writeBlocks(
    path: string,
    it: AsyncIterator<Uint8Array>,
    first: Uint8Array | undefined,
    maxBlocks: number,
    blockCount: number,
    keys: string[],
    onTail?: (tail: Uint8Array) => void,
  ): Promise<BlockRun> {
    const sizes = new Uint32Array(Math.max(maxBlocks, blockCount + 1));
    const run: BlockRun = { start: 0, sizes };
    await this.#pipeline.submit({ kind: 'start', run });
    let index = 0;
    const submitBlock = async (block: Uint8Array) => {
      if (index >= blockCount) {
        if (!isZero(block)) {
          onTail?.(block);
          return;
        }
        if (onTail) keys.push('z');
      } else if (onTail && index > 0) {
        keys.push(keyOf(block));
      }
      const i = index++;
      if (isZero(block)) {
        sizes[i] = 0;
        return;
      }
      const job: CompressJob = { data: block, metadata: false, raw: this.o.uncompressedData };
      const work = this.#compress(job, path);
      await this.#pipeline.submit(work.then((result) => ({ kind: 'block' as const, run, index: i, result })));
    };
    if (first) await submitBlock(first);
    for (let r = await it.next(); !r.done; r = await it.next()) await submitBlock(r.value);
    run.sizes = sizes.subarray(0, index);
    return run;
  }

  async #addTail(tail: Uint8Array, which: 'file' | 'tail', path: string): Promise<{ fragment: number; offset: number }> {
    let open = this.#open[which];
    if (open && open.fill + tail.length > this.o.blockSize) {
      await this.#closeFragment(which);
      open = undefined;
    }
    if (!open) {
      open = { data: new Uint8Array(this.o.blockSize), fill: 0, index: this.fragments.length, first: path, last: path };
      this.#open[which] = open;
      this.fragments.push({ start: 0, size: 0 });
    }
    const offset = open.fill;
    open.data.set(tail, offset);
    open.fill += tail.length;
    open.last = path;
    return { fragment: open.index, offset };
  }

  async #closeFragment(which: 'file' | 'tail'): Promise<void> {
    const open = this.#open[which]!;
    this.#open[which] = undefined;
    const data = open.data.slice(0, open.fill);
    const index = open.index;
    const job: CompressJob = { data, metadata: false, raw: this.o.uncompressedFragments };
    const label = open.first === open.last ? `${open.first} (fragment block ${index})` : `fragment block ${index} (${open.first} … ${open.last})`;
    const work = this.#compress(job, label);
    await this.#pipeline.submit(work.then((result) => ({ kind: 'fragment' as const, index, result })));
  }

  /** Compresses a block on the pool, or takes it from the block cache (and stores what it computes). */
  #compress(job: CompressJob, label: string): Promise<CompressResult> {
    const cache = this.o.cache;
    if (!cache) return this.pool.run(job, { transfer: [job.data.buffer as ArrayBuffer], label });
    const key = cache.keyOf(job);
    const found = cache.get(key);
    if (found) return Promise.resolve(found);
    return this.pool.run(job, { transfer: [job.data.buffer as ArrayBuffer], label }).then((result) => {
      cache.put(key, result);
      return result;
    });
  }

  async #emit(e: Emitted): Promise<void> {
    const pos = this.sink.position - this.base;
    switch (e.kind) {
      case 'start':
        e.run.start = pos;
        return;
      case 'block':
        e.run.sizes[e.index] = e.result.bytes.length | (e.result.compressed ? 0 : SQUASHFS_BLOCK_UNCOMPRESSED);
        break;
      case 'fragment':
        this.fragments[e.index] = { start: pos, size: e.result.bytes.length | (e.result.compressed ? 0 : SQUASHFS_BLOCK_UNCOMPRESSED) };
        break;
    }
    this.dataBytes += e.result.bytes.length;
    await this.sink.write(e.result.bytes);
  }
}
