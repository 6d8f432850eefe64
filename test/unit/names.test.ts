import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { compareNames, displayName, fsPath, hasEscapedBytes, nameBytes, nameFromBytes, toTreePath } from '../../src/tree/names.js';
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

// ---- names that are not UTF-8 (docs/design.md rule 8, docs/names.md) -----------------------------

const bytesOf = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

test('nameFromBytes keeps UTF-8 as it is and each other byte as U+DC80..U+DCFF; nameBytes undoes it', () => {
  const cases: Array<[Buffer, string]> = [
    [bytesOf('café'), 'café'],
    [bytesOf('caf', [0xe9]), 'caf\udce9'], // Latin-1
    [bytesOf([0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), '\udcd0\udcd2\udcc9\udcd7\udcc5\udcd4'], // KOI8-R "привет"
    [bytesOf('sur', [0xed, 0xb2, 0x80]), 'sur\udced\udcb2\udc80'], // an encoded surrogate is not UTF-8
    [bytesOf([0xc0, 0xaf]), '\udcc0\udcaf'], // overlong '/'
    [bytesOf([0xf4, 0x90, 0x80, 0x80]), '\udcf4\udc90\udc80\udc80'], // above U+10FFFF
    [bytesOf('\u{1F600}', [0xff], 'x'), '\u{1F600}\udcffx'],
    [bytesOf([0xe2, 0x82]), '\udce2\udc82'], // cut short
  ];
  for (const [bytes, name] of cases) {
    assert.equal(nameFromBytes(bytes), name, bytes.toString('hex'));
    assert.deepEqual(Buffer.from(nameBytes(name)), bytes, name);
  }
  assert.equal(hasEscapedBytes('caf\udce9'), true);
  assert.equal(hasEscapedBytes('café \u{1F600}'), false);
});

test('bytes -> name -> bytes is the identity for any bytes, and UTF-8 text decodes to itself (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      assert.deepEqual(Buffer.from(nameBytes(nameFromBytes(bytes))), Buffer.from(bytes));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
      assert.equal(nameFromBytes(Buffer.from(s, 'utf8')), s);
    }),
  );
});

/** Names of a few bytes each, dense in the values where UTF-8 lead and continuation bytes meet. */
const byteNames = fc.array(
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => b.map((x) => (x % 3 === 0 ? 0x61 + (x % 4) : x))),
  { minLength: 2, maxLength: 30 },
);

test('compareNames orders by the real bytes, escaped bytes against valid sequences included (fast-check)', () => {
  fc.assert(
    fc.property(byteNames, (list) => {
      const names = list.map(nameFromBytes);
      const sorted = [...names].sort(compareNames).map((n) => Buffer.from(nameBytes(n)).toString('hex'));
      const expected = list.map((b) => Buffer.from(b)).sort(Buffer.compare).map((b) => b.toString('hex'));
      assert.deepEqual(sorted, expected);
    }),
    { numRuns: 1000 },
  );
});

test('compareNames order equals `LC_ALL=C sort` on names that are not UTF-8', () => {
  const samples = fc.sample(byteNames, { numRuns: 20, seed: 20 }).flat();
  // sort(1) reads lines: leave out newlines (and NUL, which no name holds)
  const names = samples.map((b) => Buffer.from(b.filter((x) => x !== 0x0a && x !== 0)));
  const input = Buffer.concat(names.flatMap((b) => [b, Buffer.from('\n')]));
  const r = spawnSync('sort', [], { input, env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0);
  const bySort = (r.stdout as Buffer).toString('hex').split('0a').filter((_, i, a) => i < a.length - 1);
  const ours = names.map(nameFromBytes).sort(compareNames).map((n) => Buffer.from(nameBytes(n)).toString('hex'));
  assert.equal(ours.length, names.length);
  assert.deepEqual(ours, bySort);
});

test('displayName escapes as tar -tv does: bytes that are not UTF-8 in octal, controls, backslash', () => {
  assert.equal(displayName('café'), 'café');
  assert.equal(displayName('caf\udce9'), 'caf\\351');
  assert.equal(displayName('new\nline\ttab'), 'new\\nline\\ttab');
  assert.equal(displayName('back\\slash'), 'back\\\\slash');
  assert.equal(displayName('bell\x07 del\x7f esc\x1b'), 'bell\\a del\\177 esc\\033');
  assert.equal(displayName('c1\u0085'), 'c1\\302\\205');
  assert.equal(displayName('\u{1F600}\udcff'), '\u{1F600}\\377');
  assert.equal(displayName('dir\udcff/\udce9t\udce9'), 'dir\\377/\\351t\\351');
});

test('fsPath is the string for UTF-8 paths and the bytes otherwise', () => {
  assert.equal(fsPath('/tmp/café'), '/tmp/café');
  assert.deepEqual(fsPath('/tmp/caf\udce9'), bytesOf('/tmp/caf', [0xe9]));
});
