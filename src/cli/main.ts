#!/usr/bin/env node
/**
 * The `reprimage` command. Parsing and printing only; the work is done by the library.
 * Exit codes: 0 success (or identical), 1 differences found, 2 bad usage or bad input,
 * 70 internal error, 128+N killed by signal N (process-end.ts, docs/errors.md).
 *
 * Start-up is paid by every call (a build system may run `reprimage normalize` once per
 * package), so only the module of the command named is loaded (commands.ts); `--version`
 * loads no command at all.
 */
import { EXIT_OK, EXIT_USAGE_OR_INPUT, finish, ownProcess, reportError, stackWanted } from './process-end.js';
import { commandNamed, packageVersion } from './commands.js';

export { EXIT_OK, EXIT_USAGE_OR_INPUT } from './process-end.js';

async function versionText(): Promise<string> {
  const { codecVersions } = await import('../compress/registry.js');
  const lines = [`reprimage ${packageVersion()} (Node.js ${process.versions.node})`, 'codecs used to write:'];
  for (const { codec, implementation } of codecVersions()) lines.push(`  ${codec}: ${implementation}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = argv.slice(2);
    if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
      process.stdout.write(`${await versionText()}\n`);
      return EXIT_OK;
    }
    const { buildProgram } = await import('./program.js');
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

// signals, uncaught errors and exit remove temporary files; installed before any work starts
ownProcess(process.argv);
// A closed pipe (`reprimage ls IMG | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT_OK);
  throw e;
});
await finish(await main(process.argv));
