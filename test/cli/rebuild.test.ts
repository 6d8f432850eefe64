/**
 * The `reprimage rebuild` command as users run it, without a real build (`--rebuilt`): the
 * verdict line and exit status of each verdict, `--json`, and bad input as one line on stderr
 * with exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tools.js';
import { MOTD, writeImage, writeMediumWithRecord, writeRelease } from '../helpers/rebuild-release.js';

test('rebuild prints its verdict and exits 0 reproduced, 1 differs, 2 cannot rebuild', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-cli-');
  const { image, manifest } = await writeRelease(join(dir, 'release'));
  const same = join(dir, 'same.tar');
  await writeImage(same);
  const other = join(dir, 'other.tar');
  await writeImage(other, MOTD.replace('Built', 'built'));

  const good = runCli(['rebuild', image, '-o', join(dir, 'w'), '--rebuilt', same]);
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /^reproduced: image\.tar: sha256 [0-9a-f]{64}\n/);

  const bad = runCli(['rebuild', manifest, '-o', join(dir, 'w'), '--rebuilt', other]);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /^differs: image\.tar: sha256 [0-9a-f]{64} published, [0-9a-f]{64} rebuilt; 1 difference: image\.tar ▸ etc\/motd\n/);
  assert.match(bad.stdout, /│ -Built by reprimage/);

  const json = runCli(['rebuild', join(dir, 'release'), '-o', join(dir, 'w'), '--rebuilt', other, '--json']);
  assert.equal(json.status, 1, json.stderr);
  const report = JSON.parse(json.stdout) as { verdict: string; differences: string[]; files: Record<string, string> };
  assert.equal(report.verdict, 'differs');
  assert.deepEqual(report.differences, ['image.tar ▸ etc/motd']);
  assert.ok(readFileSync(report.files.diff_json!, 'utf8').includes('etc/motd'));

  await writeRelease(join(dir, 'ext'), (r) => (r.inputs.external = ['/srv/overlay']));
  const cannot = runCli(['rebuild', join(dir, 'ext', 'image.tar'), '-o', join(dir, 'w2')]);
  assert.equal(cannot.status, 2, cannot.stderr);
  assert.match(cannot.stdout, /^cannot rebuild: image\.tar: .*manifest\.json: the recipe used inputs outside its directory, which the manifest does not carry: \/srv\/overlay\n$/);

  // built by versions whose bytes this reprimage does not give: refused before anything is fetched or built
  await writeRelease(join(dir, 'old'), (r) => (r.reprimage = { version: '0.0.9', same_bytes_since: '0.0.5' }));
  const old = runCli(['rebuild', join(dir, 'old', 'image.tar'), '-o', join(dir, 'w3')]);
  assert.equal(old.status, 2, old.stderr);
  assert.match(old.stdout, /^cannot rebuild: image\.tar: .*old\/manifest\.json: built with reprimage 0\.0\.9 \(the same bytes as 0\.0\.5 to 0\.0\.9\); this is reprimage \d+\.\d+\.\d+\S* \(the same bytes as [^)]+\): rebuild with reprimage 0\.0\.5 to 0\.0\.9\n$/);
});

test('bad input is one line on stderr naming the file, exit 2, nothing on stdout', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-cli-');
  const { image, manifest } = await writeRelease(join(dir, 'release'));
  const cases: Array<[string[], RegExp]> = [
    [['rebuild', join(dir, 'nope.iso'), '-o', join(dir, 'w')], /nope\.iso: no build manifest beside it/],
    [['rebuild', image, '--manifest', join(dir, 'nope.json'), '-o', join(dir, 'w')], /nope\.json: /],
    [['rebuild', image, '-o', join(dir, 'w'), '--workers', '0'], /--workers/],
  ];
  writeFileSync(join(dir, 'edited.json'), readFileSync(manifest, 'utf8').replace('"name": "rebuild-test"', '"name": "rebuild-tesu"'));
  cases.push([['rebuild', image, '--manifest', join(dir, 'edited.json'), '-o', join(dir, 'w')], /edited\.json: reproducible_sha256 is [0-9a-f]{64}, but the reproducible part hashes to [0-9a-f]{64}: the manifest was changed after its build/]);
  writeFileSync(join(dir, 'text.json'), 'hello');
  cases.push([['rebuild', image, '--manifest', join(dir, 'text.json'), '-o', join(dir, 'w')], /text\.json: not a build manifest: not JSON/]);
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^reprimage[^\n]*\n$/, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('an ISO that carries its build record is rebuilt from the ISO alone; what it lacks or was changed is one line, exit 2', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-inside-');
  const medium = join(dir, 'release', 'live.iso');
  mkdirSync(join(dir, 'release'));
  await writeMediumWithRecord(medium, join(dir, 'make'));
  const same = join(dir, 'same.iso');
  await writeMediumWithRecord(same, join(dir, 'make2'));
  const other = join(dir, 'other.iso');
  await writeMediumWithRecord(other, join(dir, 'make3'), { motd: MOTD.replace('Built', 'built') });

  const good = runCli(['rebuild', medium, '-o', join(dir, 'w'), '--rebuilt', same, '--json']);
  assert.equal(good.status, 0, good.stderr);
  const report = JSON.parse(good.stdout) as { verdict: string; manifest: { uri: string }; published: { listed: boolean } };
  assert.equal(report.verdict, 'reproduced');
  assert.equal(report.manifest.uri, `${medium} ▸ .reprimage/manifest.json`);
  assert.equal(report.published.listed, true);

  const bad = runCli(['rebuild', medium, '-o', join(dir, 'w'), '--rebuilt', other]);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /^differs: live\.iso: .*; 1 difference: live\.iso ▸ etc\/motd\n/);

  // without --rebuilt the bundle on the medium is unpacked and checked, then the build is tried (it cannot succeed here)
  const tried = runCli(['rebuild', medium, '-o', join(dir, 'w2')]);
  assert.equal(tried.status, 2, tried.stderr);
  // the fake lock of the test recipe is what stops it: the inputs were had and passed their hashes
  assert.match(tried.stdout, /^cannot rebuild: live\.iso: \S*w2\/inputs\/recipe\.yaml\.lock: /);
  assert.doesNotMatch(tried.stdout, /bundle|SHA-256 mismatch|cannot be had/);
  assert.ok(existsSync(join(dir, 'w2', 'inputs', 'recipe.yaml')), 'the recipe came out of the medium');

  // a medium whose bundle was changed: the recorded hash catches it
  const tampered = join(dir, 'tampered.iso');
  await writeMediumWithRecord(tampered, join(dir, 'make4'), { tamperBundle: true });
  const t1 = runCli(['rebuild', tampered, '-o', join(dir, 'w3')]);
  assert.equal(t1.status, 2, t1.stderr);
  assert.match(t1.stdout, /^cannot rebuild: tampered\.iso: .*recipe-inputs\.tar: SHA-256 mismatch: the manifest records [0-9a-f]{64}/);

  // a medium without a record, and one whose record was edited after it was hashed
  const bare = join(dir, 'bare.iso');
  await writeMediumWithRecord(bare, join(dir, 'make5'), { carry: { manifest: false, bundle: false } });
  const none = runCli(['rebuild', bare, '-o', join(dir, 'w4')]);
  assert.equal(none.status, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^reprimage: .*bare\.iso: no build manifest beside it \(manifest\.json\) or inside it \(\.reprimage\/manifest\.json\): give it with --manifest\n$/);
  const edited = join(dir, 'edited.iso');
  await writeMediumWithRecord(edited, join(dir, 'make6'));
  const bytes = readFileSync(edited);
  const at = bytes.indexOf('"name": "rebuild-test"');
  assert.ok(at > 0);
  bytes.write('"name": "rebuild-tesu"', at);
  writeFileSync(edited, bytes);
  const e = runCli(['rebuild', edited, '-o', join(dir, 'w5')]);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /edited\.iso ▸ \.reprimage\/manifest\.json: reproducible_sha256 is [0-9a-f]{64}, but the reproducible part hashes to [0-9a-f]{64}: the manifest was changed/);
});
