/**
 * Exact-length reads from a stream of chunks of any size, for decoders that parse framing
 * (lz4 frames, zstd frame boundaries). Holds at most one pending chunk beyond what was asked.
 */
export class ByteReader {
  readonly #input: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #at = 0;
  #done = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.#input = input[Symbol.asyncIterator]();
  }

  /** True once no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Up to `max` bytes (at least 1 unless at the end), without copying when possible. */
  async some(max: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    const n = Math.min(max, this.#chunk.length - this.#at);
    const out = this.#chunk.subarray(this.#at, this.#at + n);
    this.#at += n;
    this.consumed += n;
    return out;
  }

  /** Exactly `n` bytes, or fewer only if the input ends first (the caller decides what that means). */
  async exactly(n: number): Promise<Uint8Array> {
    const first = await this.some(n);
    if (first.length === n || first.length === 0) return first;
    const out = new Uint8Array(n);
    out.set(first, 0);
    let got = first.length;
    while (got < n) {
      const more = await this.some(n - got);
      if (more.length === 0) return out.subarray(0, got);
      out.set(more, got);
      got += more.length;
    }
    return out;
  }

  async #fill(): Promise<boolean> {
    while (this.#at >= this.#chunk.length) {
      if (this.#done) return false;
      const next = await this.#input.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      this.#chunk = next.value;
      this.#at = 0;
    }
    return true;
  }
}
