/**
 * `reprimage iuk OLD NEW -o KIT`: an incremental upgrade kit from two builds.
 * `reprimage iuk-apply OLD KIT [--expect NEW]`: stack the kit onto OLD in memory and, with
 * --expect, tell whether the result equals NEW (exit 0 equal, 1 different, 2 error).
 */
import { Command } from 'commander';
import type { Difference } from '../diff/difference.js';
import type { KitReport } from '../iuk/kit.js';
import { ReprimageError } from '../errors.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';
import { WHITEOUT_STYLES, type WhiteoutStyle } from '../iuk/whiteouts.js';
import { parseIntOption } from './pack.js';
import type { Reporter } from './reporter.js';
import { interruption } from './process-end.js';

interface IukOptionValues {
  output: string;
  name: string;
  whiteouts: string;
  comp: string;
  workers?: string;
  sourceDateEpoch?: string;
  squashfsPath?: string;
  json?: boolean;
}

export function iukCommand(reporter: Reporter): Command {
  return new Command('iuk')
    .description('write an incremental upgrade kit that turns build OLD into build NEW (live ISOs, root file systems, or the manifest.json of reprimage build; docs/iuk.md)')
    .argument('<old>', 'the old build: a live ISO image, a SquashFS image, a directory or an archive')
    .argument('<new>', 'the new build, of the same kind')
    .requiredOption('-o, --output <kit>', 'the kit to write (a tar archive)')
    .option('--name <name>', 'the delta is live/<name>.squashfs', 'upgrade')
    .option('--whiteouts <overlay|aufs>', 'how removed entries are marked in the delta', 'overlay')
    .option('--comp <gzip|xz|zstd|lz4>', "the delta's SquashFS compressor", 'xz')
    .option('--workers <n>', 'compression workers (never changes the output bytes)')
    .option('--source-date-epoch <seconds>', 'times are clamped to it (default: $SOURCE_DATE_EPOCH, else the newest mtime of NEW)')
    .option('--squashfs-path <path>', 'where the root file system sits in an ISO build', 'live/filesystem.squashfs')
    .option('--json', 'print a JSON summary of the kit')
    .action(async (oldPath: string, newPath: string, values: IukOptionValues) => {
      const whiteouts = parseWhiteouts(values.whiteouts);
      const compressor = await parseCompressor(values.comp);
      const workers = values.workers === undefined ? undefined : parseIntOption(values.workers, '--workers', 1, 256);
      const { makeKit } = await import('../iuk/kit.js');
      // --source-date-epoch, else $SOURCE_DATE_EPOCH; with neither, makeKit takes the newest mtime of NEW
      const env = process.env.SOURCE_DATE_EPOCH;
      const { resolveSourceDateEpoch } = await import('../tree/policy.js');
      const buildTime = values.sourceDateEpoch !== undefined || (env !== undefined && env !== '') ? resolveSourceDateEpoch({ option: values.sourceDateEpoch, env, warn: () => undefined }) : undefined;
      const bar = reporter.progress('iuk');
      let report: KitReport | undefined;
      try {
        report = await makeKit(oldPath, newPath, values.output, {
          name: values.name,
          whiteouts,
          compressor,
          workers,
          buildTime,
          squashfsPath: values.squashfsPath,
          signal: interruption(),
          warn: (m) => reporter.warn(m),
          onProgress: reporter.animates ? (done, total) => bar.update(done, total) : undefined,
        });
      } finally {
        bar.end(report !== undefined);
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const r = report.root;
      reporter.info(
        `${values.output}: ${report.kitBytes} bytes; root file system: ${r.added} added, ${r.changed} changed, ${r.removed} removed, ${r.replaced} directories replaced` +
          (report.system ? `; medium: ${report.system.updated} updated, ${report.system.deleted} deleted` : ''),
      );
    });
}

interface IukApplyOptionValues {
  expect?: string;
  squashfsPath?: string;
  json?: boolean;
  verbose?: boolean;
}

export function iukApplyCommand(reporter: Reporter): Command {
  return new Command('iuk-apply')
    .description('stack an upgrade kit onto OLD in memory; with --expect NEW, exit 0 if the result equals NEW, 1 if not')
    .argument('<old>', 'the build the kit upgrades')
    .argument('<kit>', 'the kit (made by reprimage iuk)')
    .option('--expect <new>', 'the build the result must equal')
    .option('--squashfs-path <path>', 'where the root file system sits in an ISO build', 'live/filesystem.squashfs')
    .option('--json', 'print a JSON report')
    .option('-v, --verbose', 'with --expect: print the whole difference report, not only the paths')
    .action(async (oldPath: string, kitPath: string, values: IukApplyOptionValues) => {
      const warn = (m: string) => reporter.warn(m);
      const { openBuild } = await import('../iuk/open-build.js');
      const { openKit, applyKit, kitManagedPaths } = await import('../iuk/kit.js');
      const { compareTrees, differingPaths } = await import('../iuk/compare-trees.js');
      const { renderText } = await import('../diff/presenters/text.js');
      const oldBuild = await openBuild(oldPath, { squashfsPath: values.squashfsPath, warn });
      try {
        const kit = await openKit(kitPath, { warn });
        try {
          const applied = applyKit(oldBuild, kit);
          if (values.expect === undefined) {
            const summary = { old: oldPath, kit: kitPath, layout: kit.control.layout, whiteouts: kit.control.whiteouts, deleteFiles: kit.control.deleteFiles.length, applied: true };
            process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${kitPath}: applies to ${oldPath} (${kit.control.layout}, ${kit.control.whiteouts} whiteouts)\n`);
            return;
          }
          const newBuild = await openBuild(values.expect, { squashfsPath: values.squashfsPath, warn });
          try {
            const label = `${oldPath}+${kitPath}`;
            const differences: Array<{ area: string; d: Difference }> = [];
            const root = await compareTrees({ name: `${label} ▸ root`, tree: applied.root }, { name: `${values.expect} ▸ root`, tree: newBuild.root }, { warn });
            if (root) differences.push({ area: 'root', d: root });
            if (applied.system && newBuild.system) {
              for (const p of kitManagedPaths(kit.control)) {
                applied.system.remove(p);
                newBuild.system.remove(p);
              }
              const medium = await compareTrees({ name: `${label} ▸ medium`, tree: applied.system }, { name: `${values.expect} ▸ medium`, tree: newBuild.system }, { warn });
              if (medium) differences.push({ area: 'medium', d: medium });
            } else if (newBuild.system) {
              throw new ReprimageError('USAGE', values.expect, 'is a live ISO image, but the kit upgrades a root file system');
            }
            const paths = differences.flatMap(({ area, d }) => differingPaths(d).map((p) => `${area}: ${p}`));
            if (values.json) {
              process.stdout.write(`${JSON.stringify({ old: oldPath, kit: kitPath, expect: values.expect, equal: differences.length === 0, differing: paths })}\n`);
            } else if (differences.length > 0) {
              process.stdout.write(`${label} differs from ${values.expect}:\n${paths.map((p) => `  ${p}\n`).join('')}`);
              if (values.verbose) for (const { d } of differences) process.stdout.write(renderText(d));
            } else {
              process.stdout.write(`${label} equals ${values.expect}\n`);
            }
            process.exitCode = differences.length === 0 ? 0 : 1;
          } finally {
            await newBuild.close();
          }
        } finally {
          await kit.close();
        }
      } finally {
        await oldBuild.close();
      }
    });
}

function parseWhiteouts(value: string): WhiteoutStyle {
  if ((WHITEOUT_STYLES as readonly string[]).includes(value)) return value as WhiteoutStyle;
  throw new ReprimageError('USAGE', '--whiteouts', `expected overlay or aufs, got '${value}'`);
}

/** Loads the codec list only here: it brings in every codec, which other commands need not pay for. */
async function parseCompressor(value: string): Promise<SquashfsCompressorName> {
  const { SQUASHFS_COMPRESSORS } = await import('../compress/squashfs-codecs.js');
  if ((SQUASHFS_COMPRESSORS as readonly string[]).includes(value)) return value as SquashfsCompressorName;
  throw new ReprimageError('USAGE', '--comp', `expected ${SQUASHFS_COMPRESSORS.join(', ')}, got '${value}'`);
}
