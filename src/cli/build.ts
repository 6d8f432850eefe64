/** `reprimage build RECIPE -o DIR`: the recipe's outputs and manifest.json, from its lock. */
import { join } from 'node:path';
import { Command } from 'commander';
import { parseIntOption } from './pack.js';
import type { Reporter } from './reporter.js';
import { interruption } from './process-end.js';

interface BuildOptionValues {
  output: string;
  cache?: string;
  updateLock?: boolean;
  provenance?: boolean;
  sourceDateEpoch?: string;
  workers?: string;
  blockCache?: string;
  verbose?: boolean;
  json?: boolean;
}

export function buildCommand(reporter: Reporter): Command {
  return new Command('build')
    .description('build a recipe: verify its locked inputs, make the root tree with mmdebstrap, write the outputs and manifest.json')
    .argument('<recipe>', 'a recipe (YAML, docs/recipe.md) with its RECIPE.lock beside it')
    .requiredOption('-o, --output <dir>', 'directory for the outputs and manifest.json')
    .option('--cache <dir>', 'download cache (default: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage)')
    .option('--update-lock', 'lock the recipe first when it has no lock file or the lock is out of date')
    .option('--provenance', 'also write provenance.intoto.json (in-toto statement, SLSA provenance predicate)')
    .option('--source-date-epoch <seconds>', 'override the recipe\'s source_date_epoch')
    .option('--workers <n>', 'parallel workers (never changes the output bytes)')
    .option('--block-cache <dir>', 'reuse compressed SquashFS blocks stored in DIR and store new ones (never changes the output bytes; off by default)')
    .option('-v, --verbose', "show mmdebstrap's progress")
    .option('--json', 'print the manifest on standard output')
    .action(async (recipe: string, values: BuildOptionValues) => {
      if (values.workers !== undefined) parseIntOption(values.workers, '--workers', 1, 256);
      // loaded here, not at start-up: the recipe code pulls in openpgp, zod and yaml
      const { defaultCacheDir } = await import('../recipe/cache.js');
      const { buildRecipe } = await import('../recipe/build.js');
      const { resolveSourceDateEpoch } = await import('../tree/policy.js');
      const { manifest } = await buildRecipe(recipe, {
        outDir: values.output,
        cacheDir: values.cache ?? defaultCacheDir(process.env),
        updateLock: values.updateLock ?? false,
        provenance: values.provenance ?? false,
        buildTime: values.sourceDateEpoch === undefined ? undefined : resolveSourceDateEpoch({ option: values.sourceDateEpoch, warn: () => undefined }),
        environment: process.env,
        workers: values.workers === undefined ? undefined : parseIntOption(values.workers, '--workers', 1, 256),
        blockCache: values.blockCache,
        warn: (m) => reporter.warn(m),
        log: values.verbose ? (line) => reporter.detail(line) : undefined,
        onStage: (name, ms, detail) => reporter.stage(name, ms, detail),
        signal: interruption(),
      });
      if (values.json) process.stdout.write(`${JSON.stringify(manifest)}\n`);
      else for (const o of manifest.reproducible.outputs) reporter.info(`${join(values.output, o.path)}: ${o.size} bytes, sha256 ${o.sha256}`);
    });
}
