// `reprimage lock` and `reprimage build` as a user meets them, on a signed archive made in the
// test (no network): apt's resolver picks the dependency closure for the lock; a bad recipe, a
// missing lock and a tampered .deb are each one line on stderr with exit status 2, and nothing
// appears at the output path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { requireTool, tempDir } from '../helpers/tools.js';
import { debPath, generateSigningKey, sha256, writeArchive, writeKeyring, type TestPackage } from '../helpers/apt-archive.js';

const PACKAGES: TestPackage[] = [
  { name: 'base-files', version: '12.4', architecture: 'amd64', essential: true, body: Buffer.from('base-files') },
  { name: 'less', version: '590-2', architecture: 'amd64', depends: 'libtinfo6 (>= 6), debianutils | busybox', body: Buffer.from('less') },
  { name: 'libtinfo6', version: '6.4-4', architecture: 'amd64', body: Buffer.from('libtinfo6') },
  { name: 'libtinfo6', version: '6.3-1', architecture: 'amd64', body: Buffer.from('old libtinfo6') },
  { name: 'debianutils', version: '5.7', architecture: 'amd64', body: Buffer.from('debianutils') },
  { name: 'tzdata', version: '2025b', architecture: 'all', body: Buffer.from('tzdata') },
];

async function setup(t: import('node:test').TestContext) {
  const dir = tempDir(t, 'reprimage-cli-recipe-');
  const key = await generateSigningKey('ed25519', 'archive');
  const uri = await writeArchive(join(dir, 'archive'), 'testing', PACKAGES, key);
  writeKeyring(join(dir, 'keyring.gpg'), [key]);
  const recipe = join(dir, 'recipe.yaml');
  writeFileSync(recipe, `name: t\narchitecture: amd64\nsources:\n  - uri: ${uri}\n    suite: testing\n    components: [main]\n    keyring: keyring.gpg\npackages: [less]\nsource_date_epoch: 1783764997\n`);
  return { dir, uri, recipe, cache: join(dir, 'cache'), out: join(dir, 'out') };
}

test('lock: apt resolves the essential set plus the packages and their dependencies, newest versions', async (t) => {
  if (!requireTool(t, 'apt-get')) return;
  const s = await setup(t);
  const r = runCli(['lock', s.recipe, '--cache', s.cache, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const lock = JSON.parse(readFileSync(`${s.recipe}.lock`, 'utf8')) as { packages: Array<{ name: string; version: string; sha256: string; filename: string }> };
  assert.deepEqual(lock.packages.map((p) => `${p.name} ${p.version}`), ['base-files 12.4', 'debianutils 5.7', 'less 590-2', 'libtinfo6 6.4-4']);
  const libtinfo = PACKAGES[2]!;
  assert.deepEqual(lock.packages[3], { name: 'libtinfo6', version: '6.4-4', architecture: 'amd64', source: 0, filename: debPath(libtinfo), size: libtinfo.body.length, sha256: sha256(libtinfo.body) });
  assert.equal(JSON.parse(r.stdout).packages, 4);
  // locking again gives the same bytes
  const before = readFileSync(`${s.recipe}.lock`);
  assert.equal(runCli(['lock', s.recipe, '--cache', s.cache]).status, 0);
  assert.deepEqual(readFileSync(`${s.recipe}.lock`), before);
});

test('lock: a package apt cannot install is one line naming apt-get and the problem', async (t) => {
  if (!requireTool(t, 'apt-get')) return;
  const s = await setup(t);
  writeFileSync(s.recipe, readFileSync(s.recipe, 'utf8').replace('packages: [less]', 'packages: [less, nonexistent-pkg]'));
  const r = runCli(['lock', s.recipe, '--cache', s.cache]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^reprimage: apt-get: resolving \d+ packages failed: .*nonexistent-pkg/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(existsSync(`${s.recipe}.lock`), false);
});

test('build: a bad recipe, a missing lock and a tampered .deb each exit 2 with one line and write nothing', async (t) => {
  if (!requireTool(t, 'apt-get')) return;
  const s = await setup(t);
  const bad = join(s.dir, 'bad.yaml');
  writeFileSync(bad, readFileSync(s.recipe, 'utf8').replace('packages:', 'pakages:'));
  let r = runCli(['build', bad, '-o', s.out]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `reprimage: ${bad}:8: pakages: unknown key\n`);

  r = runCli(['build', s.recipe, '-o', s.out, '--cache', s.cache]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `reprimage: ${s.recipe}.lock: no lock file: run reprimage lock first, or build --update-lock\n`);

  assert.equal(runCli(['lock', s.recipe, '--cache', s.cache]).status, 0);
  const less = PACKAGES[1]!;
  writeFileSync(join(s.dir, 'archive', debPath(less)), 'tampered');
  r = runCli(['build', s.recipe, '-o', s.out, '--cache', join(s.dir, 'fresh-cache')]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `reprimage: ${s.uri}/${debPath(less)}: SHA-256 mismatch: expected ${sha256(less.body)}, actual ${sha256('tampered')} (size expected 4, actual 8)\n`);
  assert.equal(existsSync(s.out), false);
});
