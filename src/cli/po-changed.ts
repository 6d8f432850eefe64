/** `reprimage po-changed OLD NEW`: exit 1 when two gettext catalogs really differ, 0 when only dates and line references moved. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { fromSystemError } from '../errors.js';
import type { Reporter } from './reporter.js';

export function poChangedCommand(_reporter: Reporter): Command {
  return new Command('po-changed')
    .description('tell whether two .po/.pot files differ in more than POT-Creation-Date and #: line references (exit 1 if they do)')
    .argument('<old>', 'the catalog as it is')
    .argument('<new>', 'the catalog just extracted')
    .option('--ignore-comments', 'ignore every comment line, not only #: references')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'print nothing; only the exit status tells')
    .action(async (oldPath: string, newPath: string, values: { ignoreComments?: boolean; json?: boolean; quiet?: boolean }) => {
      const read = (p: string) => readFile(p).catch((e: unknown) => {
        throw fromSystemError(e, p);
      });
      const [a, b] = await Promise.all([read(oldPath), read(newPath)]);
      const { comparePo } = await import('../normalize/po-changed.js');
      const result = comparePo(a, b, { ignoreAllComments: values.ignoreComments });
      if (values.json) process.stdout.write(`${JSON.stringify({ old: oldPath, new: newPath, ...result })}\n`);
      else if (!values.quiet) {
        process.stdout.write(
          result.changed ? `changed: ${oldPath}:${result.oldLine} differs from ${newPath}:${result.newLine}\n` : `unchanged: ${newPath} differs from ${oldPath} only in dates and line references\n`,
        );
      }
      if (result.changed) process.exitCode = 1;
    });
}
