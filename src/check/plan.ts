/**
 * What `reprimage check` builds twice: a command with its artifacts. The one source of plans
 * today is `reprimage check -- CMD ARGS…`; `reprimage check RECIPE` will add a second one, made
 * from a recipe by the recipe module (src/recipe), without changing the runner: see
 * `planFromRecipe`.
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
  /** A directory copied into each fresh build directory before the command runs. */
  source?: string;
}

export function planFromCommand(command: string[], artifacts: string[], source?: string): BuildPlan {
  if (command.length === 0) throw new ReprimageError('USAGE', 'reprimage check', 'no command given after --');
  if (artifacts.length === 0) throw new ReprimageError('USAGE', '--artifact', 'name at least one artifact the command makes (--artifact PATH)');
  for (const a of artifacts) {
    if (a.startsWith('/') || a.split('/').includes('..')) throw new ReprimageError('USAGE', '--artifact', `${a}: a path inside the build directory is needed`);
  }
  return { title: `the command \`${command.map(shellQuote).join(' ')}\``, command, artifacts, source: source === undefined ? undefined : resolve(source) };
}

/**
 * The extension point for `reprimage check RECIPE`: the recipe module will return the plan
 * `{ command: [node, reprimage, 'build', RECIPE, '-o', 'out'], artifacts: <from the recipe's
 * outputs>, source: <the recipe's directory> }`. Until recipe builds exist, a clear refusal.
 */
export function planFromRecipe(recipe: string): BuildPlan {
  throw new ReprimageError('UNSUPPORTED', recipe, 'checking a recipe needs `reprimage build`, which is not available yet; use `reprimage check --artifact PATH -- CMD ARGS…`');
}

/** An argument as a POSIX shell would need it written, for the report. */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./{}-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
