/**
 * A small least-recently-used cache of metadata blocks (inode table, directory, extent and
 * indirect blocks), bounded in bytes, so that reading the inodes of a directory in order costs
 * one read per inode table block instead of one per inode. File contents bypass it.
 */
import type { RandomAccessSource } from '../../io/source.js';

const CACHE_BYTES = 8 << 20;

export class BlockCache {
  readonly #blocks = new Map<number, Uint8Array>();
  readonly #capacity: number;

  constructor(
    readonly source: RandomAccessSource,
    readonly blockSize: number,
  ) {
    this.#capacity = Math.max(16, Math.floor(CACHE_BYTES / blockSize));
  }

  /** Block `n`; the caller has checked that it lies inside the file system. Do not modify it. */
  async block(n: number): Promise<Uint8Array> {
    const hit = this.#blocks.get(n);
    if (hit) {
      // re-insert: a Map iterates in insertion order, so the first key is the least recently used
      this.#blocks.delete(n);
      this.#blocks.set(n, hit);
      return hit;
    }
    const bytes = await this.source.read(n * this.blockSize, this.blockSize);
    if (this.#blocks.size >= this.#capacity) this.#blocks.delete(this.#blocks.keys().next().value!);
    this.#blocks.set(n, bytes);
    return bytes;
  }
}
