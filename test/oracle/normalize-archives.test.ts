/**
 * The tar and cpio member handlers on archives made by GNU tar and GNU cpio: after normalize,
 * GNU tar and cpio still list and extract them, every member is owned by 0:0 with its time
 * clamped, members that are themselves artifacts (a gzip with a name, a zip made by Info-ZIP)
 * come out normalized and still pass `gzip -t` and `unzip -t`, a second run changes nothing,
 * and two archives of the same files made at different times, by different owners, in
 * different orders, normalize to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizePaths } from '../../src/normalize/walk.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const T = 1700000000;

/** A small tree with a named gzip and an Info-ZIP zip in it, files dated `when` and owned by `uid`. */
function makeTree(root: string, when: number, uid: number): void {
  mkdirSync(join(root, 'd/sub'), { recursive: true });
  writeFileSync(join(root, 'd/a.txt'), 'hello\n');
  writeFileSync(join(root, 'd/sub/b.txt'), 'x'.repeat(5000));
  run('gzip', ['-k', '-N', join(root, 'd/sub/b.txt')]);
  run('zip', ['-q', '-r', join(root, 'd/c.zip'), 'a.txt'], { cwd: join(root, 'd') });
  for (const p of ['d/a.txt', 'd/sub/b.txt', 'd/sub/b.txt.gz', 'd/c.zip', 'd/sub', 'd']) {
    chownSync(join(root, p), uid, uid);
    utimesSync(join(root, p), when, when);
  }
}

async function normalize(paths: string[]): Promise<string[]> {
  const report = await normalizePaths(paths, { buildTime: T, clamp: true, workers: 1 });
  return report.results.map((r) => `${r.status} ${r.handler ?? ''} ${r.error?.message ?? ''}`.trim());
}

test('GNU tar archives: valid after normalize, members normalized, idempotent, independent of how they were made', async (t) => {
  if (!requireTool(t, 'tar', 'gzip', 'zip', 'unzip')) return;
  if (process.getuid?.() !== 0) return t.skip('needs root to give files other owners');
  const dir = tempDir(t);
  const archives: string[] = [];
  for (const [i, [when, uid, order]] of ([[T + 5000, 1000, 'name'], [T + 9000, 1234, 'none']] as const).entries()) {
    const root = join(dir, `src${i}`);
    makeTree(root, when, uid);
    const out = join(dir, `a${i}.tar`);
    run('tar', ['-C', root, `--sort=${order}`, '-cf', out, 'd']);
    archives.push(out);
  }
  assert.notDeepEqual(readFileSync(archives[0]!), readFileSync(archives[1]!));
  assert.deepEqual(await normalize(archives), ['changed tar', 'changed tar']);
  assert.deepEqual(readFileSync(archives[0]!), readFileSync(archives[1]!), 'same bytes from differently made archives');
  const listing = run('tar', ['--numeric-owner', '--full-time', '-tvf', archives[0]!]).stdout.toString();
  for (const line of listing.trim().split('\n')) {
    assert.match(line, /^\S+ 0\/0 /, line);
    assert.match(line, /2023-11-14 22:13:20/, line);
  }
  const x = join(dir, 'x');
  mkdirSync(x);
  run('tar', ['-C', x, '-xf', archives[0]!]);
  const gz = readFileSync(join(x, 'd/sub/b.txt.gz'));
  assert.equal(gz[3]! & 0x08, 0, 'the member gzip lost its name');
  assert.ok(gz.readUInt32LE(4) <= T, 'and its time is clamped');
  run('gzip', ['-t', join(x, 'd/sub/b.txt.gz')]);
  run('unzip', ['-tq', join(x, 'd/c.zip')]);
  assert.ok(run('zipinfo', ['-T', '-l', join(x, 'd/c.zip')]).stdout.toString().includes('20231114.221320'), 'member zip clamped');
  assert.deepEqual(await normalize(archives), ['unchanged tar', 'unchanged tar']);
  // the expected bytes: what GNU tar itself writes from the normalized members, reproducibly
  const ref = join(dir, 'ref.tar');
  run('tar', ['-C', x, '--sort=name', '--format=gnu', `--mtime=@${T}`, '--clamp-mtime', '--owner=0', '--group=0', '--numeric-owner', '-cf', ref, 'd']);
  assert.deepEqual(readFileSync(archives[0]!), readFileSync(ref), 'byte-identical to GNU tar --sort=name --clamp-mtime --owner=0 --group=0');
});

test('GNU cpio archives: valid after normalize, members normalized, idempotent', async (t) => {
  if (!requireTool(t, 'cpio', 'gzip', 'zip')) return;
  if (process.getuid?.() !== 0) return t.skip('needs root to give files other owners');
  const dir = tempDir(t);
  const root = join(dir, 'src');
  makeTree(root, T + 7000, 1000);
  const archive = join(dir, 'a.cpio');
  run('sh', ['-c', `find d | cpio -o -H newc > ${archive} 2>/dev/null`], { cwd: root });
  assert.deepEqual(await normalize([archive]), ['changed cpio']);
  const listing = run('sh', ['-c', `cpio -itv --numeric-uid-gid < ${archive}`]).stdout.toString();
  assert.match(listing, /d\/sub\/b\.txt\.gz/);
  for (const line of listing.trim().split('\n')) assert.match(line, /^\S+\s+\d+\s+0\s+0\s/, line);
  const x = join(dir, 'x');
  mkdirSync(x);
  run('sh', ['-c', `cpio -idm --quiet < ${archive}`], { cwd: x });
  run('gzip', ['-t', join(x, 'd/sub/b.txt.gz')]);
  assert.equal(readFileSync(join(x, 'd/sub/b.txt.gz'))[3]! & 0x08, 0);
  assert.deepEqual(await normalize([archive]), ['unchanged cpio']);
});
