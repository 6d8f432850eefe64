/**
 * The temporary files and directories reprimage has made and not yet renamed or removed, and
 * the helper processes it has started and not yet seen end.
 *
 * Library code only records them here; it installs no signal or exit handler (a library must not
 * own the process). The program that does own it — the CLI — calls `removeTemporariesSync` from
 * its SIGINT/SIGTERM and exit handlers, so an interrupted run leaves nothing behind: helpers are
 * stopped first (newest first), then their files removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromSystemError } from '../errors.js';

export interface Temporary {
  readonly path: string;
  /** The user's file this temporary becomes, if it is an output; named in messages. */
  readonly target?: string;
  /** Forgets the temporary (it was renamed into place or removed by its owner). */
  release(): void;
}

interface Entry {
  target?: string;
  /** Synchronous: it runs in a signal or exit handler. */
  undo: () => void;
}

const live = new Set<Entry>();

/** Records `path` (a file, or with `directory` a whole directory) for removal on interruption. */
export function trackTemporary(path: string, options: { target?: string; directory?: boolean } = {}): Temporary {
  const recursive = options.directory ?? false;
  const entry: Entry = { target: options.target, undo: () => rmSync(path, { recursive, force: true }) };
  live.add(entry);
  return { path, target: options.target, release: () => live.delete(entry) };
}

/**
 * Records a helper process (or process group, with a negative id) to stop with `signal` if the
 * run is interrupted before it ends. Returns the function that forgets it (call it when it exits).
 */
export function trackProcess(pid: number, signal: NodeJS.Signals = 'SIGTERM'): () => void {
  return trackCleanup(() => process.kill(pid, signal));
}

/**
 * Records a synchronous step that undoes something on interruption (unmounting a FUSE file
 * system, say). Returns the function that forgets it.
 */
export function trackCleanup(undo: () => void): () => void {
  const entry: Entry = { undo };
  live.add(entry);
  return () => void live.delete(entry);
}

/** How many temporaries, helpers and undo steps are recorded and not yet released. */
export function trackedCount(): number {
  return live.size;
}

/** The outputs being written right now (their final paths), oldest first. */
export function pendingOutputs(): string[] {
  return [...live].flatMap((e) => (e.target === undefined ? [] : [e.target]));
}

/**
 * Stops every recorded helper and removes every recorded temporary, newest first, and forgets
 * them. Synchronous so that it can run from a signal or `exit` handler; errors are ignored (a
 * temporary may already be gone, a helper may have ended).
 */
export function removeTemporariesSync(): void {
  for (const entry of [...live].reverse()) {
    try {
      entry.undo();
    } catch {
      // gone already
    }
    live.delete(entry);
  }
}

export interface TemporaryDirectory {
  readonly path: string;
  /** Removes the directory and everything in it. */
  remove(): Promise<void>;
}

/** A new private directory under `parent` (default: the system's temporary directory), tracked until removed. */
export async function makeTemporaryDirectory(prefix: string, parent: string = tmpdir()): Promise<TemporaryDirectory> {
  let path: string;
  try {
    path = await mkdtemp(join(parent, prefix));
  } catch (e) {
    throw fromSystemError(e, parent);
  }
  const tracked = trackTemporary(path, { directory: true });
  return {
    path,
    async remove() {
      await rm(path, { recursive: true, force: true });
      tracked.release();
    },
  };
}

let criticalSections = 0;
let whenCalm: Array<() => void> = [];

/**
 * Runs `work` that must not be cut short by SIGINT/SIGTERM (rewriting a file through its own
 * inode: stopping halfway would leave it part old, part new). The CLI's signal handler waits for
 * it through `afterCriticalSections`. SIGKILL cannot be held off: docs/errors.md says so.
 */
export async function withoutInterruption<T>(work: () => Promise<T>): Promise<T> {
  criticalSections++;
  try {
    return await work();
  } finally {
    criticalSections--;
    if (criticalSections === 0 && whenCalm.length > 0) {
      const waiting = whenCalm;
      whenCalm = [];
      for (const run of waiting) run();
    }
  }
}

/** Runs `run` now, or when the last `withoutInterruption` section in progress ends. */
export function afterCriticalSections(run: () => void): void {
  if (criticalSections === 0) run();
  else whenCalm.push(run);
}
