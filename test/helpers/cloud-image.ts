/**
 * examples/cloud-minimal's disk image in the content cache, where examples/installer-minimal's
 * build looks for it by the SHA-256 it pins (docs/installer.md). The cloud-disk network test
 * puts the image it built there; the installer test builds it only when it is missing, so the
 * network tier builds cloud-minimal once. The cache is content-addressed: an entry is used only
 * if it hashes to its name.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ContentCache, defaultCacheDir } from '../../src/recipe/cache.js';
import { hashFile } from '../../src/io/hash-file.js';
import { REPO, runCli } from './cli.js';

/** The raw image's SHA-256 that examples/installer-minimal pins. */
export function pinnedCloudImage(): string {
  const m = /\n {6}sha256: ([0-9a-f]{64})\n/.exec(readFileSync(join(REPO, 'examples/installer-minimal/recipe.yaml'), 'utf8'));
  if (!m) throw new Error('examples/installer-minimal/recipe.yaml pins no image');
  return m[1]!;
}

/** Where the CLI's default cache keeps a file with this SHA-256. */
export function cachePathOf(sha256: string): string {
  return new ContentCache(defaultCacheDir(process.env)).pathOf(sha256);
}

/** Copies a built image into the cache (sparse), under its own hash. */
export async function cacheImage(path: string): Promise<string> {
  const { sha256 } = await hashFile(path);
  const target = cachePathOf(sha256);
  mkdirSync(dirname(target), { recursive: true });
  const r = spawnSync('cp', ['--sparse=always', path, `${target}.part`]);
  if (r.status !== 0) throw new Error(`cp ${path}: ${String(r.stderr)}`);
  renameSync(`${target}.part`, target);
  return target;
}

/** The pinned cloud image in the cache: there already, or built now from examples/cloud-minimal into `scratch`. */
export async function cachedCloudImage(scratch: string): Promise<{ path: string; built: boolean }> {
  const sha256 = pinnedCloudImage();
  const path = cachePathOf(sha256);
  if ((await hashFile(path).catch(() => undefined))?.sha256 === sha256) return { path, built: false };
  const out = join(scratch, 'cloud-out');
  const built = runCli(['build', join(REPO, 'examples/cloud-minimal/recipe.yaml'), '-o', out, '--quiet']);
  if (built.status !== 0) throw new Error(`building examples/cloud-minimal failed: ${built.stderr}`);
  const cached = await cacheImage(join(out, 'disk.img'));
  if (cached !== path) throw new Error(`examples/cloud-minimal built ${cached}, but examples/installer-minimal pins ${sha256}`);
  return { path, built: true };
}
