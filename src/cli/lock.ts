/** `reprimage lock RECIPE`: resolve the recipe's packages now and pin them in `<recipe>.lock`. */
import { Command } from 'commander';
import type { Reporter } from './reporter.js';
import { interruption } from './process-end.js';

export function lockCommand(reporter: Reporter): Command {
  return new Command('lock')
    .description('pin the InRelease files and every package of a recipe in RECIPE.lock (verified first)')
    .argument('<recipe>', 'a recipe (YAML, docs/recipe.md)')
    .option('--cache <dir>', 'download cache (default: $XDG_CACHE_HOME/reprimage or ~/.cache/reprimage)')
    .option('--json', 'print a JSON summary')
    .action(async (recipe: string, values: { cache?: string; json?: boolean }) => {
      // loaded here, not at start-up: the recipe code pulls in openpgp, zod and yaml
      const { defaultCacheDir } = await import('../recipe/cache.js');
      const { lockRecipe } = await import('../recipe/build.js');
      const { lockFile, lock } = await lockRecipe(recipe, { cacheDir: values.cache ?? defaultCacheDir(process.env), signal: interruption() });
      if (values.json) process.stdout.write(`${JSON.stringify({ lock: lockFile, packages: lock.packages.length, sources: lock.sources.map((s) => ({ uri: s.uri, suite: s.suite, in_release_sha256: s.in_release.sha256 })) })}\n`);
      else reporter.info(`${lockFile}: ${lock.packages.length} packages locked`);
    });
}
