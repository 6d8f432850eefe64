/**
 * Output files that appear whole or not at all (DESIGN.md rule 7): bytes go to a temporary file
 * beside the target, which is renamed into place on success and removed on failure or on
 * SIGINT/SIGTERM.
 */
import { open, rename, stat, unlink } from 'node:fs/promises';
import { createReadStream, createWriteStream, unlinkSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import { fromSystemError } from '../errors.js';
import { FileSink } from './sink.js';

const pending = new Set<string>();
let handlersInstalled = false;

function installSignalCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const path of pending) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
  process.once('exit', () => {
    for (const path of pending) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  });
}

let counter = 0;

/**
 * Runs `produce` with a sink on a temporary file and renames the file to `target` when it
 * resolves. If `produce` throws, the temporary file is removed and the error rethrown.
 */
export async function writeAtomically<T>(target: string, produce: (sink: FileSink) => Promise<T>, mode = 0o644): Promise<T> {
  installSignalCleanup();
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${counter++}.tmp`);
  let fh;
  try {
    fh = await open(temp, 'wx', mode);
  } catch (e) {
    throw fromSystemError(e, target);
  }
  pending.add(temp);
  try {
    const sink = new FileSink(fh, target);
    const result = await produce(sink);
    await sink.flush();
    await fh.truncate(sink.position);
    await fh.chmod(mode); // the umask must not decide the mode of what we make
    await fh.close();
    fh = undefined;
    if (await isSpecialFile(target)) {
      // /dev/null, a FIFO or a terminal: renaming would replace the device node itself (as
      // root, /dev/null became a regular file once), so copy the finished bytes into it.
      await pipeline(createReadStream(temp), createWriteStream(target, { flags: 'a' })).catch((e) => {
        throw fromSystemError(e, target);
      });
      await unlink(temp);
    } else {
      await rename(temp, target).catch((e) => {
        throw fromSystemError(e, target);
      });
    }
    pending.delete(temp);
    return result;
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    pending.delete(temp);
    throw e;
  }
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
