/**
 * A sink that writes nothing and only tells whether what it was given equals a source byte for
 * byte. A rewrite run into it first decides whether a file changes at all, so files already
 * normalized are never written (their bytes, inode and times stay exactly as they were).
 */
import type { RandomAccessSource } from '../io/source.js';
import type { Sink } from '../io/sink.js';

export class ComparingSink implements Sink {
  #position = 0;
  #differs = false;

  constructor(private readonly original: RandomAccessSource) {}

  get position(): number {
    return this.#position;
  }

  /** True once any byte (or the length) differs from the original. */
  get differs(): boolean {
    return this.#differs || this.#position !== this.original.size;
  }

  async write(bytes: Uint8Array): Promise<void> {
    const at = this.#position;
    this.#position += bytes.length;
    if (this.#differs || bytes.length === 0) return;
    if (at + bytes.length > this.original.size) {
      this.#differs = true;
      return;
    }
    const before = await this.original.read(at, bytes.length);
    if (Buffer.compare(before, bytes) !== 0) this.#differs = true;
  }

  writeAt(): Promise<void> {
    return Promise.reject(new Error('ComparingSink: normalizers write front to back'));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
