/**
 * Pinning and verifying a recipe's inputs. `lockInputs` resolves the package set now and writes
 * down exactly what was chosen; `verifyLockedInputs` fetches (or takes from the cache) exactly
 * what the lock names and checks every byte: InRelease against the lock and the keyring, every
 * Packages index against the signed Release, every .deb against the lock and the index.
 */
import { isAbsolute, resolve } from 'node:path';
import { ReprimageError } from '../errors.js';
import { compareNames } from '../tree/names.js';
import { archiveUrl, fetchVerifiedSource, type IndexedPackage, type VerifiedSource } from './apt-index.js';
import type { ContentCache } from './cache.js';
import { LOCK_VERSION, recipeInputsHash, type Lock, type LockedPackage } from './lock.js';
import type { Recipe } from './recipe.js';
import { resolveWithApt } from './resolve.js';

export function keyringPath(recipe: Recipe, keyring: string): string {
  return isAbsolute(keyring) ? keyring : resolve(recipe.dir, keyring);
}

function architecturesOf(recipe: Recipe, i: number): string[] {
  return recipe.sources[i]!.architectures ?? [recipe.architecture];
}

export async function lockInputs(recipe: Recipe, cache: ContentCache): Promise<Lock> {
  const verified: VerifiedSource[] = [];
  for (let i = 0; i < recipe.sources.length; i++) {
    const source = recipe.sources[i]!;
    verified.push(await fetchVerifiedSource(source, { cache, keyringPath: keyringPath(recipe, source.keyring), architectures: architecturesOf(recipe, i), verifyAt: 'now' }));
  }
  const arches = new Set([recipe.architecture, 'all']);
  const wanted = new Set(recipe.packages);
  if (recipe.variant === 'essential') {
    for (const v of verified) for (const p of v.packages) if (p.essential && arches.has(p.architecture)) wanted.add(p.name);
  }
  if (wanted.size === 0) throw new ReprimageError('USAGE', recipe.file, 'the recipe selects no packages (variant custom with an empty package list)');
  const { chosen } = await resolveWithApt(
    verified.map((v) => v.packages),
    [...wanted].sort(compareNames),
    recipe.architecture,
    recipe.recommends,
  );
  const packages: LockedPackage[] = [];
  for (const c of chosen) {
    const found = findIndexed(verified, c.name, c.version, c.architecture);
    if (!found) throw new ReprimageError('TOOL', 'apt-get', `chose ${c.name} ${c.version} ${c.architecture}, which no verified index lists`);
    const { source, pkg } = found;
    packages.push({ name: pkg.name, version: pkg.version, architecture: pkg.architecture, source, filename: pkg.filename, size: pkg.size, sha256: pkg.sha256 });
  }
  for (const name of recipe.packages) {
    if (!packages.some((p) => p.name === name)) throw new ReprimageError('NOT_FOUND', recipe.file, `package ${name} was not chosen by apt (is it a virtual package? name a real one)`);
  }
  return {
    lock_version: LOCK_VERSION,
    recipe_inputs: recipeInputsHash(recipe),
    architecture: recipe.architecture,
    sources: verified.map((v) => ({ uri: v.source.uri, suite: v.source.suite, in_release: { sha256: v.inRelease.sha256, size: v.inRelease.size }, date: v.date, indices: v.indices })),
    packages,
  };
}

function findIndexed(verified: VerifiedSource[], name: string, version: string, architecture: string): { source: number; pkg: IndexedPackage } | undefined {
  for (let i = 0; i < verified.length; i++) {
    const pkg = verified[i]!.packages.find((p) => p.name === name && p.version === version && p.architecture === architecture);
    if (pkg) return { source: i, pkg };
  }
  return undefined;
}

export interface VerifiedPackage {
  locked: LockedPackage;
  /** The index stanza that describes it (verified through Release and InRelease). */
  stanza: string;
  /** The verified .deb in the cache. */
  debPath: string;
}

export interface VerifiedInputs {
  sources: VerifiedSource[];
  packages: VerifiedPackage[];
}

/**
 * Checks that `lock` belongs to `recipe` and verifies every input it names, downloading only
 * what the cache lacks. Throws (before anything is installed or written) on the first mismatch,
 * naming the file and the expected and actual hash.
 */
export async function verifyLockedInputs(recipe: Recipe, lock: Lock, lockFile: string, cache: ContentCache): Promise<VerifiedInputs> {
  if (lock.recipe_inputs !== recipeInputsHash(recipe)) {
    throw new ReprimageError('USAGE', lockFile, `is out of date: ${recipe.file} changed its sources, architecture or packages since it was locked (run reprimage lock, or build --update-lock)`);
  }
  const sources: VerifiedSource[] = [];
  for (let i = 0; i < recipe.sources.length; i++) {
    const source = recipe.sources[i]!;
    const pinned = lock.sources[i];
    if (!pinned || pinned.uri !== source.uri || pinned.suite !== source.suite) throw new ReprimageError('USAGE', lockFile, `source ${i} does not match ${recipe.file}`);
    const verified = await fetchVerifiedSource(source, {
      cache,
      keyringPath: keyringPath(recipe, source.keyring),
      architectures: architecturesOf(recipe, i),
      pinned: pinned.in_release,
      verifyAt: 'signature-time',
    });
    for (const index of pinned.indices) {
      const got = verified.indices.find((x) => x.path === index.path);
      if (!got || got.sha256 !== index.sha256) {
        throw new ReprimageError('CORRUPT_IMAGE', archiveUrl(source.uri, `dists/${source.suite}/${index.path}`), `SHA-256 mismatch: expected ${index.sha256} (lock), actual ${got?.sha256 ?? 'not listed in Release'}`);
      }
    }
    sources.push(verified);
  }
  // name version architecture → index entry, per source (an index has some 60 000 packages)
  const byKey = sources.map((s) => new Map(s.packages.map((p) => [`${p.name} ${p.version} ${p.architecture}`, p])));
  const packages: VerifiedPackage[] = [];
  for (const locked of lock.packages) {
    const source = sources[locked.source]!;
    const url = archiveUrl(source.source.uri, locked.filename);
    const indexed = byKey[locked.source]!.get(`${locked.name} ${locked.version} ${locked.architecture}`);
    if (!indexed) throw new ReprimageError('NOT_FOUND', url, `${locked.name} ${locked.version} (${locked.architecture}) is not in the verified Packages index of ${source.source.uri} ${source.source.suite}`);
    if (indexed.sha256 !== locked.sha256 || indexed.size !== locked.size || indexed.filename !== locked.filename) {
      throw new ReprimageError('CORRUPT_IMAGE', url, `the lock and the verified index disagree: expected ${locked.sha256} (${locked.size} bytes, lock), index says ${indexed.sha256} (${indexed.size} bytes, ${indexed.filename})`);
    }
    const debPath = await cache.fetchExpected(url, { sha256: locked.sha256, size: locked.size }, url);
    packages.push({ locked, stanza: indexed.stanza, debPath });
  }
  return { sources, packages };
}
