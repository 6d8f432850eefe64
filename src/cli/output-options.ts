/**
 * The options every command takes for what it says on stderr (reporter.ts): `-q/--quiet`,
 * `-v/--verbose`, `--no-progress` and `--color WHEN`. A command that defines one of them itself
 * (with a more precise help text) keeps its own.
 */
import { Option, type Command } from 'commander';
import { ReprimageError } from '../errors.js';
import type { ColorWhen, OutputSettings } from './reporter.js';

export const COLOR_VALUES: readonly ColorWhen[] = ['auto', 'always', 'never'];

export function addOutputOptions(cmd: Command): Command {
  const has = (long: string) => cmd.options.some((o) => o.long === long);
  if (!has('--quiet')) cmd.option('-q, --quiet', 'print no warnings, stages or progress');
  if (!has('--verbose')) cmd.option('-v, --verbose', 'print more: each stage in detail, stacks of internal errors');
  if (!has('--no-progress')) cmd.option('--no-progress', 'draw no progress bar (bars are drawn on a terminal only)');
  if (!has('--color')) cmd.addOption(new Option('--color <when>', 'colour: auto (on a terminal, unless NO_COLOR is set), always, never').default('auto'));
  return cmd;
}

/** The reporter's settings from a parsed command's option values. */
export function outputSettings(values: Record<string, unknown>): OutputSettings {
  const color = String(values.color ?? 'auto');
  if (!(COLOR_VALUES as readonly string[]).includes(color)) throw new ReprimageError('USAGE', '--color', `expected auto, always or never, got '${color}'`);
  return { quiet: values.quiet === true, verbose: values.verbose === true, progress: values.progress !== false, color: color as ColorWhen };
}
