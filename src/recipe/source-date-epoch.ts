/**
 * SOURCE_DATE_EPOCH of a recipe build, in this order: the caller's build time (the CLI's --source-date-epoch), the
 * recipe's `source_date_epoch`, the SOURCE_DATE_EPOCH variable, the commit time of the Git
 * repository holding the recipe (as Tails does). With none of these the build refuses: a root
 * file system must never take its times from the clock.
 */
import { spawnSync } from 'node:child_process';
import { ReprimageError } from '../errors.js';
import { resolveSourceDateEpoch } from '../tree/policy.js';
import type { Recipe } from './recipe.js';

export function recipeSourceDateEpoch(recipe: Recipe, buildTime: number | undefined, env: string | undefined): { value: number; from: string } {
  if (buildTime !== undefined) {
    if (!Number.isSafeInteger(buildTime) || buildTime < 0) throw new ReprimageError('USAGE', 'buildTime', `must be a non-negative whole number of seconds since 1970, got ${buildTime}`);
    return { value: buildTime, from: '--source-date-epoch' };
  }
  if (recipe.source_date_epoch !== undefined) return { value: recipe.source_date_epoch, from: 'recipe' };
  if (env !== undefined && env !== '') return { value: resolveSourceDateEpoch({ env, warn: () => undefined }), from: 'SOURCE_DATE_EPOCH' };
  const git = spawnSync('git', ['-C', recipe.dir, 'log', '-1', '--format=%ct'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  const t = git.status === 0 ? git.stdout.trim() : '';
  if (/^\d+$/.test(t)) return { value: Number(t), from: 'git commit time' };
  throw new ReprimageError('USAGE', recipe.file, 'no source_date_epoch: set it in the recipe or in SOURCE_DATE_EPOCH, or keep the recipe in a Git repository (its commit time is used)');
}
