/**
 * The plain command lines of `reprimage normalize`, parsed without commander: loading commander
 * costs about as much as the rest of a one-file normalize together, and a build system may call
 * `normalize` once per package (docs/benchmarks.md, start-up). Only a line node:util's strict parser
 * reads without doubt is taken here; anything else (help, an unknown option, a missing value,
 * a value that starts with `-`) returns undefined and goes to commander, which says what is
 * wrong. A unit test compares the values given here with commander's on the same lines.
 */
import { parseArgs } from 'node:util';
import type { NormalizeOptionValues } from './normalize-run.js';

/** Every option normalize.ts and output-options.ts define for `normalize`, in parseArgs' terms. */
export const NORMALIZE_ARGV_OPTIONS = {
  timestamp: { type: 'string' },
  'no-clamp': { type: 'boolean' },
  type: { type: 'string' },
  check: { type: 'boolean' },
  json: { type: 'boolean' },
  workers: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  'no-progress': { type: 'boolean' },
  color: { type: 'string' },
} as const;

export interface ParsedNormalize {
  paths: string[];
  /** As commander gives them: the normalize options and the output options (quiet, progress, color). */
  values: NormalizeOptionValues & { quiet?: boolean; progress: boolean; color: string };
}

/** `args` are the words after `normalize`; undefined when commander must parse them. */
export function parseNormalizeArgv(args: readonly string[]): ParsedNormalize | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: NORMALIZE_ARGV_OPTIONS, strict: true, allowPositionals: true });
  } catch {
    return undefined;
  }
  const { values: v, positionals } = parsed;
  if (positionals.length === 0) return undefined;
  const values: ParsedNormalize['values'] = { clamp: v['no-clamp'] !== true, progress: v['no-progress'] !== true, color: v.color ?? 'auto' };
  if (v.timestamp !== undefined) values.timestamp = v.timestamp;
  if (v.type !== undefined) values.type = v.type;
  if (v.check !== undefined) values.check = v.check;
  if (v.json !== undefined) values.json = v.json;
  if (v.workers !== undefined) values.workers = v.workers;
  if (v.verbose !== undefined) values.verbose = v.verbose;
  if (v.quiet !== undefined) values.quiet = v.quiet;
  return { paths: positionals, values };
}
