import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compileExcludes, readPatternFile } from '../../src/tree/excludes.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

/** [pattern, paths it matches, paths it does not match] */
const CASES: Array<[string, string[], string[]]> = [
  ['var/cache', ['var/cache', 'var/cache/apt', 'var/cache/apt/x.bin'], ['var', 'var/cache2', 'x/var/cache', 'var/cachex/y']],
  ['/var/cache/', ['var/cache/apt'], ['x/var/cache']],
  ['./etc/machine-id', ['etc/machine-id'], ['etc/machine-id.old']],
  ['var/log/*.log', ['var/log/a.log', 'var/log/.hidden.log', 'var/log/a.log/inner'], ['var/log/apt/a.log', 'var/log/a.log.1']],
  ['usr/*/doc', ['usr/share/doc', 'usr/.x/doc/y'], ['usr/doc', 'usr/a/b/doc']],
  ['**/*.pyc', ['a.pyc', 'usr/lib/x/m.pyc', '.x.pyc'], ['a.pyc.txt']],
  ['usr/**/changelog.gz', ['usr/changelog.gz', 'usr/share/doc/a/changelog.gz'], ['changelog.gz', 'opt/changelog.gz']],
  ['__pycache__', ['__pycache__', 'usr/lib/__pycache__', 'usr/lib/__pycache__/m.pyc'], ['usr/lib/__pycache__x', 'x__pycache__']],
  ['*.log', ['a.log', 'var/log/dpkg.log', 'var/log/dpkg.log/sub'], ['var/log/dpkg.log.1']],
  ['?', ['a', 'dir/b'], ['ab']],
  ['a?c', ['abc'], ['a/c']],
  ['[abc].txt', ['a.txt', 'x/c.txt'], ['d.txt']],
  ['[!abc].txt', ['d.txt'], ['a.txt', 'c.txt']],
  ['[a-c]x', ['bx'], ['dx']],
  ['{a,b}', ['{a,b}'], ['a', 'b']],
  ['!x', ['!x'], ['x', 'y']],
  ['+(a)', ['+(a)'], ['a', 'aa']],
  ['x\\*', ['x*'], ['xy']],
  ['tmp/.keep', ['tmp/.keep'], ['tmp/keep']],
];

test('pattern semantics: anchored, * ? [] in one component, ** across, bare names anywhere, subtrees', () => {
  for (const [pattern, yes, no] of CASES) {
    const m = compileExcludes([pattern], 'test');
    for (const p of yes) assert.equal(m(p), true, `${pattern} should match ${p}`);
    for (const p of no) assert.equal(m(p), false, `${pattern} should not match ${p}`);
  }
  assert.equal(compileExcludes(['*'], 'test')(''), false, 'the root is never excluded');
  assert.equal(compileExcludes([], 'test')('anything'), false);
  const two = compileExcludes(['a', 'b/c'], 'test');
  assert.deepEqual(['a', 'x/a', 'b/c', 'b', 'c'].map(two), [true, true, true, false, false]);
});

test('a matched path matches everything under it (property)', () => {
  const name = fc.stringMatching(/^[a-z.]{1,4}$/).filter((s) => s !== '.' && s !== '..');
  const path = fc.array(name, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
  fc.assert(
    fc.property(fc.constantFrom('*.b', 'a', 'a/*', '**/b', 'a/**/c', '.*'), path, name, (pattern, p, child) => {
      const m = compileExcludes([pattern], 'prop');
      if (m(p)) assert.equal(m(`${p}/${child}`), true);
    }),
    { numRuns: 500 },
  );
});

test('bad patterns are usage errors naming the subject and pattern', () => {
  const cases: Array<[string[], RegExp]> = [
    [[''], /^opts: empty pattern ""/],
    [['/'], /^opts: empty pattern "\/"/],
    [['a', '../etc'], /^opts \(pattern 2\): pattern "\.\.\/etc" has a '\.\.' component/],
    [['x'.repeat(70000)], /^opts: bad pattern .*exceeds maximum/],
  ];
  for (const [patterns, re] of cases) {
    assert.throws(() => compileExcludes(patterns, 'opts'), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && re.test(e.message), re.source);
  }
});

test('pattern files: one per line, # comments and blank lines ignored, blanks trimmed, CRLF accepted', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'excludes.txt');
  writeFileSync(file, '# caches\nvar/cache\n\n   \n  **/*.pyc  \r\n\t# indented comment\nusr/share/doc/*/changelog.gz\n');
  assert.deepEqual(await readPatternFile(file), ['var/cache', '**/*.pyc', 'usr/share/doc/*/changelog.gz']);
});

test('pattern files: a bad line is named FILE:LINE; a missing file is NOT_FOUND', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.txt');
  writeFileSync(file, '# ok\nvar/cache\n\nusr/../etc\n');
  await assert.rejects(readPatternFile(file), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.message.startsWith(`${file}:4: pattern "usr/../etc"`));
  await assert.rejects(readPatternFile(join(dir, 'missing.txt')), (e: unknown) => e instanceof ReprimageError && e.code === 'NOT_FOUND' && e.message.includes('missing.txt'));
});

test('a pattern file may name bytes that are not UTF-8: they match those bytes only (docs/names.md)', async (t) => {
  const file = join(tempDir(t), 'patterns');
  writeFileSync(file, Buffer.from([...Buffer.from('caf'), 0xe9, 0x0a, ...Buffer.from('dir'), 0xff, ...Buffer.from('/*.log\n')]));
  const patterns = await readPatternFile(file);
  assert.deepEqual(patterns, ['caf\udce9', 'dir\udcff/*.log']);
  const excluded = compileExcludes(patterns, file);
  assert.equal(excluded('caf\udce9'), true);
  assert.equal(excluded('etc/caf\udce9'), true);
  assert.equal(excluded('café'), false);
  assert.equal(excluded('dir\udcff/x.log'), true);
  assert.equal(excluded('dir\udcfe/x.log'), false);
});
