import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNames, toTreePath } from '../../src/tree/names.js';
import { ReprimageError } from '../../src/errors.js';

test('compareNames sorts as LC_ALL=C sort does on UTF-8 bytes', () => {
  const names = ['b', 'a.b', 'a/x', 'a', 'Z', '\u{1F600}', '\uFFFD', 'é', ''];
  const bytewise = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...names].sort(compareNames), bytewise);
});

test('toTreePath strips ./ and refuses .. and absolute paths', () => {
  assert.equal(toTreePath('./usr//bin/', 'x'), 'usr/bin');
  assert.equal(toTreePath('.', 'x'), '');
  assert.equal(toTreePath('/etc/passwd', 'x', { allowAbsolute: true }), 'etc/passwd');
  assert.throws(() => toTreePath('/etc', 'x'), (e: unknown) => e instanceof ReprimageError && e.code === 'PATH_ESCAPE');
  assert.throws(() => toTreePath('a/../../b', 'x'), (e: unknown) => e instanceof ReprimageError && e.code === 'PATH_ESCAPE');
});
