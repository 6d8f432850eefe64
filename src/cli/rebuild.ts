/**
 * `reprimage rebuild PUBLISHED -o DIR`: verify a published image by rebuilding it from its
 * manifest (docs/rebuild.md). Prints the verdict first — `reproduced`, `differs` (then the diff
 * report), or `cannot rebuild` (then the reason, on the same line) — and exits 0, 1 or 2.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parseIntOption } from './pack.js';
import { interruption } from './process-end.js';
import type { Reporter } from './reporter.js';

interface RebuildOptionValues {
  output: string;
  manifest?: string;
  rebuilt?: string;
  recipe?: string;
  inputs?: string;
  cache?: string;
  allowToolVersions?: boolean;
  workers?: string;
  verbose?: boolean;
  json?: boolean;
}

export function rebuildCommand(reporter: Reporter): Command {
  return new Command('rebuild')
    .description('rebuild a published image from its manifest and compare (exit 0 reproduced, 1 differs, 2 cannot rebuild or bad input)')
    .argument('<published>', 'the published image (path or http(s) URL), its manifest.json, or the release directory holding both')
    .requiredOption('-o, --output <dir>', 'work directory: downloads, the rebuild, diff.txt/diff.json, rebuild.json, rebuild.intoto.json')
    .option('--manifest <manifest>', 'the build manifest (path or URL), when it is not beside the image')
    .option('--rebuilt <file>', 'compare with this image, rebuilt before, instead of building again')
    .option('--recipe <dir>', "a directory with the recipe and its inputs (a checkout of the release), instead of the manifest's inputs bundle")
    .option('--inputs <bundle>', 'the inputs bundle (path or URL), when it is not beside the manifest')
    .option('--cache <dir>', 'download cache (default: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage)')
    .option('--allow-tool-versions', 'rebuild with other versions of mmdebstrap, apt and dpkg than the recorded ones (noted in the report)')
    .option('--workers <n>', 'parallel workers (never changes the output bytes)')
    .option('-v, --verbose', "show the build's progress")
    .option('--json', 'print the report (rebuild.json) instead of the text')
    .action(async (published: string, values: RebuildOptionValues) => {
      const workers = values.workers === undefined ? undefined : parseIntOption(values.workers, '--workers', 1, 256);
      const { defaultCacheDir } = await import('../recipe/cache.js');
      const { rebuildPublished } = await import('../rebuild/rebuild.js');
      const { VERDICT_EXIT, verdictLine } = await import('../rebuild/verdict.js');
      const report = await rebuildPublished(published, {
        workDir: values.output,
        manifest: values.manifest,
        rebuilt: values.rebuilt,
        recipeDir: values.recipe,
        inputs: values.inputs,
        cacheDir: values.cache ?? defaultCacheDir(process.env),
        allowToolVersions: values.allowToolVersions ?? false,
        workers,
        environment: process.env,
        warn: (m) => reporter.warn(m),
        log: values.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
        signal: interruption(),
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        const detail =
          report.verdict === 'cannot rebuild'
            ? report.reason!
            : report.verdict === 'reproduced'
              ? `sha256 ${report.rebuilt!.sha256}`
              : `sha256 ${report.published.sha256} published, ${report.rebuilt!.sha256} rebuilt; ${report.differences!.length} difference${report.differences!.length === 1 ? '' : 's'}: ${report.differences!.join(', ')}`;
        const lines = [verdictLine(report.verdict, report.image, detail)];
        for (const note of report.notes) lines.push(`note: ${note}`);
        process.stdout.write(`${lines.join('\n')}\n`);
        if (report.verdict === 'differs' && report.files.diff_text) process.stdout.write(await readFile(report.files.diff_text, 'utf8'));
      }
      process.exitCode = VERDICT_EXIT[report.verdict];
    });
}
