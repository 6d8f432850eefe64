/**
 * Byte sinks. Writers append with `write` and may back-patch earlier bytes with `writeAt`
 * (a superblock written last at offset 0). Writes are buffered; `position` counts every byte
 * appended so far, buffered or not.
 */
import type { FileHandle } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ReprimageError, fromSystemError } from '../errors.js';

export interface Sink {
  readonly position: number;
  write(bytes: Uint8Array): Promise<void>;
  /** Overwrites bytes already appended. Throws on sinks that cannot seek (pipes). */
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
  /** Writes out everything buffered. */
  flush(): Promise<void>;
  /** Appends `length` zero bytes; a file sink leaves them as a hole (sparse images). Optional. */
  skip?(length: number): Promise<void>;
  /**
   * Appends `length` bytes that `produce` writes into the views it is handed, in order (they add
   * up to `length`): a file read straight into the sink's own buffer, with no copy and no
   * allocation. If `produce` throws, nothing of that view is appended. Optional.
   */
  fill?(length: number, produce: (view: Uint8Array) => void): Promise<void>;
}

const BUFFER_SIZE = 1 << 20;

/** A sink on an open file; appends start at byte 0 of the file. */
export class FileSink implements Sink {
  #buffer = new Uint8Array(BUFFER_SIZE);
  #used = 0;
  #flushed = 0;

  constructor(private readonly fh: FileHandle, private readonly name: string) {}

  get position(): number {
    return this.#flushed + this.#used;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length >= BUFFER_SIZE) {
      await this.flush();
      await this.#writeFully(bytes, this.#flushed);
      this.#flushed += bytes.length;
      return;
    }
    if (this.#used + bytes.length > BUFFER_SIZE) await this.flush();
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.position) throw new RangeError(`${this.name}: writeAt past the end`);
    await this.flush();
    await this.#writeFully(bytes, offset);
  }

  async fill(length: number, produce: (view: Uint8Array) => void): Promise<void> {
    for (let left = length; left > 0; ) {
      if (this.#used === BUFFER_SIZE) await this.flush();
      const n = Math.min(left, BUFFER_SIZE - this.#used);
      produce(this.#buffer.subarray(this.#used, this.#used + n));
      this.#used += n;
      left -= n;
    }
  }

  /** Advances past `length` zero bytes without writing them: a hole once the file is truncated to size. */
  async skip(length: number): Promise<void> {
    await this.flush();
    this.#flushed += length;
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    await this.#writeFully(this.#buffer.subarray(0, this.#used), this.#flushed);
    this.#flushed += this.#used;
    this.#used = 0;
  }

  /** Synchronous on purpose: an await per megabyte left the CPU idle for a fifth of a tar job. */
  async #writeFully(bytes: Uint8Array, at: number): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fh.fd, bytes, done, bytes.length - done, at + done);
    } catch (e) {
      throw fromSystemError(e, this.name);
    }
  }
}

/** A sink into memory; for tests and small images. */
export class MemorySink implements Sink {
  #chunks: Uint8Array[] = [];
  #bytes: Uint8Array | undefined;
  #size = 0;

  get position(): number {
    return this.#size;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.#chunks.push(bytes.slice());
    this.#bytes = undefined;
    this.#size += bytes.length;
    return Promise.resolve();
  }

  writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.#size) throw new RangeError('MemorySink: writeAt past the end');
    const all = this.bytes();
    all.set(bytes, offset);
    return Promise.resolve();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Everything written so far, as one array (shared with the sink until the next write). */
  bytes(): Uint8Array {
    if (!this.#bytes) {
      const all = new Uint8Array(this.#size);
      let at = 0;
      for (const c of this.#chunks) {
        all.set(c, at);
        at += c.length;
      }
      this.#chunks = [all];
      this.#bytes = all;
    }
    return this.#bytes;
  }
}

/** A sequential sink on a stream (stdout, a pipe); honours back-pressure; cannot back-patch. */
export class StreamSink implements Sink {
  #position = 0;
  constructor(private readonly stream: Writable, private readonly name: string) {}

  get position(): number {
    return this.#position;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#position += bytes.length;
    if (!this.stream.write(bytes)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: unknown) => reject(fromSystemError(e, this.name));
        this.stream.once('error', onError);
        this.stream.once('drain', () => {
          this.stream.off('error', onError);
          resolve();
        });
      });
    }
  }

  writeAt(): Promise<void> {
    return Promise.reject(new ReprimageError('USAGE', this.name, 'this format is back-patched while written and cannot go to a pipe; write to a file instead'));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
