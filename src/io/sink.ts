/**
 * Byte sinks. Writers append with `write` and may back-patch earlier bytes with `writeAt`
 * (a superblock written last at offset 0). Writes are buffered; `position` counts every byte
 * appended so far, buffered or not.
 */
import type { FileHandle } from 'node:fs/promises';
import { fdatasync, write as fsWrite, writeSync } from 'node:fs';
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
/**
 * Every this many bytes appended, the file's dirty pages are sent to the disk in the background
 * (fdatasync on the thread pool, one at a time): the output is flushed before it is renamed into
 * place (docs/design.md rule 7), and left to the end that flush waited for the whole file, often
 * a third of a disk image conversion; started early, it overlaps the writing.
 */
const WRITE_BACK_EVERY = 64 << 20;

/**
 * A sink on an open file; appends start at byte 0 of the file. A full buffer is written by the
 * thread pool while the next one fills (at most one write in flight), so a writer's own work
 * and the system's copying of its output run on two cores.
 */
export class FileSink implements Sink {
  #buffer: Uint8Array = new Uint8Array(BUFFER_SIZE);
  #used = 0;
  #flushed = 0;
  /** The buffer being written in the background, and when that write ends. */
  #inFlight: { buffer: Uint8Array; done: Promise<void> } | undefined;
  #failed: unknown;
  #retired = false;
  /** The background fdatasync under way; bytes handed to the system so far (holes not counted), and when the last fdatasync started. */
  #writeBack: Promise<void> | undefined;
  #written = 0;
  #writtenBack = 0;

  constructor(private readonly fh: FileHandle, private readonly name: string) {}

  /**
   * Ends this sink's use of the file, for its owner before it closes the file after a failure:
   * waits for the write in flight (a write still queued after the close could reach another file
   * given the same descriptor) and makes every later call throw.
   */
  async retire(): Promise<void> {
    this.#retired = true;
    await this.#inFlight?.done;
    await this.#writeBack;
  }

  /**
   * Writes out everything buffered and waits for the background write-back too: the owner's
   * last call before it flushes the file itself and closes it (no fdatasync may outlive the
   * descriptor).
   */
  async finish(): Promise<void> {
    await this.flush();
    await this.#writeBack;
    if (this.#failed !== undefined) throw fromSystemError(this.#failed, this.name);
  }

  get position(): number {
    return this.#flushed + this.#used;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#usable();
    if (bytes.length >= BUFFER_SIZE) {
      await this.flush();
      this.#writeFully(bytes, this.#flushed);
      this.#flushed += bytes.length;
      this.#written += bytes.length;
      this.#startWriteBack();
      return;
    }
    if (this.#used + bytes.length > BUFFER_SIZE) await this.#handOff();
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    this.#usable();
    if (offset + bytes.length > this.position) throw new RangeError(`${this.name}: writeAt past the end`);
    await this.flush();
    this.#writeFully(bytes, offset);
  }

  async fill(length: number, produce: (view: Uint8Array) => void): Promise<void> {
    this.#usable();
    for (let left = length; left > 0; ) {
      if (this.#used === BUFFER_SIZE) await this.#handOff();
      const n = Math.min(left, BUFFER_SIZE - this.#used);
      produce(this.#buffer.subarray(this.#used, this.#used + n));
      this.#used += n;
      left -= n;
    }
  }

  /** Advances past `length` zero bytes without writing them: a hole once the file is truncated to size. */
  async skip(length: number): Promise<void> {
    this.#usable();
    await this.#handOff();
    this.#flushed += length;
  }

  /** Writes out everything buffered and waits for it. */
  async flush(): Promise<void> {
    this.#usable();
    await this.#handOff();
    await this.#settle();
  }

  #usable(): void {
    if (this.#retired) throw new ReprimageError('IO', this.name, 'written after the output was abandoned');
  }

  /** Starts writing the buffered bytes in the background, once the previous write has ended. */
  async #handOff(): Promise<void> {
    if (this.#used === 0) return;
    const previous = await this.#settle();
    const full = this.#buffer;
    const bytes = full.subarray(0, this.#used);
    const at = this.#flushed;
    this.#inFlight = { buffer: full, done: this.#writeInBackground(bytes, at) };
    this.#buffer = previous ?? new Uint8Array(BUFFER_SIZE);
    this.#flushed += this.#used;
    this.#written += this.#used;
    this.#used = 0;
    this.#startWriteBack();
  }

  /** Starts an fdatasync in the background once WRITE_BACK_EVERY more bytes were handed off and none is under way. */
  #startWriteBack(): void {
    if (this.#writeBack || this.#written - this.#writtenBack < WRITE_BACK_EVERY) return;
    this.#writtenBack = this.#written;
    this.#writeBack = new Promise((resolve) => {
      fdatasync(this.fh.fd, (e) => {
        if (e) this.#failed ??= e;
        this.#writeBack = undefined;
        resolve();
      });
    });
  }

  /** Waits for the write in flight; returns its buffer, free again. Throws what it failed with. */
  async #settle(): Promise<Uint8Array | undefined> {
    const flight = this.#inFlight;
    this.#inFlight = undefined;
    if (flight) await flight.done;
    if (this.#failed !== undefined) throw fromSystemError(this.#failed, this.name);
    return flight?.buffer;
  }

  /** Never rejects: a failure is kept for the next `#settle`, which every later write passes. */
  #writeInBackground(bytes: Uint8Array, at: number): Promise<void> {
    return new Promise((resolve) => {
      const from = (done: number) => {
        if (done === bytes.length) return resolve();
        fsWrite(this.fh.fd, bytes, done, bytes.length - done, at + done, (e, n) => {
          if (e) {
            this.#failed ??= e;
            resolve();
          } else from(done + n);
        });
      };
      from(0);
    });
  }

  /** Synchronous: back-patches and very large appends, after the write in flight has ended. */
  #writeFully(bytes: Uint8Array, at: number): void {
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
