/**
 * The temporary files and directories reprimage has made and not yet renamed or removed.
 *
 * Library code only records them here; it installs no signal or exit handler (a library must not
 * own the process). The program that does own it — the CLI — calls `removeTemporariesSync` from
 * its SIGINT/SIGTERM and exit handlers, so an interrupted run leaves nothing behind.
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
  path: string;
  target?: string;
  directory: boolean;
}

const live = new Set<Entry>();

/** Records `path` (a file, or with `directory` a whole directory) for removal on interruption. */
export function trackTemporary(path: string, options: { target?: string; directory?: boolean } = {}): Temporary {
  const entry: Entry = { path, target: options.target, directory: options.directory ?? false };
  live.add(entry);
  return { path, target: options.target, release: () => live.delete(entry) };
}

/** The outputs being written right now (their final paths), oldest first. */
export function pendingOutputs(): string[] {
  return [...live].flatMap((e) => (e.target === undefined ? [] : [e.target]));
}

/**
 * Removes every recorded temporary, newest first, and forgets them. Synchronous so that it can run
 * from a signal or `exit` handler; errors are ignored (a temporary may already be gone).
 */
export function removeTemporariesSync(): void {
  for (const entry of [...live].reverse()) {
    try {
      rmSync(entry.path, { recursive: entry.directory, force: true });
    } catch {
      // gone already, or not ours to remove any more
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
