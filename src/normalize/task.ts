/** The worker side of `normalizePaths`: one job is one file path; the result says what happened to it. */
import type { TaskResult } from '../parallel/ordered-pool.js';
import { normalizeFile, type FileResult, type NormalizeOptions } from './file.js';

export function createHandler(init: unknown): Promise<(path: string) => Promise<TaskResult<FileResult>>> {
  const options = init as NormalizeOptions;
  return Promise.resolve(async (path: string) => ({ result: await normalizeFile(path, options) }));
}
