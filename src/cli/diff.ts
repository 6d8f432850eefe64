/**
 * `reprimage diff A B`: recursive, format-aware comparison of two files or directories.
 *
 * Exit status: the action sets `process.exitCode` to 1 when differences were found and to 0
 * when the inputs are the same; errors in the arguments throw a ReprimageError (exit 2 through
 * main.ts). Reports go to standard output (text by default) or to the files named.
 */
import { Command } from 'commander';
import { ReprimageError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import type { DiffOptions } from '../diff/engine.js';
import type { Difference } from '../diff/difference.js';
import type { Reporter } from './reporter.js';
import { STDIN_NAME, withInputPath } from './stdin-input.js';
import { interruption } from './process-end.js';

/** The exit status `reprimage diff` leaves in process.exitCode when the inputs differ. */
export const EXIT_DIFFERENT = 1;

interface DiffOptionValues {
  exclude: string[];
  excludeMetadata?: string;
  maxReportSize?: string;
  maxDiffLines: string;
  text?: string;
  json?: string;
  markdown?: string;
  html?: string;
  htmlDir?: string;
  color: string;
  progress: boolean;
}

export function diffCommand(reporter: Reporter): Command {
  return new Command('diff')
    .description('compare two files or directories, recursively inside archives and images (exit 0 same, 1 different, 2 error)')
    .argument('<a>', "a file (image, archive, any file) or a directory; '-' for standard input")
    .argument('<b>', "the file or directory to compare it with; '-' for standard input")
    .option('--exclude <glob>', 'leave out members whose path matches (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--exclude-metadata <list>', 'metadata not compared, comma-separated: type,mode,owner,mtime,xattrs,target,device,size,links,format')
    .option('--max-report-size <bytes>', 'cut text, Markdown and HTML reports at this size')
    .option('--max-diff-lines <n>', 'lines kept per unified diff', '256')
    .option('--text <file>', "text report to FILE ('-' for standard output, the default when no report is named)")
    .option('--json <file>', "JSON report in diffoscope's structure (docs/diff.md); '-' for standard output")
    .option('--markdown <file>', "Markdown report; '-' for standard output")
    .option('--html <file>', "one self-contained HTML page with a collapsible tree of differences; '-' for standard output")
    .option('--html-dir <dir>', 'HTML report split into pages loaded on demand, for large reports')
    .option('--color <when>', 'colour the text report and messages: auto (on a terminal, unless NO_COLOR is set), always, never', 'auto')
    .action(async (a: string, b: string, values: DiffOptionValues) => {
      if (a === STDIN_NAME && b === STDIN_NAME) throw new ReprimageError('USAGE', STDIN_NAME, 'standard input can be only one of the two sides');
      const limits = {
        maxDiffLines: parseCount(values.maxDiffLines, '--max-diff-lines'),
        maxReportSize: values.maxReportSize === undefined ? undefined : parseCount(values.maxReportSize, '--max-report-size'),
      };
      // standard input is spooled to a temporary file (sizes come first, and every format's reader
      // needs random access); the report still names it `-`
      await withInputPath(a, (pathA) => withInputPath(b, (pathB) => compare(reporter, [pathA, pathB], [a, b], values, limits)));
    });
}

/** The comparison and its reports; `paths` are read, `labels` are the names the user gave. */
async function compare(
  reporter: Reporter,
  paths: [string, string],
  labels: [string, string],
  values: DiffOptionValues,
  { maxDiffLines, maxReportSize }: { maxDiffLines: number; maxReportSize: number | undefined },
): Promise<void> {
  const [a, b] = paths;
  // the engine and its comparators load here, so that other commands do not pay for them
  const { diffPaths } = await import('../diff/engine.js');
  const { parseMetadataClasses } = await import('../diff/metadata.js');
  const bar = reporter.progress('diff');
  let compared = 0;
  const options: DiffOptions = {
    exclude: values.exclude,
    excludeMetadata: values.excludeMetadata === undefined ? undefined : parseMetadataClasses(values.excludeMetadata),
    maxDiffLines,
    labels,
    signal: interruption(),
    warn: (m) => reporter.warn(m),
    onProgress: reporter.animates ? (path) => bar.update({ entries: ++compared, bytes: 0 }, undefined, path) : undefined,
  };
  let difference: Difference | undefined;
  // a damaged VM image given as an argument is an error (exit 2), not a difference
  const { checkVmImageArgument } = await import('../image/vm-disk.js');
  for (const p of [a, b]) await checkVmImageArgument(p);
  try {
    difference = await diffPaths(a, b, options);
  } finally {
    bar.end(false); // the report follows: no bar above it
  }
  const outputs = [values.text, values.json, values.markdown, values.html, values.htmlDir].filter((v) => v !== undefined);
  const text = values.text ?? (outputs.length === 0 ? '-' : undefined);
  if (difference) {
    const { renderText } = await import('../diff/presenters/text.js');
    const { renderJson } = await import('../diff/presenters/json.js');
    const { renderMarkdown } = await import('../diff/presenters/markdown.js');
    const { renderHtml, writeHtmlDir } = await import('../diff/presenters/html.js');
    if (text !== undefined) {
      const color = reporter.colorFor(text === '-' ? process.stdout : {});
      await emit(text, renderText(difference, { color, maxReportSize }));
    }
    if (values.json !== undefined) await emit(values.json, renderJson(difference));
    if (values.markdown !== undefined) await emit(values.markdown, renderMarkdown(difference, { maxReportSize }));
    if (values.html !== undefined) await emit(values.html, renderHtml(difference, { maxReportSize }));
    if (values.htmlDir !== undefined) await writeHtmlDir(difference, values.htmlDir, { maxReportSize });
  }
  // identical: every report stays empty, as diffoscope's do (the exit status says it)
  process.exitCode = difference ? EXIT_DIFFERENT : 0;
}

/** Writes to standard output for `-`, else atomically to the file named. */
async function emit(target: string, text: string): Promise<void> {
  if (target === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
    return;
  }
  await writeAtomically(target, async (sink) => {
    await sink.write(Buffer.from(text, 'utf8'));
  });
}

function parseCount(value: string, option: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new ReprimageError('USAGE', option, `expected a whole number of at least 1, got '${value}'`);
  return n;
}
