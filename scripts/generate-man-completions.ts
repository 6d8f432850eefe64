/**
 * Writes man/*.1 and completions/reprimage.{bash,zsh,fish} from the command definitions
 * (`npm run build` runs it after tsc). The files are committed too, so that a checkout has them
 * without a build; test/cli/packaging.test.ts fails if they differ from what this writes.
 *   node dist/scripts/generate-man-completions.js [OUTDIR]   (default: the repository)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../src/cli/commands.js';
import { programModel } from './command-model.js';
import { commandPage, programPage } from './man-pages.js';
import { bashCompletion, fishCompletion, zshCompletion } from './completions.js';

/** Every generated file by its path relative to the repository. */
export async function generatedFiles(): Promise<Map<string, string>> {
  const model = await programModel();
  const version = packageVersion();
  const files = new Map<string, string>();
  files.set('man/reprimage.1', programPage(model, version));
  for (const c of model.commands) files.set(`man/reprimage-${c.name}.1`, commandPage(c, version));
  files.set('completions/reprimage.bash', bashCompletion(model));
  files.set('completions/reprimage.zsh', zshCompletion(model));
  files.set('completions/reprimage.fish', fishCompletion(model));
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../..', import.meta.url));
  for (const [path, text] of await generatedFiles()) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}
