/**
 * `reprimage/recipe`: a recipe (YAML: Debian sources, packages, overlays, hooks, outputs) is
 * locked to exact package versions and hashes, then built into images from those inputs alone,
 * with a manifest of what went in and what came out (docs/recipe.md).
 */
export { lockRecipe, buildRecipe, type LockOptions, type BuildOptions, type BuildResult } from './build.js';
export { loadRecipe, parseRecipe, type Recipe } from './recipe.js';
export type { RecipeData, RecipeSource, RecipeOutput } from './schema.js';
export { parseLock, serializeLock, lockPathOf, LOCK_VERSION, type Lock, type LockedPackage } from './lock.js';
export { serializeManifest, type BuildManifest, type ReproducibleManifest, type ManifestOutput } from './manifest.js';
export { defaultCacheDir } from './cache.js';
