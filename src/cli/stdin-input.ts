/**
 * `-` as an input: standard input (a tar or cpio stream, compressed or not) is copied to a
 * temporary file, since the readers need random access, and errors that name that file are
 * given back with `-` in its place: the user never gave the temporary's name.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ReprimageError, fromSystemError, isReprimageError } from '../errors.js';
import { abortedError } from '../io/abort.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { interruption } from './process-end.js';

export const STDIN_NAME = '-';

/** Runs `work` on a path holding standard input when `input` is `-`, else on `input` itself. */
export async function withInputPath<T>(input: string, work: (path: string) => Promise<T>): Promise<T> {
  if (input !== STDIN_NAME) return work(input);
  if (process.stdin.isTTY) throw new ReprimageError('USAGE', STDIN_NAME, 'standard input is a terminal: pipe an archive into it');
  const scratch = await makeTemporaryDirectory('reprimage-stdin-');
  const path = join(scratch.path, 'stdin');
  try {
    // a producer that stalls must not hold an interrupted command past its signal
    const signal = interruption();
    await pipeline(process.stdin, createWriteStream(path), { signal }).catch((e: unknown) => {
      throw signal.aborted ? abortedError(signal, STDIN_NAME) : fromSystemError(e, STDIN_NAME);
    });
    return await work(path);
  } catch (e) {
    throw renamed(e, path);
  } finally {
    await scratch.remove();
  }
}

function renamed(e: unknown, path: string): unknown {
  if (!isReprimageError(e) || !(e.subject.includes(path) || e.detail.includes(path))) return e;
  return new ReprimageError(e.code, e.subject.split(path).join(STDIN_NAME), e.detail.split(path).join(STDIN_NAME));
}
