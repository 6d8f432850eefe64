/**
 * Every command line but `--version`: the process's handlers, the normalize lines parsed without
 * commander, and commander for the rest. Exit codes: 0 success (or identical), 1 differences
 * found, 2 bad usage or bad input, 70 internal error, 128+N killed by signal N (process-end.ts,
 * docs/errors.md).
 */
import { EXIT_OK, EXIT_USAGE_OR_INPUT, finish, ownProcess, reportError, stackWanted } from './process-end.js';

export { EXIT_OK, EXIT_USAGE_OR_INPUT } from './process-end.js';

/** Runs a `normalize` line node:util can parse; false (nothing done) for commander to parse it. */
async function normalizeWithoutCommander(args: readonly string[]): Promise<boolean> {
  const { parseNormalizeArgv } = await import('./normalize-argv.js');
  const parsed = parseNormalizeArgv(args);
  if (parsed === undefined) return false;
  const [{ StderrReporter }, { outputSettings }, { runNormalize }] = await Promise.all([import('./reporter.js'), import('./output-settings.js'), import('./normalize-run.js')]);
  const reporter = new StderrReporter();
  reporter.configure(outputSettings(parsed.values));
  await runNormalize(parsed.paths, parsed.values, reporter);
  return true;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = argv.slice(2);
    if (args[0] === 'normalize' && (await normalizeWithoutCommander(args.slice(1)))) {
      return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
    }
    const [{ buildProgram }, { commandNamed }] = await Promise.all([import('./program.js'), import('./commands.js')]);
    const program = await buildProgram(commandNamed(args));
    if (args.length === 0) {
      // as tar and git do: no command is a usage error, with the usage on stderr
      process.stderr.write(program.helpInformation());
      return EXIT_USAGE_OR_INPUT;
    }
    await program.parseAsync(argv);
    // a command that found differences (diff, normalize --check) leaves 1 in process.exitCode
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    return reportError(e, stackWanted(argv));
  }
}

/** Runs a command line to its end: the process exits with its status. */
export async function run(argv: string[]): Promise<never> {
  // signals, uncaught errors and exit remove temporary files; installed before any work starts
  ownProcess(argv);
  return finish(await main(argv));
}
