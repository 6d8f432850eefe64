/**
 * Getting a published file onto this machine: a path is used where it is, an http(s) URL is
 * downloaded into the work directory (streamed to a temporary file and renamed, so an
 * interrupted download leaves nothing that looks complete).
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { ReprimageError, fromSystemError } from '../errors.js';
import { temporaryPathFor } from '../io/atomic-output.js';
import { trackTemporary } from '../io/temporaries.js';
import { fileNameOf, isUrl } from './locations.js';

/** Download timeout; a live ISO over a slow link takes minutes. */
const TIMEOUT_MS = 30 * 60_000;

/** The local path of `location`: itself, or the file it was downloaded to under `dir`. */
export async function localCopy(location: string, dir: string): Promise<string> {
  if (!isUrl(location)) return location;
  const target = join(dir, fileNameOf(location));
  await download(location, target);
  return target;
}

/** Whether `location` exists (a HEAD request for a URL); for optional files such as a manifest beside an image. */
export async function exists(location: string): Promise<boolean> {
  if (!isUrl(location)) {
    const { access } = await import('node:fs/promises');
    return access(location).then(
      () => true,
      () => false,
    );
  }
  try {
    const response = await fetch(location, { method: 'HEAD', signal: AbortSignal.timeout(60_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function download(url: string, target: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new ReprimageError('IO', url, `cannot be fetched: ${cause}`);
  }
  if (!response.ok || !response.body) throw new ReprimageError('NOT_FOUND', url, `the server answered ${response.status} ${response.statusText}`.trimEnd());
  const temporary = temporaryPathFor(target);
  const tracked = trackTemporary(temporary, { target });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(temporary));
    await rename(temporary, target);
  } catch (e) {
    await rm(temporary, { force: true });
    if (e instanceof ReprimageError) throw e;
    if ((e as NodeJS.ErrnoException).code && (e as NodeJS.ErrnoException).syscall) throw fromSystemError(e, target);
    throw new ReprimageError('IO', url, `download failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    tracked.release();
  }
}
