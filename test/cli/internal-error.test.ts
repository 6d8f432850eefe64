/**
 * Errors that are not the user's: a bug (a TypeError inside a command, or one nobody catches
 * while an output is being written) prints one line "internal error, please report" and exits
 * 70, with the stack only when REPRIMAGE_DEBUG is set; a dependency's error that carries its
 * source stays one short line; after a first error, a second one stays silent. The failures
 * are planted by test/helpers/plant-errors.ts (loaded with node --import).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { pattern } from '../helpers/sample-tree.js';
import { tempDir } from '../helpers/tools.js';

const HOOK = fileURLToPath(new URL('../helpers/plant-errors.js', import.meta.url));
const BUG = "TypeError: Cannot read properties of undefined (reading 'postMessage')";

function planted(kind: string, args: string[], env: Record<string, string | undefined> = {}) {
  return runCli(args, { env: { NODE_OPTIONS: `--import=${HOOK}`, REPRIMAGE_TEST_PLANT: kind, REPRIMAGE_DEBUG: undefined, ...env } });
}

/** A source directory whose path marks it for the planted failure. */
function source(t: import('node:test').TestContext, files = 1): { dir: string; src: string } {
  const dir = tempDir(t);
  const src = join(dir, 'planted-src');
  mkdirSync(src);
  for (let i = 0; i < files; i++) writeFileSync(join(src, `f${i}`), pattern(256 << 10, i + 1));
  return { dir, src };
}

test('a TypeError inside a command: one line, internal error, exit 70, no stack', (t) => {
  const { dir, src } = source(t);
  const r = planted('typeerror', ['pack', src, '-o', join(dir, 'out.tar'), '--source-date-epoch', '0']);
  assert.equal(r.stderr, `reprimage: internal error, please report: ${BUG}\n`);
  assert.equal(r.status, 70);
  assert.deepEqual(readdirSync(dir), ['planted-src']);
});

test('REPRIMAGE_DEBUG adds the stack after the one line', (t) => {
  const { dir, src } = source(t);
  const r = planted('typeerror', ['pack', src, '-o', join(dir, 'out.tar'), '--source-date-epoch', '0'], { REPRIMAGE_DEBUG: '1' });
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines[0], `reprimage: internal error, please report: ${BUG}`);
  assert.equal(lines[1], BUG);
  assert.match(lines[2] ?? '', /^ {4}at /);
  assert.equal(r.status, 70);
});

test("a dependency's error holding its source: still one short line", (t) => {
  const { dir, src } = source(t);
  const r = planted('dump', ['pack', src, '-o', join(dir, 'out.tar'), '--source-date-epoch', '0']);
  assert.equal(r.status, 70);
  assert.equal(r.stderr.split('\n').length, 2, 'one line');
  assert.match(r.stderr, /^reprimage: internal error, please report: Error: var Module=/);
  assert.ok(r.stderr.length < 400, `${r.stderr.length} bytes on stderr`);
});

test('an exception nobody catches while the output is written: one line, exit 70, no output and no temporary', (t) => {
  const { dir, src } = source(t, 40);
  const r = planted('uncaught', ['pack', src, '-o', join(dir, 'out.sqfs'), '--source-date-epoch', '0']);
  assert.equal(r.stderr, `reprimage: internal error, please report: ${BUG}\n`);
  assert.equal(r.status, 70);
  assert.deepEqual(readdirSync(dir), ['planted-src']);
});

test('the first error is the one reported: a bug right after it prints nothing', (t) => {
  const { dir, src } = source(t);
  const r = planted('second-error', ['pack', src, '-o', join(dir, 'out.tar'), '--source-date-epoch', '0']);
  assert.equal(r.stderr, `reprimage: ${src}: no space left on device\n`);
  assert.equal(r.status, 2);
});
