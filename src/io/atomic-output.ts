/**
 * Output files that appear whole or not at all (docs/design.md rule 7): bytes go to a temporary file
 * beside the target, which is flushed to disk (fsync) and renamed into place on success, after
 * which the directory is flushed too, so that after a crash the name holds the old file or the
 * new one, never a prefix. On failure the temporary is removed; on SIGINT/SIGTERM the program
 * that owns the process removes it (src/io/temporaries.ts: this module installs no handler). A
 * library caller stops a write with an AbortSignal instead: the temporary is removed and the
 * call rejects with an ABORTED error (src/io/abort.ts), with nothing at the target.
 *
 * A temporary is named `.<target>.<host>.<pid>.<n>.tmp`. A run that was killed outright
 * (SIGKILL, power loss) cannot remove its own; the next write of the same target on the same host
 * removes those whose process no longer exists and that belong to the same user
 * (docs/errors.md, "Interrupted runs").
 */
import { lstat, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import { ReprimageError, fromSystemError } from '../errors.js';
import { abortedError, throwIfAborted } from './abort.js';
import { FileSink } from './sink.js';
import { trackTemporary } from './temporaries.js';

export interface AtomicWriteOptions {
  /** The mode of the finished file (default 0o644); the umask does not change it. */
  mode?: number;
  /** The name errors give for the output (default: `target`), when the target is itself a scratch file. */
  subject?: string;
  /** Abandons the write: `produce` is no longer awaited, the temporary is removed, the target left as it was. */
  signal?: AbortSignal;
}

let counter = 0;

/**
 * Runs `produce` with a sink on a temporary file and renames the file to `target` when it
 * resolves. If anything fails, the temporary file is removed and the error, naming `target`
 * (never the temporary), is rethrown.
 */
export async function writeAtomically<T>(target: string, produce: (sink: FileSink) => Promise<T>, modeOrOptions: number | AtomicWriteOptions = {}): Promise<T> {
  const options = typeof modeOrOptions === 'number' ? { mode: modeOrOptions } : modeOrOptions;
  const mode = options.mode ?? 0o644;
  const subject = options.subject ?? target;
  const signal = options.signal;
  throwIfAborted(signal, subject);
  await removeStaleTemporaries(target);
  const temp = temporaryPathFor(target);
  let fh;
  try {
    fh = await open(temp, 'wx', mode);
  } catch (e) {
    throw namingOutput(e, temp, subject);
  }
  const tracked = trackTemporary(temp, { target: subject });
  let sink: FileSink | undefined;
  try {
    sink = new FileSink(fh, subject);
    const result = await untilAborted(produce(sink), signal, subject);
    await sink.finish();
    await fh.truncate(sink.position);
    await fh.chmod(mode); // the umask must not decide the mode of what we make
    const special = await isSpecialFile(target);
    // the bytes reach the disk before the name points at them, or a crash could leave a named
    // file of the right size full of zeros; a full disk can also show up only here
    if (!special) await fh.sync();
    throwIfAborted(signal, subject); // the last moment the target can still be left alone
    await fh.close();
    fh = undefined;
    if (special) {
      // /dev/null, a FIFO or a terminal: renaming would replace the device node itself (as
      // root, /dev/null became a regular file once), so copy the finished bytes into it.
      await pipeline(createReadStream(temp), createWriteStream(target, { flags: 'a' }));
      await unlink(temp);
    } else {
      await rename(temp, target);
      await syncDirectory(dirname(target));
    }
    tracked.release();
    return result;
  } catch (e) {
    await sink?.retire(); // no write of it may outlive the descriptor
    if (fh) await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    tracked.release();
    if (signal?.aborted) throw abortedError(signal, subject);
    throw namingOutput(e, temp, subject);
  }
}

/**
 * `work`, or an ABORTED error as soon as the signal aborts. An abandoned `work` goes on until its
 * next write fails on the closed file; its rejection is then ignored.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, subject: string): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined);
  throwIfAborted(signal, subject);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal, subject));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The subject for errors in a scratch file made on the way to the user's `output` (a SquashFS
 * spooled for an ISO): the user's path first, then where the scratch file was (a full /tmp says so).
 */
export function scratchSubject(output: string | undefined, scratchFile: string): string {
  return output === undefined ? scratchFile : `${output} (scratch file ${scratchFile})`;
}

/**
 * A fresh temporary path beside `target`, in the naming scheme whose stale files later runs
 * remove. For callers that need a scratch file beside an output (track it with trackTemporary).
 */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${stemOf(basename(target))}.${HOST}.${process.pid}.${counter++}.tmp`);
}

/**
 * The host part of temporary names: on a directory shared between machines (NFS) a process id
 * says nothing about another machine's processes. Only letters, digits and '-' are kept.
 */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 32) || 'host';

/** The target's name in its temporaries; a long name is cut and made unique with a hash, so the temporary's name stays under NAME_MAX. */
function stemOf(name: string): string {
  if (Buffer.byteLength(name) <= 128) return name;
  const head = Array.from(name).slice(0, 32).join('');
  // node:crypto is loaded here, on the rare long name, not by every command at start-up
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return `${head}~${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

/** Directories already searched by this process, with the stale temporaries found in each. */
const staleByDirectory = new Map<string, Promise<string[]>>();

/**
 * Removes temporaries of `target` left by runs of this user on this host whose process is gone.
 * Each directory is listed once per process: normalizing a directory of 10,000 files must not
 * list it 10,000 times, and a process that no longer exists makes no new temporaries.
 */
async function removeStaleTemporaries(target: string): Promise<void> {
  const dir = dirname(target);
  let found = staleByDirectory.get(dir);
  if (!found) {
    found = findStaleTemporaries(dir);
    staleByDirectory.set(dir, found);
  }
  const prefix = `.${stemOf(basename(target))}.${HOST}.`;
  for (const name of await found) {
    if (!name.startsWith(prefix) || !/^\d+\.\d+\.tmp$/.test(name.slice(prefix.length))) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

async function findStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return []; // opening the temporary will report what is wrong with the directory
  }
  const uid = process.getuid?.();
  const stale: string[] = [];
  for (const name of names) {
    const m = TEMPORARY_NAME.exec(name);
    if (!m || m[1] !== HOST) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processExists(pid)) continue;
    try {
      const st = await lstat(join(dir, name));
      if (st.isFile() && (uid === undefined || st.uid === uid)) stale.push(name);
    } catch {
      // removed meanwhile
    }
  }
  return stale;
}

/** `.<stem>.<host>.<pid>.<n>.tmp`; the stem may hold dots, the host part never does. */
const TEMPORARY_NAME = /^\..+\.([A-Za-z0-9-]+)\.(\d+)\.(\d+)\.tmp$/;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

/** Makes a rename durable. File systems that cannot sync a directory (some FUSE, CIFS) are let be. */
async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return; // a directory we may write but not read (mode -wx): the rename stands, unsynced
  }
  try {
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EBADF') throw e;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * The error to report for a failed write: one naming the user's output, never the temporary.
 * Errors about other files (an input that vanished) keep their own names.
 */
function namingOutput(e: unknown, temp: string, subject: string): unknown {
  if (e instanceof ReprimageError) {
    if (!e.message.includes(temp)) return e;
    return new ReprimageError(e.code, e.subject.split(temp).join(subject), e.detail.split(temp).join(subject), { cause: e });
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    // rename() reports the temporary as its path; a FileHandle call reports none
    if (err.path === undefined || err.path === temp || (err as { dest?: string }).dest !== undefined) {
      return fromSystemError(Object.assign(e as object, { path: subject }), subject);
    }
  }
  return fromSystemError(e, subject);
}

/** True when `path` exists and is neither a regular file nor a directory (a device, FIFO, socket). */
async function isSpecialFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}
