/**
 * The reporter's settings from the option values every command takes (`--quiet`, `--verbose`,
 * `--no-progress`, `--color`). Apart from output-options.ts, which defines those options with
 * commander, so that a command parsed without commander (normalize-argv.ts) reads them alike.
 */
import { ReprimageError } from '../errors.js';
import type { ColorWhen, OutputSettings } from './reporter.js';

export const COLOR_VALUES: readonly ColorWhen[] = ['auto', 'always', 'never'];

/** The reporter's settings from a parsed command's option values. */
export function outputSettings(values: { quiet?: unknown; verbose?: unknown; progress?: unknown; color?: unknown }): OutputSettings {
  const color = String(values.color ?? 'auto');
  if (!(COLOR_VALUES as readonly string[]).includes(color)) throw new ReprimageError('USAGE', '--color', `expected auto, always or never, got '${color}'`);
  return { quiet: values.quiet === true, verbose: values.verbose === true, progress: values.progress !== false, color: color as ColorWhen };
}
