/**
 * A sink that cuts everything written to it into pieces of a fixed size and hands each piece to
 * a compressor in order. How a writer splits its writes cannot change where pieces end, so the
 * compressed bytes depend only on the data (DESIGN.md rule 6). Memory: one piece.
 */
import { ReprimageError } from '../errors.js';
import type { Sink } from '../io/sink.js';

export abstract class ChunkingSink implements Sink {
  #pieces: Uint8Array[] = [];
  #used = 0;
  #position = 0;

  /** `pieceSize` may be Infinity: then the whole stream is one piece, handed over at close(). */
  constructor(
    protected readonly inner: Sink,
    private readonly pieceSize: number,
    private readonly what: string,
  ) {}

  /** Compresses one piece and writes the result to `inner`; pieces come in order, `last` once, maybe empty. */
  protected abstract piece(bytes: Uint8Array, last: boolean): Promise<void>;
  /** Writes what follows the last piece (an index, a footer). */
  protected abstract end(): Promise<void>;

  get position(): number {
    return this.#position;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#position += bytes.length;
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(this.pieceSize - this.#used, bytes.length - at);
      this.#pieces.push(bytes.slice(at, at + take));
      this.#used += take;
      at += take;
      if (this.#used === this.pieceSize) await this.piece(this.#take(), false);
    }
  }

  /** Always rejects: compressed output cannot be back-patched. */
  writeAt(): Promise<void> {
    return Promise.reject(new ReprimageError('UNSUPPORTED', this.what, `${this.what} cannot be back-patched (write this format uncompressed, then compress it)`));
  }

  /** Compressed bytes cannot be flushed early without changing them: this does nothing. */
  async flush(): Promise<void> {}

  /** Compresses the rest, ends the stream and flushes the inner sink. */
  async close(): Promise<void> {
    await this.piece(this.#take(), true);
    await this.end();
    await this.inner.flush();
  }

  #take(): Uint8Array {
    const out = this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces, this.#used);
    this.#pieces = [];
    this.#used = 0;
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
}
