/**
 * The commander program: the commands with the options every one of them takes, one error
 * prefix (`reprimage: `) and a reporter configured from the parsed options before any action.
 * The man pages and shell completions are generated from the same program (scripts/).
 */
import { Command } from 'commander';
import { COMMAND_LOADERS, COMMAND_NAMES, packageVersion } from './commands.js';
import { addOutputOptions, outputSettings } from './output-options.js';
import { StderrReporter, type Reporter } from './reporter.js';

const outputError = (message: string, write: (text: string) => void) => write(`reprimage: ${message.replace(/^error: /, '').trimEnd()}\n`);

export const PROGRAM_DESCRIPTION = 'Build Linux system images bit for bit reproducibly, prove it, and explain differences.';

/**
 * The program with the command `only` fully defined, or every command when `only` is undefined
 * (help, an unknown command, the man pages).
 */
export async function buildProgram(only?: string, reporter: StderrReporter = new StderrReporter()): Promise<Command> {
  const program = new Command('reprimage')
    .description(PROGRAM_DESCRIPTION)
    .usage('[options] COMMAND [ARGS…]')
    .version(packageVersion(), '-V, --version', 'print the version and the codec implementations')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError });
  program.hook('preAction', (_program, action) => {
    reporter.configure(outputSettings(action.opts()));
  });
  for (const name of only === undefined ? COMMAND_NAMES : [only]) {
    const define = await COMMAND_LOADERS[name]!();
    program.addCommand(defineCommand(define, reporter));
  }
  return program;
}

function defineCommand(define: (reporter: Reporter) => Command, reporter: Reporter): Command {
  const sub = define(reporter);
  sub.exitOverride().configureOutput({ outputError });
  return addOutputOptions(sub);
}
