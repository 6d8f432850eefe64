/**
 * The recipe's inputs for a rebuild: the bundle the manifest names (fetched from beside the
 * manifest, or from where the caller says), checked against its recorded hash and unpacked, each
 * file checked again; or a directory the caller already has (a checkout of the release tag),
 * checked file by file against the same hashes. Host files (keyrings named by absolute path) are
 * compared with the recorded hashes; a different keyring is noted, not refused, because the
 * build verifies the pinned InRelease files with it anyway and fails if it cannot.
 */
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { hashFile } from '../io/hash-file.js';
import { openFileSource } from '../io/source.js';
import { loadTar } from '../formats/tar/index.js';
import { readContent } from '../tree/content.js';
import { beside } from './locations.js';
import { localCopy } from './fetch.js';
import type { PublishedManifest } from './published-manifest.js';
import { CannotRebuild } from './verdict.js';

export interface PreparedInputs {
  /** The recipe file to build. */
  recipeFile: string;
  /** Where the bundle came from, or the directory given. */
  origin: string;
  notes: string[];
}

export interface InputOptions {
  /** A directory holding the recipe and its inputs, used instead of the bundle. */
  recipeDir?: string;
  /** Where the bundle is, when it is not beside the manifest. */
  bundle?: string;
}

/** Fetches (or takes), checks and lays out the inputs under `workDir`. */
export async function prepareInputs(m: PublishedManifest, workDir: string, options: InputOptions): Promise<PreparedInputs> {
  const notes: string[] = [];
  const inputs = m.inputs;
  if (inputs === undefined && options.recipeDir === undefined) {
    throw new CannotRebuild(m.location, `manifest_version ${m.version} does not record the recipe's inputs: give the recipe's directory with --recipe`);
  }
  if (inputs && inputs.external.length > 0) {
    throw new CannotRebuild(m.location, `the recipe used inputs outside its directory, which the manifest does not carry: ${inputs.external.join(', ')}`);
  }
  for (const host of inputs?.host_files ?? []) {
    const here = await hashFile(host.path).catch(() => undefined);
    if (here === undefined) throw new CannotRebuild(host.path, 'missing here: the recipe names this file by absolute path (install it, e.g. debian-archive-keyring)');
    if (here.sha256 !== host.sha256) notes.push(`${host.path} differs from the build's (sha256 ${here.sha256}, recorded ${host.sha256}); the pinned InRelease signatures are verified with it`);
  }

  let dir: string;
  let origin: string;
  if (options.recipeDir !== undefined) {
    dir = options.recipeDir;
    origin = options.recipeDir;
  } else {
    const bundle = inputs!.bundle;
    origin = options.bundle ?? beside(m.location, bundle.path);
    await mkdir(join(workDir, 'published'), { recursive: true });
    const local = await localCopy(origin, join(workDir, 'published')).catch((e: unknown) => {
      if (e instanceof ReprimageError) throw new CannotRebuild(origin, `the recipe's inputs cannot be had: ${e.detail}`);
      throw e;
    });
    const got = await hashFile(local).catch(() => undefined);
    if (got === undefined) throw new CannotRebuild(origin, "the recipe's inputs bundle is missing");
    if (got.sha256 !== bundle.sha256 || got.size !== bundle.size) {
      throw new CannotRebuild(origin, `SHA-256 mismatch: the manifest records ${bundle.sha256} (${bundle.size} bytes), this is ${got.sha256} (${got.size} bytes)`);
    }
    dir = join(workDir, 'inputs');
    await rm(dir, { recursive: true, force: true });
    await unpackBundle(local, dir);
  }

  const expected = [
    { path: m.recipe.file, sha256: m.recipe.sha256 },
    { path: `${m.recipe.file}.lock`, sha256: m.lock.sha256 },
    ...(inputs?.files ?? []),
  ];
  for (const file of expected) {
    const path = join(dir, file.path);
    const got = await hashFile(path).catch(() => undefined);
    if (got === undefined) throw new CannotRebuild(path, 'missing from the inputs');
    if (got.sha256 !== file.sha256) throw new CannotRebuild(path, `SHA-256 mismatch: the manifest records ${file.sha256}, this is ${got.sha256}`);
  }
  return { recipeFile: join(dir, m.recipe.file), origin, notes };
}

/** Writes the bundle's tree under `dir` (directories, regular files, symbolic links only). */
async function unpackBundle(bundle: string, dir: string): Promise<void> {
  const source = await openFileSource(bundle);
  try {
    const tree = await loadTar(source);
    await mkdir(dir, { recursive: true });
    for (const { path, node } of tree.walk()) {
      if (path === '') continue;
      const target = join(dir, path);
      switch (node.kind) {
        case 'dir':
          await mkdir(target, { mode: node.mode & 0o7777, recursive: true });
          break;
        case 'file':
          await writeFile(target, await readContent(node.content), { mode: node.mode & 0o7777 });
          break;
        case 'symlink':
          await symlink(node.target, target);
          break;
        default:
          throw new ReprimageError('UNSUPPORTED', `${bundle}: ${path}`, `a ${node.kind} has no place in a recipe's inputs`);
      }
    }
  } finally {
    await source.close();
  }
}
