/**
 * The ranges of reprimage versions that give the same bytes (src/rebuild/versions.ts): semver
 * precedence as semver 2.0.0 §11 lists it, the range a manifest records, and when two meet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, rangeText, rangesMeet, sameBytesRange } from '../../src/rebuild/versions.js';
import { SAME_BYTES_SINCE, reprimageRecord, reprimageVersion } from '../../src/recipe/manifest.js';

test('precedence: the ordered example of semver 2.0.0 §11, build metadata ignored, non-versions only equal', () => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0', '10.0.0'];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) assert.equal(compareVersions(ordered[i]!, ordered[j]!), Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}`);
  }
  assert.equal(compareVersions('1.0.0+build.5', '1.0.0'), 0);
  assert.equal(compareVersions('unknown', 'unknown'), 0);
  assert.equal(compareVersions('unknown', '1.0.0'), undefined);
  assert.equal(compareVersions('1.0', '1.0.0'), undefined);
});

test('ranges: from same_bytes_since to the version; a missing or later since is just the version; ranges meet when they share a version', () => {
  assert.deepEqual(sameBytesRange('0.3.2', '0.3.0'), { from: '0.3.0', to: '0.3.2' });
  assert.deepEqual(sameBytesRange('0.3.2', undefined), { from: '0.3.2', to: '0.3.2' });
  assert.deepEqual(sameBytesRange('0.3.2', '0.4.0'), { from: '0.3.2', to: '0.3.2' });
  assert.deepEqual(sameBytesRange('unknown', '0.1.0'), { from: 'unknown', to: 'unknown' });
  const built = sameBytesRange('0.3.2', '0.3.0');
  assert.equal(rangesMeet(built, sameBytesRange('0.3.1', '0.3.0')), true); // an older version of the run
  assert.equal(rangesMeet(built, sameBytesRange('0.3.5', '0.3.0')), true); // a later one that declares the same run
  assert.equal(rangesMeet(built, sameBytesRange('0.3.5', '0.3.2')), true); // the run restated from the built version
  assert.equal(rangesMeet(built, sameBytesRange('0.3.5', '0.3.4')), false); // a later run
  assert.equal(rangesMeet(built, sameBytesRange('0.2.9', '0.2.0')), false); // an earlier run
  assert.equal(rangesMeet(sameBytesRange('unknown', undefined), sameBytesRange('unknown', undefined)), true);
  assert.equal(rangesMeet(sameBytesRange('unknown', undefined), sameBytesRange('0.1.0', undefined)), false);
  assert.equal(rangeText(built), '0.3.0 to 0.3.2');
  assert.equal(rangeText(sameBytesRange('0.3.2', undefined)), '0.3.2');
});

test("this reprimage's record: its version and a same_bytes_since not after it", () => {
  assert.deepEqual(reprimageRecord(), { version: reprimageVersion(), same_bytes_since: SAME_BYTES_SINCE });
  const order = compareVersions(SAME_BYTES_SINCE, reprimageVersion());
  assert.ok(order !== undefined && order <= 0, `SAME_BYTES_SINCE ${SAME_BYTES_SINCE} is after the version ${reprimageVersion()}`);
});
