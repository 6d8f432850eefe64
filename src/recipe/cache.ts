/**
 * The content-addressed download cache: every file is stored under its SHA-256
 * (`<dir>/sha256/ab/abcdef…`), so a file is fetched once and any tampering with the cache shows
 * as a hash mismatch. Default location: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ReprimageError, fromSystemError } from '../errors.js';
import { hashFile } from '../io/hash-file.js';

/** $XDG_CACHE_HOME/reprimage, else ~/.cache/reprimage, from the environment the program passes (the CLI: its own). */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'reprimage');
}

/** Counts what a run fetched, so that "a second build downloads nothing" can be shown. */
export interface FetchStats {
  downloaded: number;
  downloadedBytes: number;
  fromCache: number;
}

export class ContentCache {
  readonly stats: FetchStats = { downloaded: 0, downloadedBytes: 0, fromCache: 0 };
  #tmp = 0;
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    return join(this.dir, 'sha256', sha256.slice(0, 2), sha256);
  }

  /**
   * The cached file of `url` whose SHA-256 (and size, if given) must be `expected`: taken from
   * the cache after re-hashing it, else downloaded. A mismatch is an error naming `subject`,
   * the expected and the actual hash; a corrupt cache entry is removed and fetched again.
   */
  async fetchExpected(url: string, expected: { sha256: string; size?: number }, subject: string): Promise<string> {
    const path = this.pathOf(expected.sha256);
    const cached = await hashFile(path).catch(() => undefined);
    if (cached && cached.sha256 === expected.sha256) {
      this.stats.fromCache++;
      return path;
    }
    if (cached) await unlink(path).catch(() => undefined);
    const got = await this.download(url, subject);
    if (got.sha256 !== expected.sha256 || (expected.size !== undefined && got.size !== expected.size)) {
      await unlink(got.temp).catch(() => undefined);
      throw hashMismatch(subject, expected, got);
    }
    await this.#store(got.temp, got.sha256);
    return path;
  }

  /** Downloads `url` whatever it holds, stores it, and returns its hash, size and cache path. */
  async fetchAny(url: string, subject: string): Promise<{ path: string; sha256: string; size: number }> {
    const got = await this.download(url, subject);
    const path = await this.#store(got.temp, got.sha256);
    return { path, sha256: got.sha256, size: got.size };
  }

  /** Moves a file of this cache's file system (already known to hash to `sha256`) into the cache. */
  adopt(path: string, sha256: string): Promise<string> {
    return this.#store(path, sha256);
  }

  /** Adds a local file's bytes (already known to hash to `sha256`) to the cache. */
  async #store(temp: string, sha256: string): Promise<string> {
    const path = this.pathOf(sha256);
    await mkdir(join(this.dir, 'sha256', sha256.slice(0, 2)), { recursive: true });
    await rename(temp, path);
    return path;
  }

  async download(url: string, subject: string): Promise<{ temp: string; sha256: string; size: number }> {
    await mkdir(join(this.dir, 'tmp'), { recursive: true }).catch((e) => {
      throw fromSystemError(e, this.dir);
    });
    const temp = join(this.dir, 'tmp', `${process.pid}.${this.#tmp++}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const counter = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    try {
      await pipeline(await openUrl(url, subject), counter, createWriteStream(temp));
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw fromSystemError(e, subject);
    }
    this.stats.downloaded++;
    this.stats.downloadedBytes += size;
    return { temp, sha256: hash.digest('hex'), size };
  }
}

async function openUrl(url: string, subject: string): Promise<Readable> {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    await stat(path).catch((e) => {
      throw new ReprimageError('NOT_FOUND', subject, `missing from the repository: ${url}`, { cause: e });
    });
    return createReadStream(path);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  } catch (e) {
    throw new ReprimageError('IO', subject, `cannot download ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (response.status === 404 || response.status === 410) throw new ReprimageError('NOT_FOUND', subject, `missing from the repository: ${url} (HTTP ${response.status})`);
  if (!response.ok || !response.body) throw new ReprimageError('IO', subject, `cannot download ${url}: HTTP ${response.status}`);
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

export function hashMismatch(subject: string, expected: { sha256: string; size?: number }, actual: { sha256: string; size: number }): ReprimageError {
  const sizes = expected.size !== undefined && expected.size !== actual.size ? ` (size expected ${expected.size}, actual ${actual.size})` : '';
  return new ReprimageError('CORRUPT_IMAGE', subject, `SHA-256 mismatch: expected ${expected.sha256}, actual ${actual.sha256}${sizes}`);
}
