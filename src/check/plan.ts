/**
 * What `reprimage check` builds twice: a command with its artifacts. Two sources of plans:
 * `reprimage check -- CMD ARGS…` (planFromCommand) and `reprimage check RECIPE`
 * (planFromRecipe, from the recipe module); the runner does not know which.
 */
import { resolve } from 'node:path';
import { ReprimageError } from '../errors.js';

export interface BuildPlan {
  /** What the report calls the build (`the command \`make dist\``, `recipe examples/x`). */
  title: string;
  /**
   * The program and its arguments, run in the fresh build directory. `{workers}` in an argument
   * is replaced by the worker count of the run; `{build}` by the build directory.
   */
  command: string[];
  /** Paths of the artifacts, relative to the build directory (files or directories). */
  artifacts: string[];
  /**
   * Files copied out beside the artifacts when the build made them, but not compared: for a
   * recipe, the manifest (whose `run` part differs by design) and the inputs bundle, so that the
   * control build kept by `--keep` is a whole release (docs/rebuild.md).
   */
  kept?: string[];
  /** A directory copied into each fresh build directory before the command runs. */
  source?: string;
}

export function planFromCommand(command: string[], artifacts: string[], source?: string): BuildPlan {
  if (command.length === 0) throw new ReprimageError('USAGE', 'check', 'no command given after --');
  if (artifacts.length === 0) throw new ReprimageError('USAGE', '--artifact', 'name at least one artifact the command makes (--artifact PATH)');
  for (const a of artifacts) {
    if (a.startsWith('/') || a.split('/').includes('..')) throw new ReprimageError('USAGE', '--artifact', `${a}: a path inside the build directory is needed`);
  }
  return { title: `the command \`${command.map(shellQuote).join(' ')}\``, command, artifacts, source: source === undefined ? undefined : resolve(source) };
}

/**
 * `reprimage check RECIPE`: the recipe module says what to build twice (src/recipe/check-plan.ts:
 * `reprimage build` of the recipe in a copy of its directory, `{workers}` varied, a shared
 * package cache, the recipe's outputs as artifacts). Loaded on demand: the recipe code is large.
 */
export async function planFromRecipe(recipe: string, cacheDir: string): Promise<BuildPlan> {
  const { recipeCheckPlan } = await import('../recipe/check-plan.js');
  const plan = recipeCheckPlan(recipe, cacheDir);
  if (plan.artifacts.length === 0) throw new ReprimageError('USAGE', recipe, 'the recipe declares no outputs to compare');
  return { title: plan.title, command: plan.command, artifacts: plan.artifacts, kept: plan.kept, source: plan.source };
}

/** An argument as a POSIX shell would need it written, for the report. */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./{}-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
