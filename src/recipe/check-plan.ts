/**
 * What `reprimage check RECIPE` builds twice, for src/check's `planFromRecipe`: `reprimage build`
 * of the recipe in a fresh copy of its directory, with the worker count the check varies, and the
 * recipe's outputs as the artifacts to compare. manifest.json is not one of them: its `run` part
 * (timings) differs by design; its reproducible part is a function of the outputs compared. It
 * and the inputs bundle are kept beside the artifacts, so `check --keep` leaves a whole release.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromSystemError } from '../errors.js';
import { parseRecipe } from './recipe.js';
import { outputPath } from './schema.js';
import { INPUTS_BUNDLE } from './inputs-bundle.js';

export interface RecipeCheckPlan {
  title: string;
  command: string[];
  artifacts: string[];
  /** Kept beside the artifacts, not compared: with them, the control build is a whole release. */
  kept: string[];
  source: string;
}

/** The plan for `recipeFile`; `cacheDir` is shared by both builds (the caller fixes it now, so a varied HOME does not move it). */
export function recipeCheckPlan(recipeFile: string, cacheDir: string): RecipeCheckPlan {
  let text: string;
  try {
    text = readFileSync(recipeFile, 'utf8');
  } catch (e) {
    throw fromSystemError(e, recipeFile);
  }
  const recipe = parseRecipe(text, recipeFile);
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  return {
    title: `recipe ${recipeFile}`,
    command: [process.execPath, cli, 'build', basename(recipeFile), '-o', 'out', '--workers', '{workers}', '--cache', resolve(cacheDir), '--quiet'],
    artifacts: recipe.outputs.map((o) => `out/${outputPath(o)}`),
    kept: ['out/manifest.json', `out/${INPUTS_BUNDLE}`],
    source: dirname(resolve(recipeFile)),
  };
}
