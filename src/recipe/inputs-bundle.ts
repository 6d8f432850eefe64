/**
 * The recipe's inputs as one tar written beside the outputs (`recipe-inputs.tar`), so a rebuilder
 * that has only the published files can rebuild: the recipe, its lock, the overlays, the hooks and
 * any keyring kept inside the recipe's directory, each under its path relative to that directory.
 * The bytes depend only on those files and SOURCE_DATE_EPOCH (owners root, modes normalized as
 * the overlay tar normalizes them, times clamped), so two builds of one checkout write the same
 * bundle and its hash can sit in the manifest's reproducible part. Inputs named by an absolute
 * path (Debian's keyrings under /usr/share/keyrings) belong to the host: the manifest lists them
 * with their hashes instead, and a rebuild checks them there.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { fromSystemError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { hashFile } from '../io/hash-file.js';
import { writeTar } from '../formats/tar/index.js';
import { bytesContent, readContent } from '../tree/content.js';
import { loadDirectory } from '../tree/load-dir.js';
import { applyPolicy } from '../tree/policy.js';
import { newMeta, Tree } from '../tree/tree.js';
import { compareNames } from '../tree/names.js';
import type { Recipe } from './recipe.js';
import type { ManifestInputs } from './manifest.js';

export const INPUTS_BUNDLE = 'recipe-inputs.tar';

/**
 * Writes the bundle to `target` and returns what the manifest records about the inputs.
 * `lockFile` is the lock the build used; it is stored as `<recipe>.lock` beside the recipe.
 */
export async function writeInputsBundle(recipe: Recipe, lockFile: string, epoch: number, target: string, warn: (m: string) => void): Promise<ManifestInputs> {
  const tree = new Tree();
  const external: string[] = [];
  const host: ManifestInputs['host_files'] = [];
  const addFile = async (path: string, as: string): Promise<void> => {
    const bytes = await readFile(path).catch((e: unknown) => {
      throw fromSystemError(e, path);
    });
    const mode = (await stat(path)).mode & 0o7777;
    tree.set(as, { kind: 'file', ...newMeta({ mode, mtime: { sec: epoch, nsec: 0 } }), content: bytesContent(bytes, path) });
  };
  /** The path of `p` inside the recipe directory, or undefined when it lies outside. */
  const inside = (p: string): string | undefined => {
    const rel = relative(recipe.dir, resolve(recipe.dir, p));
    return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel.split(sep).join('/');
  };

  const recipeName = basename(recipe.file);
  await addFile(recipe.file, recipeName);
  await addFile(lockFile, `${recipeName}.lock`);
  for (const dir of recipe.overlays) {
    const rel = inside(dir);
    if (rel === undefined) {
      external.push(dir);
      continue;
    }
    const overlay = await loadDirectory(resolve(recipe.dir, dir), { xattrs: false, warn });
    tree.ensureDir(rel);
    for (const { path, node } of overlay.walk()) {
      if (path === '') continue;
      if (node.kind === 'dir') tree.ensureDir(`${rel}/${path}`).mode = node.mode;
      else tree.set(`${rel}/${path}`, node);
    }
  }
  const keyrings = [...new Set(recipe.sources.map((s) => s.keyring))];
  for (const file of [...recipe.hooks, ...keyrings]) {
    const rel = isAbsolute(file) ? undefined : inside(file);
    if (rel !== undefined) {
      await addFile(resolve(recipe.dir, file), rel);
    } else if (keyrings.includes(file) && isAbsolute(file)) {
      const { sha256 } = await hashFile(file).catch((e: unknown) => {
        throw fromSystemError(e, file);
      });
      host.push({ path: file, sha256 });
    } else external.push(file);
  }
  applyPolicy(tree, { buildTime: epoch, clampMtime: true, owner: 'root', permissions: 'normalize', excludes: [], emptyFiles: [] });
  for (const { node } of tree.walk()) if (node.kind === 'dir') node.mtime = { sec: epoch, nsec: 0 };

  const files: ManifestInputs['files'] = [];
  for (const { path, node } of tree.walk()) {
    if (node.kind !== 'file') continue;
    const bytes = await readContent(node.content);
    files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  }
  files.sort((a, b) => compareNames(a.path, b.path));
  await writeAtomically(target, (sink) => writeTar(tree, sink, { format: 'pax', buildTime: epoch }));
  const { sha256, size } = await hashFile(target);
  return { bundle: { path: basename(target), sha256, size }, files, host_files: host, external: external.sort(compareNames) };
}
