/**
 * Normalizing one file on disk. The rewrite is first compared with the file; only a file that
 * really changes is written: atomically (temporary file, rename) with its mode, owner and times
 * restored, or, when it has several hard links, through the same inode so the links stay links.
 * A file that cannot be parsed is reported (with its name) and left exactly as it was.
 */
import { chmod, chown, lstat, open, stat, unlink, utimes } from 'node:fs/promises';
import { basename } from 'node:path';
import { fromSystemError, isReprimageError, type ErrorCode } from '../errors.js';
import { throwIfAborted } from '../io/abort.js';
import { temporaryPathFor, writeAtomically } from '../io/atomic-output.js';
import { trackTemporary, withoutInterruption } from '../io/temporaries.js';
import { bufferSource, openFileSource, type RandomAccessSource } from '../io/source.js';
import { MemorySink } from '../io/sink.js';
import { ComparingSink } from './compare-sink.js';
import { HEAD_SIZE, type HandlerId, type MemberNormalizer, type NormalizeContext, type Rewrite } from './handler.js';
import { findNormalizer, loadNormalizer } from './catalog.js';

// archives only: loading it loads every normalizer (their members may be of any type)
const normalizeMembers: MemberNormalizer = async (tree, options) => (await import('./tree.js')).normalizeTree(tree, options);

export interface NormalizeOptions {
  /** SOURCE_DATE_EPOCH, in seconds. */
  buildTime: number;
  /** Clamp times to `buildTime` (default) rather than setting every time to it. */
  clamp: boolean;
  /** Only tell what would change; write nothing. */
  check?: boolean;
  /** Force one handler instead of detecting by content. */
  type?: HandlerId;
  /**
   * Stops the call (an ABORTED error) before a file is rewritten; a file is rewritten whole or not
   * at all. Not passed to worker threads.
   */
  signal?: AbortSignal;
}

export type FileStatus =
  /** Normalized and written. */
  | 'changed'
  /** With `check`: would be changed. */
  | 'would-change'
  /** Recognised and already normalized. */
  | 'unchanged'
  /** Recognised but deliberately left alone (signed jar, encrypted zip). */
  | 'left-alone'
  /** No handler recognises it. */
  | 'not-handled'
  /** Could not be parsed or written; left untouched. */
  | 'error';

export interface FileResult {
  path: string;
  status: FileStatus;
  handler?: HandlerId;
  warnings: string[];
  error?: { code: ErrorCode; message: string };
}

/** Files up to this size are read once into memory: every handler then reads from a buffer. */
const IN_MEMORY_LIMIT = 64 << 20;

async function openSource(path: string, size: number): Promise<RandomAccessSource> {
  if (size > IN_MEMORY_LIMIT) return openFileSource(path);
  const fh = await open(path, 'r');
  try {
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return bufferSource(bytes.subarray(0, done), path);
  } finally {
    await fh.close();
  }
}

/** Normalizes one regular file (symbolic links are followed). Never throws for bad input: the result says what happened. */
export async function normalizeFile(path: string, options: NormalizeOptions): Promise<FileResult> {
  const warnings: string[] = [];
  const result: FileResult = { path, status: 'not-handled', warnings };
  let source: RandomAccessSource | undefined;
  try {
    throwIfAborted(options.signal, path);
    const st = await stat(path, { bigint: true });
    if (!st.isFile()) return result;
    source = await openSource(path, Number(st.size));
    const head = await source.read(0, Math.min(HEAD_SIZE, source.size));
    const normalizer = options.type ? await loadNormalizer(options.type) : await findNormalizer(head, source.size, basename(path));
    if (!normalizer) return result;
    result.handler = normalizer.id;
    const ctx: NormalizeContext = { buildTime: options.buildTime, clamp: options.clamp, subject: path, warn: (m) => warnings.push(m), normalizeMembers };
    const rewrite = await normalizer.prepare(source, ctx);
    if (!rewrite) {
      result.status = 'left-alone';
      return result;
    }
    const compare = new ComparingSink(source);
    await rewrite(compare);
    if (!compare.differs) {
      result.status = 'unchanged';
      return result;
    }
    if (options.check) {
      result.status = 'would-change';
      return result;
    }
    throwIfAborted(options.signal, path);
    if (st.nlink > 1n) await rewriteInPlace(path, source, rewrite);
    else await rewriteByRename(path, rewrite, st, warnings, options.signal);
    await utimes(path, nsToSeconds(st.atimeNs), nsToSeconds(st.mtimeNs));
    result.status = 'changed';
    return result;
  } catch (e) {
    const err = fromSystemError(e, path);
    if (!isReprimageError(err) || err.code === 'ABORTED') throw err;
    result.status = 'error';
    result.error = { code: err.code, message: err.message };
    return result;
  } finally {
    await source?.close();
  }
}

/** utimes takes seconds as a double: nanoseconds survive only to about a quarter microsecond. */
function nsToSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}

async function rewriteByRename(path: string, rewrite: Rewrite, st: { mode: bigint; uid: bigint; gid: bigint }, warnings: string[], signal: AbortSignal | undefined): Promise<void> {
  const mode = Number(st.mode & 0o7777n);
  await writeAtomically(path, rewrite, { mode, signal });
  try {
    await chown(path, Number(st.uid), Number(st.gid));
  } catch (e) {
    warnings.push(`${path}: could not restore owner ${st.uid}:${st.gid} (${(e as Error).message})`);
  }
  await chmod(path, mode); // chown clears set-user/group-ID bits
}

/**
 * Rewrites the file through its own inode, so every hard link sees the new bytes. The output is
 * made completely first (in memory, or in a temporary file for large files) because it may be
 * longer or shorter than the input it is read from.
 */
async function rewriteInPlace(path: string, source: RandomAccessSource, rewrite: Rewrite): Promise<void> {
  if (source.size <= IN_MEMORY_LIMIT) {
    const sink = new MemorySink();
    await rewrite(sink);
    await withoutInterruption(() => overwrite(path, [sink.bytes()]));
    return;
  }
  // a scratch copy beside the file, named so that a later run can remove it if this one is killed
  const temp = temporaryPathFor(path);
  const tracked = trackTemporary(temp, { target: path });
  try {
    await writeAtomically(temp, rewrite, { mode: 0o600, subject: path });
    const tempSource = await openFileSource(temp);
    try {
      const fh = await open(path, 'r+');
      try {
        await withoutInterruption(async () => {
          for (let at = 0; at < tempSource.size; at += 1 << 20) {
            const chunk = await tempSource.read(at, Math.min(1 << 20, tempSource.size - at));
            await fh.write(chunk, 0, chunk.length, at);
          }
          await fh.truncate(tempSource.size);
        });
      } finally {
        await fh.close();
      }
    } finally {
      await tempSource.close();
    }
  } finally {
    await unlink(temp).catch(() => undefined);
    tracked.release();
  }
}

async function overwrite(path: string, chunks: Uint8Array[]): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    let at = 0;
    for (const c of chunks) {
      let done = 0;
      while (done < c.length) done += (await fh.write(c, done, c.length - done, at + done)).bytesWritten;
      at += c.length;
    }
    await fh.truncate(at);
  } finally {
    await fh.close();
  }
}

/** Whether `path` is a regular file, without following a final symbolic link. */
export async function isRegularFile(path: string): Promise<boolean> {
  return (await lstat(path)).isFile();
}
