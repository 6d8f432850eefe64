/**
 * The `reprimage rebuild` command as users run it, without a real build (`--rebuilt`): the
 * verdict line and exit status of each verdict, `--json`, and bad input as one line on stderr
 * with exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tools.js';
import { MOTD, writeImage, writeRelease } from '../helpers/rebuild-release.js';

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
