// `reprimage diff - B` and `diff A -`: standard input as one side, spooled to a temporary file;
// the report names it `-` (never the temporary file), and gives what the same file gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO, runCli } from '../helpers/cli.js';

const FIXTURES = join(REPO, 'test/fixtures/diff');
const A = 'libexpat1_2.5.0-1+deb12u2_amd64.deb';
const B = 'libexpat1_2.5.0-1+deb12u5_amd64.deb';
/** The shared objects' readelf and objdump views take most of the time and add nothing here. */
const QUICK = ['--color', 'never', '--exclude', '*.so.*'];

function piped(args: string[], input: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, cwd: FIXTURES, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

test('diff - B and diff A -: the report of the files themselves, with standard input named -', () => {
  const direct = runCli(['diff', ...QUICK, A, B], { cwd: FIXTURES });
  assert.equal(direct.status, 1, direct.stderr);
  const left = piped(['diff', ...QUICK, '-', B], readFileSync(join(FIXTURES, A)));
  assert.equal(left.status, 1, left.stderr);
  assert.equal(left.stdout, direct.stdout.split(A).join('-'), 'the same report, `-` for the left side');
  assert.match(left.stdout, /^--- -\n\+\+\+ libexpat1_2\.5\.0-1\+deb12u5_amd64\.deb\n/);
  assert.match(left.stdout, /^│ │ │ -Version: 2\.5\.0-1\+deb12u2$/m);

  const right = piped(['diff', ...QUICK, '--json', '-', B, '-'], readFileSync(join(FIXTURES, A)));
  assert.equal(right.status, 1, right.stderr);
  const json = JSON.parse(right.stdout) as { source1: string; source2: string; path2: string };
  assert.deepEqual([json.source1, json.source2, json.path2], [B, '-', '-']);
  assert.doesNotMatch(right.stdout, /reprimage-stdin-|\/tmp\//);

  const same = piped(['diff', A, '-'], readFileSync(join(FIXTURES, A)));
  assert.equal(same.status, 0, same.stderr);
  assert.equal(same.stdout, '');
});

test("diff - -, and a truncated archive on standard input: one line, or comments that name '-'", () => {
  const both = piped(['diff', '-', '-'], Buffer.alloc(0));
  assert.equal(both.status, 2);
  assert.match(both.stderr, /^reprimage: -: standard input can be only one of the two sides\n$/);

  const cut = readFileSync(join(FIXTURES, A)).subarray(0, 3000);
  const r = piped(['diff', '--color', 'never', '-', A], cut);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^--- -\n/);
  assert.match(r.stdout, /^┄ could not read - as ar: -: truncated ar member data/m);
  assert.doesNotMatch(r.stdout + r.stderr, /reprimage-stdin-|\/tmp\//);
});
