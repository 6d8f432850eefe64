/** `reprimage normalize PATH…`: strip nondeterminism from build artifacts in place. */
import { Command } from 'commander';
import { HANDLER_IDS } from '../normalize/handler.js';
import type { Reporter } from './reporter.js';
import { runNormalize, type NormalizeOptionValues } from './normalize-run.js';

export { EXIT_WOULD_CHANGE, parseTimestamp } from './normalize-run.js';

// The handler list of `normalize --help` loads every normalizer: only when help is asked for
const wantsHelp = ['--help', '-h', 'help'].some((a) => process.argv.includes(a));
const registry = wantsHelp ? await import('../normalize/registry.js') : undefined;

export function normalizeCommand(reporter: Reporter): Command {
  return new Command('normalize')
    .description('strip nondeterminism (times, owners, order, build dates) from build artifacts in place')
    .argument('<paths...>', 'files and directories (directories are walked; symbolic links inside them are skipped)')
    .option('--timestamp <seconds>', 'the reference time (default: $SOURCE_DATE_EPOCH)')
    .option('--no-clamp', 'set every time to --timestamp (as strip-nondeterminism does) instead of only lowering later ones')
    .option('--type <type>', `use this handler for every file instead of detecting by content (${HANDLER_IDS.join(', ')})`)
    .option('--check', 'change nothing; list the files that would change and exit 1 if there are any')
    .option('--json', 'print a JSON report of every file (schema reprimage-normalize/1, docs/json.md)')
    .option('--workers <n>', 'parallel workers (never changes the output bytes)')
    .option('-v, --verbose', 'print every file that is changed')
    .addHelpText('after', `\nHandlers:\n${registry ? registry.NORMALIZERS.map((n) => `  ${n.id.padEnd(15)} ${n.description}`).join('\n') : `  ${HANDLER_IDS.join(', ')}`}\n`)
    .action((paths: string[], values: NormalizeOptionValues) => runNormalize(paths, values, reporter));
}
