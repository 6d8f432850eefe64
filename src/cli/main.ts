#!/usr/bin/env node
/**
 * The `reprimage` command. Parsing and printing only; the work is done by the library.
 * Exit codes: 0 success (or identical), 1 differences found, 2 bad usage or bad input,
 * 70 internal error, 128+N killed by signal N (process-end.ts, docs/errors.md).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT_OK, finish, ownProcess, reportError, stackWanted } from './process-end.js';
import { packCommand } from './pack.js';
import { lsCommand } from './ls.js';
import { diffCommand } from './diff.js';
import { normalizeCommand } from './normalize.js';
import { poChangedCommand } from './po-changed.js';
import { iukApplyCommand, iukCommand } from './iuk.js';
import { checkCommand } from './check.js';
import { diskCommand } from './disk.js';
import { stderrReporter } from './reporter.js';
import { lockCommand } from './lock.js';
import { buildCommand } from './build.js';
import { rebuildCommand } from './rebuild.js';

export { EXIT_OK, EXIT_USAGE_OR_INPUT } from './process-end.js';

/** The version in reprimage's package.json, found by walking up from this compiled file. */
function packageVersion(): string {
  for (let up = '../'; up.length < 30; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'reprimage') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

async function versionText(): Promise<string> {
  const { codecVersions } = await import('../compress/registry.js');
  const lines = [`reprimage ${packageVersion()} (Node.js ${process.versions.node})`, 'codecs used to write:'];
  for (const { codec, implementation } of codecVersions()) lines.push(`  ${codec}: ${implementation}`);
  return lines.join('\n');
}

export function buildProgram(version: string): Command {
  const quiet = process.argv.includes('--quiet') || process.argv.includes('-q');
  const reporter = stderrReporter(quiet);
  const program = new Command('reprimage')
    .description('Build Linux system images bit for bit reproducibly, prove it, and explain differences.')
    .option('-q, --quiet', 'do not print warnings')
    .version(version, '-V, --version', 'print the version and the codec implementations')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      outputError: (message, write) => write(`reprimage: ${message.replace(/^error: /, '').trimEnd()}\n`),
    });
  for (const sub of [packCommand(reporter), lsCommand(reporter), diffCommand(reporter), normalizeCommand(reporter), poChangedCommand(reporter), iukCommand(reporter), iukApplyCommand(reporter), checkCommand(reporter), diskCommand(reporter), lockCommand(reporter), buildCommand(reporter), rebuildCommand(reporter)]) {
    sub.exitOverride().configureOutput({
      outputError: (message, write) => write(`reprimage ${sub.name()}: ${message.replace(/^error: /, '').trimEnd()}\n`),
    });
    if (!sub.options.some((o) => o.long === '--quiet')) sub.option('-q, --quiet', 'do not print warnings');
    program.addCommand(sub);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    // the codec list loads every codec module: build it only when it is asked for
    const wantsVersion = argv.includes('--version') || argv.includes('-V');
    await buildProgram(wantsVersion ? await versionText() : packageVersion()).parseAsync(argv);
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
