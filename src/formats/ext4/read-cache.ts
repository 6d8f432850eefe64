/**
 * A small least-recently-used cache of metadata blocks (inode table, directory, extent and
 * indirect blocks), bounded in bytes. Blocks are read in aligned 64 KiB pages, so reading the
 * inodes of a directory in order costs one read per 16 inode-table blocks (4 KiB blocks)
 * instead of one per inode. File contents bypass it.
 */
import type { RandomAccessSource } from '../../io/source.js';

const CACHE_BYTES = 8 << 20;
const PAGE_BYTES = 64 << 10;

export class BlockCache {
  readonly #pages = new Map<number, Uint8Array>();
  readonly #capacity: number;
  readonly #pageBytes: number;
  readonly #blocksPerPage: number;

  constructor(
    readonly source: RandomAccessSource,
    readonly blockSize: number,
  ) {
    this.#pageBytes = Math.max(PAGE_BYTES, blockSize);
    this.#blocksPerPage = this.#pageBytes / blockSize;
    this.#capacity = Math.max(4, Math.floor(CACHE_BYTES / this.#pageBytes));
  }

  /** Block `n`; the caller has checked that it lies inside the file system. Do not modify it. */
  async block(n: number): Promise<Uint8Array> {
    const index = Math.floor(n / this.#blocksPerPage);
    let page = this.#pages.get(index);
    if (page) {
      // re-insert: a Map iterates in insertion order, so the first key is the least recently used
      this.#pages.delete(index);
    } else {
      const start = index * this.#pageBytes;
      page = await this.source.read(start, Math.min(this.#pageBytes, this.source.size - start));
      if (this.#pages.size >= this.#capacity) this.#pages.delete(this.#pages.keys().next().value!);
    }
    this.#pages.set(index, page);
    const at = (n % this.#blocksPerPage) * this.blockSize;
    return page.subarray(at, at + this.blockSize);
  }
}
