/**
 * `normalize` over files and whole trees: the paths are collected in bytewise order (never in
 * readdir order), each inode once (its other hard links share its result), then normalized in
 * parallel on worker threads. Results come back in collection order, so reports do not depend
 * on which worker finished first.
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { fromSystemError } from '../errors.js';
import { throwIfAborted } from '../io/abort.js';
import { compareNames } from '../tree/names.js';
import { normalizeFile, type FileResult, type NormalizeOptions } from './file.js';
import type { ProgressCallback } from '../progress.js';

export interface NormalizeRun extends NormalizeOptions {
  /** Worker threads (default: the cores this process may use, at most 8). */
  workers?: number;
  /** Hears of every file finished (entries; bytes are not counted). */
  onProgress?: ProgressCallback;
}

export interface RunReport {
  results: FileResult[];
}

interface Collected {
  path: string;
  /** The earlier path of the same inode, when this one is another hard link to it. */
  linkOf?: string;
}

/** Regular files under `paths` (directories recursively, symbolic links inside trees skipped), bytewise sorted per directory. */
export async function collectFiles(paths: readonly string[]): Promise<Collected[]> {
  const out: Collected[] = [];
  const seen = new Map<string, string>();
  const add = (path: string, dev: bigint, ino: bigint) => {
    const key = `${dev}:${ino}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, path);
    out.push(first === undefined ? { path } : { path, linkOf: first });
  };
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let st;
    try {
      st = await lstat(path, { bigint: true });
    } catch (e) {
      throw fromSystemError(e, path);
    }
    if (st.isSymbolicLink()) {
      if (!explicit) return; // a link inside a tree points at a file normalized in its own place, or outside the tree
      const target = await realpath(path).catch((e: unknown) => {
        throw fromSystemError(e, path);
      });
      return visit(target, true);
    }
    if (st.isDirectory()) {
      const names = (await readdir(path).catch((e: unknown) => {
        throw fromSystemError(e, path);
      })).sort(compareNames);
      for (const name of names) await visit(join(path, name), false);
      return;
    }
    if (st.isFile()) add(path, st.dev, st.ino);
  };
  for (const p of paths) await visit(p, true);
  return out;
}

/** Normalizes every regular file under `paths`; results are in the order the files were collected. */
export async function normalizePaths(paths: readonly string[], run: NormalizeRun): Promise<RunReport> {
  const files = await collectFiles(paths);
  const unique = files.filter((f) => f.linkOf === undefined);
  const options: NormalizeOptions = { buildTime: run.buildTime, clamp: run.clamp, check: run.check, type: run.type };
  const signal = run.signal;
  const byPath = new Map<string, FileResult>();
  const total = { entries: unique.length, bytes: 0 };
  const done = { entries: 0, bytes: 0 };
  const finished = <T>(result: T): T => {
    done.entries++;
    run.onProgress?.(done, total);
    return result;
  };
  // fewer than four files are done here, without loading the worker pool (start-up, docs/benchmarks.md)
  const pool = unique.length < 4 ? undefined : await import('../parallel/ordered-pool.js');
  const workers = pool === undefined ? 1 : Math.max(1, Math.min(run.workers ?? Math.min(pool.defaultWorkerCount(), 8), unique.length));
  if (pool === undefined || workers <= 1) {
    for (const f of unique) byPath.set(f.path, finished(await normalizeFile(f.path, { ...options, signal })));
  } else {
    const workerPool = await pool.WorkerPool.start<string, FileResult>(new URL('./task.js', import.meta.url), options, workers);
    try {
      // as many files in flight as workers: once the signal aborts, the files being rewritten are
      // finished (each whole) and no other one is started
      let next = 0;
      const lane = async () => {
        while (next < unique.length && !signal?.aborted) {
          const f = unique[next++]!;
          byPath.set(f.path, finished(await workerPool.run(f.path, { label: f.path })));
        }
      };
      await Promise.all(Array.from({ length: workers }, lane));
      throwIfAborted(signal, paths[0] ?? 'normalize');
    } finally {
      await workerPool.close();
    }
  }
  const results = files.map((f) => {
    const r = byPath.get(f.linkOf ?? f.path)!;
    return f.linkOf === undefined ? r : { ...r, path: f.path, warnings: [] };
  });
  return { results };
}
