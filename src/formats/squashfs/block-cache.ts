/**
 * A content-addressed cache of compressed SquashFS data and fragment blocks on disk, so that a
 * rebuild of a slightly changed tree compresses only the blocks that changed. Off unless a
 * directory is given (`--block-cache DIR`); the image bytes are the same with or without it,
 * since a block's compressed form depends only on the codec, its settings and the block.
 *
 * Key: SHA-256 of the codec's implementation string, its settings, whether the block is stored
 * raw, and the block's bytes. Entry `DIR/ab/<key>`: a magic, SHA-256 of (key, flag, payload),
 * the flag (compressed or not) and the payload. An entry whose hash does not match (a damaged
 * or truncated file, or one copied under another key) is ignored, recomputed and rewritten:
 * never used. Entries are written to a temporary name and renamed, so concurrent builds sharing
 * a directory see whole entries or none. (`reprimage check` must not share one between its two
 * builds: a cache would hide a codec that is not deterministic.)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError } from '../../errors.js';
import { codecImplementation, type SquashfsCodecSettings } from '../../compress/squashfs-codecs.js';
import type { CompressJob, CompressResult } from './compress-task.js';

const MAGIC = Buffer.from('RPSQBC1\n', 'latin1');
const HEADER = MAGIC.length + 32 + 1;

export interface BlockCacheStats {
  hits: number;
  misses: number;
  /** Entries found damaged: ignored, recomputed and rewritten. */
  damaged: number;
}

export class BlockCache {
  readonly stats: BlockCacheStats = { hits: 0, misses: 0, damaged: 0 };
  readonly #prefix: Uint8Array;
  #temp = 0;

  /** `dir` is created if missing. */
  constructor(
    private readonly dir: string,
    settings: SquashfsCodecSettings,
  ) {
    const settled = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : 1)));
    this.#prefix = Buffer.from(`reprimage squashfs block\0${codecImplementation(settings)}\0${JSON.stringify(settled)}\0`, 'utf8');
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw fromSystemError(e, dir);
    }
  }

  /** The key of a job; compute it before the job's buffer is handed to a worker. */
  keyOf(job: CompressJob): string {
    return createHash('sha256')
      .update(this.#prefix)
      .update(job.raw ? 'raw\0' : 'packed\0')
      .update(job.data)
      .digest('hex');
  }

  /** The stored result for `key`, or undefined when there is none or it is damaged. */
  get(key: string): CompressResult | undefined {
    let file: Buffer;
    try {
      file = readFileSync(this.#path(key));
    } catch {
      this.stats.misses++;
      return undefined;
    }
    if (file.length < HEADER || !file.subarray(0, MAGIC.length).equals(MAGIC) || !file.subarray(MAGIC.length, MAGIC.length + 32).equals(entryHash(key, file.subarray(HEADER - 1)))) {
      this.stats.damaged++;
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    const bytes = new Uint8Array(file.length - HEADER);
    bytes.set(file.subarray(HEADER));
    return { bytes, compressed: file[HEADER - 1] === 1 };
  }

  /** Stores a result; a failure to write only loses the entry (the image is unaffected). */
  put(key: string, result: CompressResult): void {
    const body = Buffer.concat([Buffer.from([result.compressed ? 1 : 0]), result.bytes]);
    const path = this.#path(key);
    const temp = `${path}.${process.pid}.${this.#temp++}.tmp`;
    try {
      mkdirSync(join(this.dir, key.slice(0, 2)), { recursive: true });
      writeFileSync(temp, Buffer.concat([MAGIC, entryHash(key, body), body]));
      renameSync(temp, path);
    } catch {
      rmSync(temp, { force: true });
    }
  }

  #path(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }
}

function entryHash(key: string, body: Uint8Array): Buffer {
  return createHash('sha256').update(key).update(body).digest();
}
