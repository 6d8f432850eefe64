/**
 * `reprimage check [options] -- CMD ARGS…`: build twice under varied environments and compare the
 * artifacts (exit 0 reproducible, 1 not, 2 error). `reprimage check RECIPE` builds a recipe
 * twice (src/check/plan.ts, planFromRecipe).
 */
import { Command } from 'commander';
import { ReprimageError } from '../errors.js';
import { parseIntOption } from './pack.js';
import type { Reporter } from './reporter.js';
import { interruption } from './process-end.js';

interface CheckOptionValues {
  artifact: string[];
  source?: string;
  bisect?: boolean;
  only?: string;
  skip?: string;
  json?: boolean;
  workDir?: string;
  keep?: boolean;
  timeout: string;
  maxReportSize?: string;
  progress: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function checkCommand(reporter: Reporter): Command {
  return new Command('check')
    .description('build twice, the second time under varied environments, and compare the artifacts (exit 0 reproducible, 1 not, 2 error)')
    .usage('[options] -- CMD [ARGS…]   or   check [options] RECIPE')
    .argument('[command...]', 'after --: the build command, run in a fresh build directory; {workers} and {build} are replaced')
    .option('--artifact <path>', 'an artifact the command makes, relative to the build directory (repeatable)', collect, [] as string[])
    .option('--source <dir>', 'a directory copied into each fresh build directory before the command runs')
    .option('--bisect', 'when the artifacts differ, rebuild with subsets of the variations to find the cause')
    .option('--only <list>', 'vary only these (comma-separated ids; see docs/check.md)')
    .option('--skip <list>', 'do not vary these')
    .option('--json', 'print the report as JSON (schema reprimage-check/1, docs/json.md)')
    .option('--work-dir <dir>', 'where the builds run (default: a new temporary directory)')
    .option('--keep', 'keep the work directory (logs, artifacts of every build) and say where it is')
    .option('--timeout <seconds>', 'stop a build that runs longer', '3600')
    .option('--max-report-size <bytes>', 'cut each difference report at this size', '200000')
    .option('--no-progress', 'do not print which build is running (printed on a terminal, or with --verbose)')
    .action(async (positional: string[], values: CheckOptionValues) => {
      const dashdash = process.argv.indexOf('--');
      const { planFromCommand, planFromRecipe } = await import('../check/plan.js');
      const { runCheck } = await import('../check/check.js');
      const { parseVariationList } = await import('../check/variations.js');
      const { renderCheckJson, renderCheckText } = await import('../check/report.js');
      let command = [...positional];
      const artifacts = [...values.artifact];
      // docs/check.md also allows `check -- CMD … --artifact PATH`: trailing --artifact pairs are check's
      while (command.length >= 3 && command[command.length - 2] === '--artifact') {
        artifacts.unshift(command[command.length - 1]!);
        command = command.slice(0, -2);
      }
      let plan;
      if (dashdash === -1) {
        if (command.length !== 1) throw new ReprimageError('USAGE', 'check', 'give a recipe, or a command after -- (reprimage check --artifact PATH -- CMD ARGS…)');
        const { defaultCacheDir } = await import('../recipe/cache.js');
        plan = await planFromRecipe(command[0]!, defaultCacheDir(process.env));
      } else {
        plan = planFromCommand(command, artifacts, values.source);
      }
      const report = await runCheck(plan, {
        bisect: values.bisect ?? false,
        only: values.only === undefined ? undefined : parseVariationList(values.only, '--only'),
        exclude: values.skip === undefined ? undefined : parseVariationList(values.skip, '--skip'),
        workDir: values.workDir,
        keep: values.keep ?? false,
        timeoutSeconds: parseIntOption(values.timeout, '--timeout', 1, 7 * 86400),
        progress: (m) => reporter.status(`check: ${m}`),
        warn: (m) => reporter.warn(m),
        signal: interruption(),
      });
      const maxReportSize = values.maxReportSize === undefined ? undefined : parseIntOption(values.maxReportSize, '--max-report-size', 1, Number.MAX_SAFE_INTEGER);
      process.stdout.write(values.json ? renderCheckJson(report) : renderCheckText(report, { maxReportSize }));
      if (report.workDir !== undefined) reporter.info(`work directory kept: ${report.workDir}`);
      process.exitCode = report.reproducible ? 0 : 1;
    });
}
