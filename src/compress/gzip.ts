/**
 * gzip output whose bytes depend only on pako's version (docs/design.md rule 6): deflate by
 * pako 2.1.0, whose output equals Debian's system zlib, never `node:zlib`. The header is fixed:
 * no name, MTIME 0, XFL as zlib sets it for the level (2 at level 9, 4 at level 1, else 0),
 * OS 3 (Unix), as `gzip -n` writes. Input is cut into fixed 64 KiB pieces before it reaches the
 * deflater, so how a caller splits its writes cannot change the output.
 *
 * The default level is 9, not GNU gzip's 6: images are written once and read many times, and
 * level 9 is what mksquashfs and most initramfs tools (`gzip -9`) use. docs/compression.md.
 */
import pako from 'pako';
import { ReprimageError } from '../errors.js';
import type { Sink } from '../io/sink.js';

/** The implementation that writes gzip bytes, as package.json pins it; registry.ts reports the installed one. */
export const GZIP_IMPLEMENTATION = 'pako 2.1.0';
export const GZIP_DEFAULT_LEVEL = 9;

const PIECE = 64 * 1024;

export interface GzipOptions {
  /** 1 (fastest) to 9 (smallest); default 9. */
  level?: number;
}

function checkLevel(level: number): pako.DeflateFunctionOptions['level'] {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new ReprimageError('USAGE', 'gzip level', `must be an integer from 1 to 9, not ${level}`);
  return level as pako.DeflateFunctionOptions['level'];
}

/** A sink that gzips everything written to it into `inner`. Call `close()` to finish the stream. */
export class GzipSink implements Sink {
  #deflate: pako.Deflate;
  #pending = new Uint8Array(PIECE);
  #used = 0;
  #position = 0;
  #out: Uint8Array[] = [];

  constructor(private readonly inner: Sink, options: GzipOptions = {}) {
    const level = checkLevel(options.level ?? GZIP_DEFAULT_LEVEL);
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

  /** Always rejects: compressed output cannot be back-patched. */
  writeAt(): Promise<void> {
    return Promise.reject(new ReprimageError('UNSUPPORTED', 'gzip output', 'a gzip stream cannot be back-patched (write this format uncompressed, then compress it)'));
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
    if (this.#deflate.err) throw new ReprimageError('IO', 'gzip output', `pako deflate failed: ${this.#deflate.msg}`);
  }

  async #drain(): Promise<void> {
    const out = this.#out;
    this.#out = [];
    for (const chunk of out) await this.inner.write(chunk);
  }
}

/** gzip of a small buffer, with the same fixed header and bytes as GzipSink. */
export function gzipBytes(data: Uint8Array, level = GZIP_DEFAULT_LEVEL): Uint8Array {
  const deflate = new pako.Deflate({ level: checkLevel(level), gzip: true, header: { os: 3, time: 0 } as pako.Header });
  // the same pieces GzipSink feeds: full ones, then the rest (maybe empty) as the last
  let at = 0;
  for (; at + PIECE <= data.length; at += PIECE) deflate.push(data.subarray(at, at + PIECE), false);
  deflate.push(data.subarray(at), true);
  if (deflate.err) throw new ReprimageError('IO', 'gzip output', `pako deflate failed: ${deflate.msg}`);
  return deflate.result as Uint8Array;
}
