// Verification of a recipe's inputs against a signed test archive made here (OpenPGP.js keys,
// no network, no gpg): a clean archive verifies and a second run downloads nothing; a modified
// .deb, a modified Packages index, an InRelease signed by another key or edited after signing,
// and a missing package are each refused with a message naming the file and the expected and
// actual hash, and `build` writes nothing to its output directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type * as openpgp from 'openpgp';
import { ReprimageError } from '../../src/errors.js';
import { ContentCache } from '../../src/recipe/cache.js';
import { fetchVerifiedSource } from '../../src/recipe/apt-index.js';
import { verifyLockedInputs } from '../../src/recipe/inputs.js';
import { LOCK_VERSION, lockPathOf, recipeInputsHash, serializeLock, type Lock } from '../../src/recipe/lock.js';
import { loadRecipe } from '../../src/recipe/recipe.js';
import { buildRecipe } from '../../src/recipe/build.js';
import { readKeyring, verifyInRelease } from '../../src/recipe/signature.js';
import { tempDir } from '../helpers/tools.js';
import { debPath, generateSigningKey, packagesText, releaseText, sha256, signCleartext, writeArchive, writeKeyring, type TestPackage } from '../helpers/apt-archive.js';

const PACKAGES: TestPackage[] = [
  { name: 'base-files', version: '12.4', architecture: 'amd64', essential: true, body: Buffer.from('base-files deb bytes') },
  { name: 'less', version: '590-2', architecture: 'amd64', body: Buffer.from('less deb bytes, a little longer') },
  { name: 'tzdata', version: '2025b', architecture: 'all', body: Buffer.from('tzdata deb bytes') },
];

let keys: Promise<{ archive: openpgp.PrivateKey; other: openpgp.PrivateKey }> | undefined;
/** Generated once for the file: an RSA archive key (as Debian's) and an Ed25519 stranger. */
function testKeys() {
  keys ??= Promise.all([generateSigningKey('rsa', 'archive'), generateSigningKey('ed25519', 'stranger')]).then(([archive, other]) => ({ archive, other }));
  return keys;
}

interface Fixture {
  dir: string;
  archive: string;
  uri: string;
  recipeFile: string;
  lockFile: string;
  cacheDir: string;
  outDir: string;
}

/** An archive, a recipe using it (keyring relative to the recipe) and a lock made by hand from what was written. */
async function fixture(t: import('node:test').TestContext): Promise<Fixture> {
  const { archive: key } = await testKeys();
  const dir = tempDir(t, 'reprimage-recipe-');
  const archive = join(dir, 'archive');
  const uri = await writeArchive(archive, 'testing', PACKAGES, key);
  writeKeyring(join(dir, 'keyring.gpg'), [key]);
  const recipeFile = join(dir, 'recipe.yaml');
  writeFileSync(recipeFile, `name: test\narchitecture: amd64\nsources:\n  - uri: ${uri}\n    suite: testing\n    components: [main]\n    keyring: keyring.gpg\npackages: [less, tzdata]\nsource_date_epoch: 1783764997\n`);
  const recipe = await loadRecipe(recipeFile);
  const inRelease = readFileSync(join(archive, 'dists/testing/InRelease'));
  const gz = readFileSync(join(archive, 'dists/testing/main/binary-amd64/Packages.gz'));
  const lock: Lock = {
    lock_version: LOCK_VERSION,
    recipe_inputs: recipeInputsHash(recipe),
    architecture: 'amd64',
    sources: [{ uri, suite: 'testing', in_release: { sha256: sha256(inRelease), size: inRelease.length }, date: 'Sat, 11 Jul 2026 10:16:37 UTC', indices: [{ path: 'main/binary-amd64/Packages.gz', sha256: sha256(gz), size: gz.length }] }],
    packages: PACKAGES.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture, source: 0, filename: debPath(p), size: p.body.length, sha256: sha256(p.body) })),
  };
  const lockFile = lockPathOf(recipeFile);
  writeFileSync(lockFile, serializeLock(lock));
  return { dir, archive, uri, recipeFile, lockFile, cacheDir: join(dir, 'cache'), outDir: join(dir, 'out') };
}

async function verify(f: Fixture, cacheDir = f.cacheDir) {
  const recipe = await loadRecipe(f.recipeFile);
  const { parseLock } = await import('../../src/recipe/lock.js');
  const lock = parseLock(readFileSync(f.lockFile, 'utf8'), f.lockFile);
  const cache = new ContentCache(cacheDir);
  const inputs = await verifyLockedInputs(recipe, lock, f.lockFile, cache);
  return { inputs, cache };
}

/** Asserts that `promise` rejects with a ReprimageError whose message contains every needle. */
async function rejectsWith(promise: Promise<unknown>, code: string, ...needles: string[]): Promise<ReprimageError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ReprimageError, `not a ReprimageError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const n of needles) assert.ok(e.message.includes(n), `message lacks ${JSON.stringify(n)}: ${e.message}`);
    return e;
  }
  assert.fail('was accepted');
}

/** `build` must refuse before writing anything: the output directory is never created. */
async function buildRefuses(f: Fixture, code: string, ...needles: string[]): Promise<void> {
  await rejectsWith(buildRecipe(f.recipeFile, { outDir: f.outDir, cacheDir: join(f.dir, 'build-cache'), warn: () => undefined }), code, ...needles);
  assert.equal(existsSync(f.outDir), false, 'nothing may be written to the output path');
}

test('a clean archive verifies: signature, Packages against Release, every .deb; the second run downloads nothing', async (t) => {
  const f = await fixture(t);
  const first = await verify(f);
  assert.deepEqual(first.inputs.packages.map((p) => p.locked.name), ['base-files', 'less', 'tzdata']);
  assert.equal(first.inputs.sources[0]!.signers.length, 1);
  assert.equal(first.cache.stats.downloaded, 2 + PACKAGES.length, 'InRelease, Packages.gz and the debs');
  for (const p of first.inputs.packages) assert.equal(sha256(readFileSync(p.debPath)), p.locked.sha256);
  const second = await verify(f);
  assert.deepEqual(second.cache.stats, { downloaded: 0, downloadedBytes: 0, fromCache: 2 + PACKAGES.length });
});

test('a modified .deb is refused naming the file, the expected and the actual hash', async (t) => {
  const f = await fixture(t);
  const less = PACKAGES[1]!;
  const tampered = Buffer.from(less.body);
  tampered[0] = tampered[0]! ^ 1;
  writeFileSync(join(f.archive, debPath(less)), tampered);
  await rejectsWith(verify(f), 'CORRUPT_IMAGE', `${f.uri}/${debPath(less)}`, `expected ${sha256(less.body)}`, `actual ${sha256(tampered)}`);
  await buildRefuses(f, 'CORRUPT_IMAGE', debPath(less), sha256(tampered));
});

test('a tampered cache entry is not trusted: it is fetched again and verified', async (t) => {
  const f = await fixture(t);
  const { inputs } = await verify(f);
  writeFileSync(inputs.packages[0]!.debPath, 'not the package');
  const again = await verify(f);
  assert.equal(again.cache.stats.downloaded, 1);
  assert.equal(sha256(readFileSync(again.inputs.packages[0]!.debPath)), again.inputs.packages[0]!.locked.sha256);
});

test('a modified Packages index is refused against the signed Release', async (t) => {
  const f = await fixture(t);
  const evil = PACKAGES.map((p) => (p.name === 'less' ? { ...p, body: Buffer.from('evil less') } : p));
  const gzPath = join(f.archive, 'dists/testing/main/binary-amd64/Packages.gz');
  const original = readFileSync(gzPath);
  const gz = gzipSync(Buffer.from(packagesText(evil)));
  writeFileSync(gzPath, gz);
  await rejectsWith(verify(f), 'CORRUPT_IMAGE', `${f.uri}/dists/testing/main/binary-amd64/Packages.gz`, `expected ${sha256(original)}`, `actual ${sha256(gz)}`);
  await buildRefuses(f, 'CORRUPT_IMAGE', 'Packages.gz', sha256(gz));
});

test('an InRelease signed by another key is refused, whether or not the lock was changed to match', async (t) => {
  const f = await fixture(t);
  const { other } = await testKeys();
  const inReleasePath = join(f.archive, 'dists/testing/InRelease');
  const original = readFileSync(inReleasePath);
  const resigned = await signCleartext(readFileSync(join(f.archive, 'dists/testing/Release'), 'utf8'), other);
  writeFileSync(inReleasePath, resigned);
  // the lock pins the InRelease by hash
  await rejectsWith(verify(f), 'CORRUPT_IMAGE', `${f.uri}/dists/testing/InRelease`, `expected ${sha256(original)}`, `actual ${sha256(resigned)}`);
  await buildRefuses(f, 'CORRUPT_IMAGE', 'InRelease', sha256(resigned));
  // locking afresh (no pin) checks the signature itself
  const recipe = await loadRecipe(f.recipeFile);
  const source = recipe.sources[0]!;
  await rejectsWith(
    fetchVerifiedSource(source, { cache: new ContentCache(join(f.dir, 'c2')), keyringPath: join(f.dir, 'keyring.gpg'), architectures: ['amd64'], verifyAt: 'now' }),
    'CORRUPT_IMAGE',
    `${f.uri}/dists/testing/InRelease`,
    'no valid signature by a key in',
    other.getKeyID().toHex(),
  );
  // and so does a build whose lock an attacker re-pinned to the new file
  const lock = JSON.parse(readFileSync(f.lockFile, 'utf8')) as Lock;
  lock.sources[0]!.in_release = { sha256: sha256(resigned), size: Buffer.byteLength(resigned) };
  writeFileSync(f.lockFile, serializeLock(lock));
  await rejectsWith(verify(f, join(f.dir, 'c3')), 'CORRUPT_IMAGE', 'no valid signature');
  await buildRefuses(f, 'CORRUPT_IMAGE', 'no valid signature');
});

test('a Release edited after signing fails the signature, and the signed text is what is used', async (t) => {
  const { archive: key, other } = await testKeys();
  const release = releaseText('testing', { 'main/binary-amd64/Packages': Buffer.from('x') });
  const signed = await signCleartext(release, key);
  const dir = tempDir(t);
  writeKeyring(join(dir, 'k.gpg'), [key]);
  const keyring = await readKeyring(join(dir, 'k.gpg'));
  const ok = await verifyInRelease(signed, keyring, 'InRelease', 'k.gpg', undefined);
  assert.equal(ok.text.trimEnd(), release.trimEnd());
  assert.deepEqual(ok.signers, [key.getFingerprint()]);
  const edited = signed.replace('Suite: testing', 'Suite: testinG');
  await rejectsWith(verifyInRelease(edited, keyring, 'InRelease', 'k.gpg', undefined), 'CORRUPT_IMAGE', 'InRelease: no valid signature by a key in k.gpg');
  // a keyring with both keys accepts either signer; an ASCII-armoured keyring reads too
  writeFileSync(join(dir, 'both.asc'), `${key.toPublic().armor()}\n${other.toPublic().armor()}`);
  const both = await readKeyring(join(dir, 'both.asc'));
  assert.equal(both.length, 2);
  await rejectsWith(readKeyring(join(dir, 'nope.gpg')), 'NOT_FOUND');
  writeFileSync(join(dir, 'junk.gpg'), 'junk');
  await rejectsWith(readKeyring(join(dir, 'junk.gpg')), 'CORRUPT_IMAGE', 'not an OpenPGP keyring');
});

test('a package missing from the repository is refused naming its URL', async (t) => {
  const f = await fixture(t);
  unlinkSync(join(f.archive, debPath(PACKAGES[2]!)));
  await rejectsWith(verify(f), 'NOT_FOUND', `${f.uri}/${debPath(PACKAGES[2]!)}`, 'missing from the repository');
  await buildRefuses(f, 'NOT_FOUND', debPath(PACKAGES[2]!));
});

test('a locked package the verified index no longer lists is refused', async (t) => {
  const f = await fixture(t);
  const lock = JSON.parse(readFileSync(f.lockFile, 'utf8')) as Lock;
  lock.packages[1]!.version = '591-1';
  writeFileSync(f.lockFile, serializeLock(lock));
  await rejectsWith(verify(f), 'NOT_FOUND', 'less 591-1 (amd64) is not in the verified Packages index');
});

test('build refuses without a lock, or with a lock for other packages, unless told to update it', async (t) => {
  const f = await fixture(t);
  writeFileSync(f.recipeFile, readFileSync(f.recipeFile, 'utf8').replace('packages: [less, tzdata]', 'packages: [less]'));
  await buildRefuses(f, 'USAGE', 'recipe.yaml.lock', 'out of date');
  rmSync(f.lockFile);
  await buildRefuses(f, 'USAGE', 'no lock file: run reprimage lock first, or build --update-lock');
});

test('locking refuses an expired Release (Valid-Until passed); a build from a pinned one does not look', async (t) => {
  const { archive: key } = await testKeys();
  const dir = tempDir(t);
  const uri = await writeArchive(join(dir, 'archive'), 'testing', PACKAGES, key, 'Valid-Until: Sat, 18 Jul 2026 10:16:37 UTC\n');
  writeKeyring(join(dir, 'keyring.gpg'), [key]);
  const source = { uri, suite: 'testing', components: ['main'], keyring: 'keyring.gpg' };
  const options = { cache: new ContentCache(join(dir, 'cache')), keyringPath: join(dir, 'keyring.gpg'), architectures: ['amd64'] };
  await rejectsWith(fetchVerifiedSource(source, { ...options, verifyAt: 'now' }), 'CORRUPT_IMAGE', `${uri}/dists/testing/InRelease`, 'expired: Valid-Until Sat, 18 Jul 2026');
  const inRelease = readFileSync(join(dir, 'archive/dists/testing/InRelease'));
  const pinned = await fetchVerifiedSource(source, { ...options, verifyAt: 'signature-time', pinned: { sha256: sha256(inRelease), size: inRelease.length } });
  assert.equal(pinned.packages.length, PACKAGES.length);
});
