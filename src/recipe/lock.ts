/**
 * The lock file (`<recipe>.lock`): the exact InRelease files (by SHA-256) and every package
 * chosen by apt's resolver. JSON with a fixed key order and sorted packages, so the same
 * resolution always serializes to the same bytes and a lock diff reads as a package diff.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ReprimageError } from '../errors.js';
import { compareNames } from '../tree/names.js';
import type { RecipeData } from './schema.js';

export const LOCK_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const LockSchema = z
  .object({
    lock_version: z.literal(LOCK_VERSION),
    recipe_inputs: sha256,
    architecture: z.string(),
    sources: z.array(
      z
        .object({
          uri: z.string(),
          suite: z.string(),
          in_release: z.object({ sha256, size: z.number().int().nonnegative() }).strict(),
          date: z.string(),
          indices: z.array(z.object({ path: z.string(), sha256, size: z.number().int().nonnegative() }).strict()),
        })
        .strict(),
    ),
    packages: z.array(
      z
        .object({
          name: z.string(),
          version: z.string(),
          architecture: z.string(),
          source: z.number().int().nonnegative(),
          filename: z.string().regex(/^[^/].*\.deb$/, 'a pool path ending in .deb').refine((f) => !f.split('/').includes('..'), 'no ".." components'),
          size: z.number().int().nonnegative(),
          sha256,
        })
        .strict(),
    ),
  })
  .strict();

export type Lock = z.infer<typeof LockSchema>;
export type LockedPackage = Lock['packages'][number];

/** Path of the lock file that belongs to a recipe. */
export function lockPathOf(recipeFile: string): string {
  return `${recipeFile}.lock`;
}

/**
 * SHA-256 over the parts of a recipe that decide the resolution (sources, architecture, variant,
 * packages, recommends). Editing hooks or overlays keeps the lock valid; changing the package
 * list makes `build` refuse it until it is locked again.
 */
export function recipeInputsHash(recipe: RecipeData): string {
  const inputs = {
    architecture: recipe.architecture,
    sources: recipe.sources.map((s) => ({ uri: s.uri, suite: s.suite, components: s.components, architectures: s.architectures ?? [recipe.architecture] })),
    variant: recipe.variant,
    packages: [...recipe.packages].sort(compareNames),
    recommends: recipe.recommends,
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

export function serializeLock(lock: Lock): string {
  const ordered: Lock = {
    lock_version: lock.lock_version,
    recipe_inputs: lock.recipe_inputs,
    architecture: lock.architecture,
    sources: lock.sources.map((s) => ({
      uri: s.uri,
      suite: s.suite,
      in_release: { sha256: s.in_release.sha256, size: s.in_release.size },
      date: s.date,
      indices: s.indices.map((i) => ({ path: i.path, sha256: i.sha256, size: i.size })),
    })),
    packages: [...lock.packages]
      .sort((a, b) => compareNames(a.name, b.name) || compareNames(a.architecture, b.architecture))
      .map((p) => ({ name: p.name, version: p.version, architecture: p.architecture, source: p.source, filename: p.filename, size: p.size, sha256: p.sha256 })),
  };
  // one package per line: diffs of a lock read as package changes
  const head = JSON.stringify({ ...ordered, packages: [] }, null, 2).replace(/\n {2}"packages": \[\]\n\}$/, '');
  const pkgs = ordered.packages.map((p) => `    ${JSON.stringify(p)}`).join(',\n');
  return `${head}\n  "packages": [\n${pkgs}\n  ]\n}\n`;
}

export function parseLock(text: string, file: string): Lock {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReprimageError('CORRUPT_IMAGE', file, `not JSON: ${(e as Error).message}`);
  }
  const r = LockSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new ReprimageError('CORRUPT_IMAGE', file, `${where || '(top level)'}: ${issue.message}`);
  }
  const lock = r.data;
  for (const p of lock.packages) {
    if (p.source >= lock.sources.length) throw new ReprimageError('CORRUPT_IMAGE', file, `package ${p.name}: source ${p.source} does not exist`);
  }
  const seen = new Set<string>();
  for (const p of lock.packages) {
    const key = `${p.name}:${p.architecture}`;
    if (seen.has(key)) throw new ReprimageError('CORRUPT_IMAGE', file, `package ${key} is locked twice`);
    seen.add(key);
  }
  return lock;
}

export function lockSha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
