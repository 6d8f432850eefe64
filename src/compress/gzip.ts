/**
 * gzip output whose bytes depend only on pako's version (DESIGN.md rule 6): deflate by
 * pako 2.1.0, whose output equals Debian's system zlib, never `node:zlib`. The header is fixed:
 * no name, MTIME 0, OS 3 (Unix), as `gzip -n` writes. Input is cut into fixed-size pieces before
 * it reaches the deflater, so how a caller splits its writes cannot change the output.
 */
import pako from 'pako';
import type { Sink } from '../io/sink.js';

/** The implementation that writes gzip bytes; `reprimage --version` and manifests record it. */
export const GZIP_IMPLEMENTATION = 'pako 2.1.0';

const PIECE = 64 * 1024;

export interface GzipOptions {
  /** 1 (fastest) to 9 (smallest); default 9. */
  level?: number;
}

/** A sink that gzips everything written to it into `inner`. Call `close()` to finish the stream. */
export class GzipSink implements Sink {
  #deflate: pako.Deflate;
  #pending = new Uint8Array(PIECE);
  #used = 0;
  #position = 0;
  #out: Uint8Array[] = [];

  constructor(private readonly inner: Sink, options: GzipOptions = {}) {
    const level = (options.level ?? 9) as pako.DeflateFunctionOptions['level'];
    this.#deflate = new pako.Deflate({ level, gzip: true, header: { os: 3, time: 0 } as pako.Header });
    this.#deflate.onData = (chunk: Uint8Array) => {
      this.#out.push(chunk);
    };
  }

  get position(): number {
    return this.#position;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#position += bytes.length;
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(PIECE - this.#used, bytes.length - at);
      this.#pending.set(bytes.subarray(at, at + take), this.#used);
      this.#used += take;
      at += take;
      if (this.#used === PIECE) {
        this.#push(false);
        await this.#drain();
      }
    }
  }

  writeAt(): Promise<void> {
    return Promise.reject(new RangeError('a gzip stream cannot be back-patched'));
  }

  /** Compressed bytes cannot be flushed early without changing them; this only drains output. */
  async flush(): Promise<void> {
    await this.#drain();
  }

  /** Ends the stream (trailer with CRC-32 and size) and flushes the inner sink. */
  async close(): Promise<void> {
    this.#push(true);
    await this.#drain();
    await this.inner.flush();
  }

  #push(last: boolean): void {
    this.#deflate.push(this.#pending.subarray(0, this.#used), last);
    this.#used = 0;
    if (this.#deflate.err) throw new Error(`pako deflate failed: ${this.#deflate.msg}`);
  }

  async #drain(): Promise<void> {
    const out = this.#out;
    this.#out = [];
    for (const chunk of out) await this.inner.write(chunk);
  }
}

/** gzip of a small buffer, with the same fixed header and bytes as GzipSink. */
export function gzipBytes(data: Uint8Array, level = 9): Uint8Array {
  const deflate = new pako.Deflate({ level: level as pako.DeflateFunctionOptions['level'], gzip: true, header: { os: 3, time: 0 } as pako.Header });
  deflate.push(data, true);
  if (deflate.err) throw new Error(`pako deflate failed: ${deflate.msg}`);
  return deflate.result as Uint8Array;
}
