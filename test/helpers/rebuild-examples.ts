/**
 * Published releases of the bundled examples, shared by the network tests of one run so that an
 * example is built once to be published: live-iso.test.ts keeps the control build of its
 * `reprimage check` (a whole release: `check --keep` copies the manifest and the inputs bundle
 * beside the ISO), and rebuild-live.test.ts finds it here and only rebuilds it. A test that finds
 * nothing builds the release itself.
 *
 * A release is kept under a key that hashes everything its bytes depend on on this machine: the
 * example's files (recipe, lock, overlays, hooks), the built code (dist/src), the dependencies
 * (package-lock.json) and the versions of the host tools a manifest records. So a release built
 * by other code or from another lock is never found. Kept releases live in
 * REPRIMAGE_TEST_RELEASES, else `reprimage-test-releases` in the temporary directory; a rebuild
 * never writes there (it gets its own work directory).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { REPO, sha256 } from './cli.js';
import { run } from './tools.js';
import { loadRecipe } from '../../src/recipe/recipe.js';
import { writeInputsBundle } from '../../src/recipe/inputs-bundle.js';
import { reproducibleSha256, type BuildManifest } from '../../src/recipe/manifest.js';

/** The host packages whose versions a build manifest records (`tools`). */
const HOST_TOOLS = ['mmdebstrap', 'apt', 'dpkg'];

export function releasesDir(): string {
  return process.env.REPRIMAGE_TEST_RELEASES ?? join(tmpdir(), 'reprimage-test-releases');
}

/** Every regular file under `dir` (sorted, relative), for hashing a tree's contents and modes. */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    const s = statSync(join(dir, rel));
    if (s.isDirectory()) out.push(...filesUnder(dir, rel));
    else if (s.isFile()) out.push(rel);
  }
  return out;
}

function hashTree(hash: ReturnType<typeof createHash>, dir: string, label: string): void {
  for (const rel of filesUnder(dir)) {
    hash.update(`${label}/${rel}\0${(statSync(join(dir, rel)).mode & 0o7777).toString(8)}\0`);
    hash.update(readFileSync(join(dir, rel)));
  }
}

/** The key of a release of the recipe directory `exampleDir` built by this checkout on this host. */
export function releaseKey(exampleDir: string): string {
  const hash = createHash('sha256');
  hashTree(hash, exampleDir, 'recipe');
  hashTree(hash, join(REPO, 'dist/src'), 'code');
  hash.update(readFileSync(join(REPO, 'package-lock.json')));
  const tools = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Version}\n', ...HOST_TOOLS], { encoding: 'utf8' });
  hash.update(tools.stdout);
  return hash.digest('hex').slice(0, 32);
}

interface ReleaseManifest {
  reproducible: { name: string; outputs: Array<{ path: string; sha256: string }> };
}

/** The files of a release: the outputs its manifest lists, the manifest and the inputs bundle. */
function releaseFiles(dir: string): string[] {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ReleaseManifest;
  return [...m.reproducible.outputs.map((o) => o.path), 'manifest.json', 'recipe-inputs.tar'];
}

/** Whether `dir` holds a whole release whose outputs have the hashes its manifest lists. */
function isWholeRelease(dir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ReleaseManifest;
    return existsSync(join(dir, 'recipe-inputs.tar')) && m.reproducible.outputs.every((o) => sha256(join(dir, o.path)) === o.sha256);
  } catch {
    return false;
  }
}

/**
 * Keeps the release in `releaseDir` (built from `exampleDir` by this checkout) for later tests;
 * replaces the releases of the same example kept under other keys. Returns where it is kept.
 */
export function keepRelease(exampleDir: string, releaseDir: string): string {
  const root = releasesDir();
  mkdirSync(root, { recursive: true });
  const name = basename(exampleDir);
  const target = join(root, `${name}-${releaseKey(exampleDir)}`);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  for (const f of releaseFiles(releaseDir)) copyFileSync(join(releaseDir, f), join(partial, f));
  // a test file running beside this one may have kept the same release meanwhile
  if (isWholeRelease(target)) {
    rmSync(partial, { recursive: true, force: true });
    return target;
  }
  for (const old of readdirSync(root)) if (old.startsWith(`${name}-`) && !old.includes('.partial-')) rmSync(join(root, old), { recursive: true, force: true });
  renameSync(partial, target);
  return target;
}

/**
 * A published release of `exampleDir`: the one kept by an earlier test when it is whole and its
 * key matches, else one built now by `build(outDir)` (and kept).
 */
export function publishedRelease(exampleDir: string, build: (outDir: string) => void): { dir: string; built: boolean } {
  const kept = join(releasesDir(), `${basename(exampleDir)}-${releaseKey(exampleDir)}`);
  if (isWholeRelease(kept)) return { dir: kept, built: false };
  const out = join(releasesDir(), `build-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  try {
    build(out);
    return { dir: keepRelease(exampleDir, out), built: true };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The version the lock of `releaseWithUnservedPackage` names: no archive serves it. */
export const UNSERVED_VERSION = '1.0-reprimage-never';

/**
 * A copy of the release in `releaseDir` under `target` whose lock names a version of `less` that
 * the archive does not serve: the inputs bundle is written again with that lock, and the
 * manifest records the new lock and bundle, with its hash recomputed (a well-formed release of a
 * recipe that can no longer be built). `work` is scratch space for the unpacked inputs.
 */
export async function releaseWithUnservedPackage(releaseDir: string, target: string, work: string): Promise<void> {
  const inputs = join(work, 'unserved-inputs');
  mkdirSync(inputs, { recursive: true });
  mkdirSync(target, { recursive: true });
  run('tar', ['-xf', join(releaseDir, 'recipe-inputs.tar'), '-C', inputs]);
  const manifest = JSON.parse(readFileSync(join(releaseDir, 'manifest.json'), 'utf8')) as BuildManifest;
  const r = manifest.reproducible;
  const lockFile = join(inputs, `${r.recipe.file}.lock`);
  const lockText = readFileSync(lockFile, 'utf8');
  const edited = lockText.replace(/\{"name":"less","version":"([^"]+)"(.*?)"filename":"pool\/main\/l\/less\/less_[^"]+\.deb"/, `{"name":"less","version":"${UNSERVED_VERSION}"$2"filename":"pool/main/l/less/less_${UNSERVED_VERSION}_amd64.deb"`);
  if (edited === lockText) throw new Error(`${lockFile}: no package less to change`);
  writeFileSync(lockFile, edited);
  for (const o of r.outputs) copyFileSync(join(releaseDir, o.path), join(target, o.path));
  r.inputs = await writeInputsBundle(await loadRecipe(join(inputs, r.recipe.file)), lockFile, r.source_date_epoch, join(target, 'recipe-inputs.tar'), () => undefined);
  r.lock.sha256 = sha256(lockFile);
  manifest.reproducible_sha256 = reproducibleSha256(r);
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifest, null, 2));
}
