// tar against GNU tar 1.34 and bsdtar: byte-identical output, extraction of our archives, and
// reading theirs. Trees come from test/helpers/disk-tree.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, openSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { applyPolicy } from '../../src/tree/policy.js';
import { treeToJson } from '../../src/tree/describe.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { writeTar, loadTar, type TarFlavour } from '../../src/formats/tar/index.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { openFileSource } from '../../src/io/source.js';
import { makeSampleTree, SAMPLE_MTIME } from '../helpers/disk-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const GNU_FLAGS = (epoch: number) => ['--sort=name', `--mtime=@${epoch}`, '--clamp-mtime', '--owner=0', '--group=0', '--numeric-owner'];
const PAX_OPTION = '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime';

async function ourTar(src: string, out: string, format: TarFlavour, epoch: number, owner: 'root' | 'keep' = 'root'): Promise<Tree> {
  const tree = await loadDirectory(src);
  applyPolicy(tree, { sourceDateEpoch: epoch, clampMtime: true, owner, permissions: 'keep', excludes: [], emptyFiles: [] });
  await writeAtomically(out, (sink) => writeTar(tree, sink, { format, headerTime: epoch }));
  return tree;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

for (const epoch of [SAMPLE_MTIME + 1000, SAMPLE_MTIME - 1000]) {
  test(`gnu format is byte-identical to GNU tar (SOURCE_DATE_EPOCH ${epoch > SAMPLE_MTIME ? 'after' : 'before'} the mtimes)`, async (t) => {
    if (!requireTool(t, 'tar')) return;
    const dir = tempDir(t);
    makeSampleTree(join(dir, 'src'));
    run('tar', [...GNU_FLAGS(epoch), '--format=gnu', '-C', join(dir, 'src'), '-cf', join(dir, 'gnu.tar'), '.']);
    await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'gnu', epoch);
    assert.equal(sha(join(dir, 'ours.tar')), sha(join(dir, 'gnu.tar')));
  });
}

test('pax format is byte-identical to GNU tar --format=pax --xattrs with the documented options', async (t) => {
  if (!requireTool(t, 'tar', 'setfattr')) return;
  const dir = tempDir(t);
  makeSampleTree(join(dir, 'src'));
  // sub-second mtimes travel in pax records
  run('touch', ['-d', '@1600000000.123456789', join(dir, 'src/etc/hostname')]);
  const epoch = SAMPLE_MTIME + 1000;
  run('tar', [...GNU_FLAGS(epoch), '--format=pax', PAX_OPTION, '--xattrs', '--xattrs-include=*', '-C', join(dir, 'src'), '-cf', join(dir, 'gnu.tar'), '.']);
  await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'pax', epoch);
  assert.equal(sha(join(dir, 'ours.tar')), sha(join(dir, 'gnu.tar')));
});

for (const [tool, args] of [
  ['tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf']],
  ['bsdtar', ['--xattrs', '--numeric-owner', '-xpf']],
] as const) {
  test(`${tool} extracts our pax archive back to the same tree (names, modes, owners, times, targets, devices, xattrs)`, async (t) => {
    if (!requireTool(t, tool, 'setfattr')) return;
    const dir = tempDir(t);
    makeSampleTree(join(dir, 'src'));
    const tree = await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'pax', SAMPLE_MTIME + 1000, 'keep');
    mkdirSync(join(dir, 'out'));
    run(tool, [...args, join(dir, 'ours.tar'), '-C', join(dir, 'out')]);
    const back = treeToJson(await loadDirectory(join(dir, 'out')));
    // bsdtar does not set the time of the directory it extracts into (the './' entry)
    if (tool === 'bsdtar') back[0]!.mtime = treeToJson(tree)[0]!.mtime;
    assert.deepEqual(back, treeToJson(tree));
  });
}

test('GNU tar lists our gnu archive with the same names and types', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  makeSampleTree(join(dir, 'src'));
  const tree = await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'gnu', SAMPLE_MTIME);
  const listed = run('tar', ['-tf', join(dir, 'ours.tar')]).stdout.toString().trim().split('\n');
  const expected = treeToJson(tree).map((e) => (e.path === '.' ? './' : `./${e.path}${e.type === 'dir' ? '/' : ''}`));
  assert.deepEqual(listed, expected);
});

async function readBack(path: string): Promise<Tree> {
  const source = await openFileSource(path);
  return loadTar(source);
}

/** What an archive tool made from `src` should read back as, given its owner and time policy. */
async function expectedFrom(src: string, owner: 'keep' | 'root', epoch?: number, xattrs = true) {
  const tree = await loadDirectory(src, { xattrs });
  applyPolicy(tree, { sourceDateEpoch: epoch ?? 2 ** 40, clampMtime: epoch !== undefined, owner, permissions: 'keep', excludes: [], emptyFiles: [] });
  return treeToJson(tree);
}

for (const [label, tool, args, xattrs, nsec] of [
  ['GNU tar --format=gnu', 'tar', ['--format=gnu'], false, false],
  ['GNU tar --format=posix --xattrs', 'tar', ['--format=posix', '--xattrs', '--xattrs-include=*'], true, true],
  ['bsdtar --format=pax', 'bsdtar', ['--format=pax', '--xattrs'], true, true],
  ['bsdtar --format=gnutar', 'bsdtar', ['--format=gnutar'], false, false],
] as const) {
  test(`reads what ${label} writes as the tree on disk`, async (t) => {
    if (!requireTool(t, tool, 'setfattr')) return;
    const dir = tempDir(t);
    makeSampleTree(join(dir, 'src'));
    run('touch', ['-d', '@1600000000.5', join(dir, 'src/etc/empty')]);
    run(tool, [...args, '-C', join(dir, 'src'), '-cf', join(dir, 'theirs.tar'), '.']);
    const got = treeToJson(await readBack(join(dir, 'theirs.tar')));
    let want = await expectedFrom(join(dir, 'src'), 'keep', undefined, xattrs);
    if (!nsec) want = want.map((e) => ({ ...e, mtime: e.mtime.split('.')[0]! }));
    assert.deepEqual(got, want);
  });
}

test('reads GNU tar --sparse members (pax 1.0 and old GNU) with their holes', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  mkdirSync(join(dir, 'src'));
  const file = join(dir, 'src/sparse.img');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, 5 << 20);
  writeSync(fd, Buffer.from('middle'), 0, 6, 2 << 20);
  writeSync(fd, Buffer.from('end'), 0, 3, (5 << 20) - 3);
  closeSync(fd);
  const want = createHash('sha256').update(readFileSync(file)).digest('hex');
  for (const args of [['--format=gnu'], ['--format=pax', '--sparse-version=1.0'], ['--format=pax', '--sparse-version=0.1']]) {
    const out = join(dir, `s${args.join('')}.tar`);
    run('tar', ['--sparse', ...args, '-C', join(dir, 'src'), '-cf', out, '.']);
    const tree = await readBack(out);
    const node = tree.get('sparse.img');
    assert.equal(node?.kind, 'file', args.join(' '));
    if (node?.kind !== 'file') return;
    assert.equal(node.content.size, 5 << 20);
    assert.ok(node.content.dataRegions && node.content.dataRegions.length >= 1, `sparse map for ${args.join(' ')}`);
    assert.equal(createHash('sha256').update(await readContent(node.content)).digest('hex'), want, args.join(' '));
  }
});

test('reads an archive written by Go archive/tar (fixture)', async () => {
  // test/fixtures/tar/go-archive.tar: see test/fixtures/tar/README.md for how it was made
  const tree = await readBack(join(process.cwd(), 'test/fixtures/tar/go-archive.tar'));
  const json = treeToJson(tree);
  const byPath = new Map(json.map((e) => [e.path, e]));
  assert.equal(byPath.get('dir')?.type, 'dir');
  assert.equal(byPath.get('dir/file.txt')?.size, 13);
  assert.equal(byPath.get('dir/link')?.target, 'file.txt');
  assert.equal(byPath.get('dir/' + 'long-'.repeat(30) + 'name')?.type, 'file');
  assert.equal(byPath.get('dir/file.txt')?.mtime, '1600000000.500000000');
  assert.deepEqual(byPath.get('dir/file.txt')?.xattrs, { 'user.origin': Buffer.from('go').toString('hex') });
  const file = tree.get('dir/file.txt');
  assert.equal(file?.kind === 'file' ? Buffer.from(await readContent(file.content)).toString() : '', 'hello from go');
});
