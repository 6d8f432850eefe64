/**
 * What `reprimage normalize` does once its command line is parsed, by commander (normalize.ts)
 * or, for the plain calls a build system makes once per package, by normalize-argv.ts without
 * loading commander: start-up is paid by every call (docs/benchmarks.md).
 */
import { ReprimageError } from '../errors.js';
import { HANDLER_IDS, type HandlerId } from '../normalize/handler.js';
import type { FileResult } from '../normalize/file.js';
import type { Reporter } from './reporter.js';
import { interruption } from './process-end.js';

/** The option values of `normalize`, as commander hands them to the action. */
export interface NormalizeOptionValues {
  timestamp?: string;
  clamp: boolean;
  type?: string;
  check?: boolean;
  json?: boolean;
  workers?: string;
  verbose?: boolean;
}

/** Exit status when `--check` finds files that would change. */
export const EXIT_WOULD_CHANGE = 1;

export async function runNormalize(paths: string[], values: NormalizeOptionValues, reporter: Reporter): Promise<void> {
  const timestamp = parseTimestamp(values.timestamp);
  let type: HandlerId | undefined;
  if (values.type !== undefined) {
    if (!(HANDLER_IDS as readonly string[]).includes(values.type)) throw new ReprimageError('USAGE', '--type', `expected one of ${HANDLER_IDS.join(', ')}, got '${values.type}'`);
    type = values.type as HandlerId;
  }
  const workers = values.workers === undefined ? undefined : parseWorkers(values.workers);
  const { normalizePaths } = await import('../normalize/walk.js');
  const bar = reporter.progress('normalize');
  let ok = false;
  let results: FileResult[];
  try {
    ({ results } = await normalizePaths(paths, { buildTime: timestamp, clamp: values.clamp, check: values.check, type, workers, signal: interruption(), onProgress: (done, total) => bar.update(done, total) }));
    ok = true;
  } finally {
    bar.end(ok);
  }
  for (const r of results) for (const w of r.warnings) reporter.warn(w);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ schema: 'reprimage-normalize/1', timestamp, clamp: values.clamp, check: values.check ?? false, files: results.map(jsonResult), summary: summarize(results) }, null, 1)}\n`);
  } else {
    for (const r of results) {
      if (r.status === 'would-change') process.stdout.write(`would change: ${r.path} (${r.handler})\n`);
      else if (r.status === 'changed' && values.verbose) process.stdout.write(`normalized: ${r.path} (${r.handler})\n`);
    }
  }
  const errors = results.filter((r) => r.status === 'error');
  for (const r of errors) process.stderr.write(`reprimage: ${r.error!.message}\n`);
  if (errors.length > 0) {
    throw new ReprimageError('CORRUPT_IMAGE', errors[0]!.path, `${errors.length} file${errors.length === 1 ? '' : 's'} could not be normalized and were left as they were`);
  }
  if (results.some((r) => r.status === 'would-change')) process.exitCode = EXIT_WOULD_CHANGE;
}

/** --timestamp, else SOURCE_DATE_EPOCH; one of them is required (no clock may decide output). */
export function parseTimestamp(option: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const [value, from] = option !== undefined ? [option, '--timestamp'] : [env.SOURCE_DATE_EPOCH, 'SOURCE_DATE_EPOCH'];
  if (value === undefined || value === '') {
    throw new ReprimageError('USAGE', 'normalize', 'a reference time is needed: pass --timestamp SECONDS or set SOURCE_DATE_EPOCH');
  }
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new ReprimageError('USAGE', from, `expected whole seconds since 1970 (up to 4294967295), got '${value}'`);
  return n;
}

function parseWorkers(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 256)) throw new ReprimageError('USAGE', '--workers', `expected a whole number from 1 to 256, got '${value}'`);
  return n;
}

function jsonResult(r: FileResult): Record<string, unknown> {
  return { path: r.path, status: r.status, ...(r.handler ? { handler: r.handler } : {}), ...(r.error ? { error: r.error } : {}), ...(r.warnings.length ? { warnings: r.warnings } : {}) };
}

function summarize(results: FileResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}
