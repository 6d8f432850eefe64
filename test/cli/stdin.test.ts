// `-` as the input of `pack` and `ls`: a tar or cpio stream, compressed or not, read from
// standard input; a broken stream is one line naming `-`, never the temporary file it was
// copied to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tools.js';

function piped(args: string[], input: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, cwd: REPO });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

test("pack - and ls - read a tar or cpio stream from standard input; a broken one names '-'", (t) => {
  const dir = tempDir(t, 'reprimage-stdin-');
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'hello'), 'hello\n');
  for (const format of ['tar', 'cpio.gz']) {
    const archive = join(dir, `a.${format}`);
    assert.equal(runCli(['pack', tree, '-o', archive, '--source-date-epoch', '1700000000']).status, 0);
    const listed = piped(['ls', '-'], readFileSync(archive));
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout, runCli(['ls', archive]).stdout, `ls - of ${format} lists what ls of the file does`);
    const out = join(dir, `from-stdin-${format}.tar`);
    const packed = piped(['pack', '-', '-o', out, '--source-date-epoch', '1700000000'], readFileSync(archive));
    assert.equal(packed.status, 0, packed.stderr);
    assert.deepEqual(readFileSync(out), readFileSync(join(dir, 'a.tar')), `pack - of ${format} gives the bytes pack of the tree gives`);
  }
  const broken = piped(['ls', '-'], readFileSync(join(dir, 'a.tar')).subarray(0, 700));
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /^reprimage: -: .+\n$/);
  assert.doesNotMatch(broken.stderr, /reprimage-stdin-|\/tmp\//);
});
