/**
 * The options every command takes for what it says on stderr (reporter.ts): `-q/--quiet`,
 * `-v/--verbose`, `--no-progress` and `--color WHEN`. A command that defines one of them itself
 * (with a more precise help text) keeps its own.
 */
import { Option, type Command } from 'commander';

export { COLOR_VALUES, outputSettings } from './output-settings.js';

export function addOutputOptions(cmd: Command): Command {
  const has = (long: string) => cmd.options.some((o) => o.long === long);
  if (!has('--quiet')) cmd.option('-q, --quiet', 'print no warnings, stages or progress');
  if (!has('--verbose')) cmd.option('-v, --verbose', 'print more: each stage in detail, stacks of internal errors');
  if (!has('--no-progress')) cmd.option('--no-progress', 'draw no progress bar (bars are drawn on a terminal only)');
  if (!has('--color')) cmd.addOption(new Option('--color <when>', 'colour: auto (on a terminal, unless NO_COLOR is set), always, never').default('auto'));
  return cmd;
}
