// cpio newc against GNU cpio and bsdtar: byte-identical output, extraction of our archives,
// reading theirs, and concatenated initramfs images with compressed segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { applyPolicy } from '../../src/tree/policy.js';
import { treeToJson } from '../../src/tree/describe.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { writeCpio, loadCpio } from '../../src/formats/cpio/index.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { openFileSource } from '../../src/io/source.js';
import { makeSampleTree, SAMPLE_MTIME } from '../helpers/disk-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function ourCpio(src: string, out: string, epoch = SAMPLE_MTIME + 1000): Promise<Tree> {
  const tree = await loadDirectory(src, { xattrs: false });
  applyPolicy(tree, { buildTime: epoch, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
  await writeAtomically(out, (sink) => writeCpio(tree, sink, { buildTime: epoch }));
  return tree;
}

function gnuCpio(src: string, out: string): void {
  run('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible > "$2"', 'sh', src, out]);
}

/** The tree as a cpio archive holds it: no xattrs, whole-second times. */
function cpioView(tree: Tree) {
  return treeToJson(tree).map(({ xattrs: _x, ...e }) => ({ ...e, mtime: e.mtime.split('.')[0]! }));
}

test('newc output is byte-identical to find | LC_ALL=C sort | cpio -o -H newc --reproducible', async (t) => {
  if (!requireTool(t, 'cpio')) return;
  const dir = tempDir(t);
  makeSampleTree(join(dir, 'src'));
  // a second hard-link group whose links are far apart in sorted order, as GNU cpio defers them
  run('ln', [join(dir, 'src/a.b'), join(dir, 'src/usr/a.b-link')]);
  run('touch', ['-h', '-d', `@${SAMPLE_MTIME}`, join(dir, 'src/usr'), join(dir, 'src')]);
  gnuCpio(join(dir, 'src'), join(dir, 'gnu.cpio'));
  await ourCpio(join(dir, 'src'), join(dir, 'ours.cpio'));
  assert.equal(sha(join(dir, 'ours.cpio')), sha(join(dir, 'gnu.cpio')));
});

test('GNU cpio extracts our archive back to the same tree', async (t) => {
  if (!requireTool(t, 'cpio')) return;
  const dir = tempDir(t);
  makeSampleTree(join(dir, 'src'));
  const tree = await ourCpio(join(dir, 'src'), join(dir, 'ours.cpio'));
  mkdirSync(join(dir, 'out'));
  run('sh', ['-c', 'cd "$1" && cpio --quiet -idmu --no-absolute-filenames < "$2"', 'sh', join(dir, 'out'), join(dir, 'ours.cpio')]);
  const back = cpioView(await loadDirectory(join(dir, 'out'), { xattrs: false }));
  // GNU cpio sets a directory's time when it creates it, before filling it, and never sets
  // the times of symlinks: those are the tool's limits, not the archive's content
  const want = cpioView(tree);
  for (const [i, e] of back.entries()) if (e.type === 'symlink' || e.type === 'dir') e.mtime = want[i]!.mtime;
  assert.deepEqual(back, want);
});

test('bsdtar lists our archive with the same names, modes and link targets', async (t) => {
  if (!requireTool(t, 'bsdtar')) return;
  const dir = tempDir(t);
  makeSampleTree(join(dir, 'src'));
  const tree = await ourCpio(join(dir, 'src'), join(dir, 'ours.cpio'));
  const names = run('bsdtar', ['-tf', join(dir, 'ours.cpio')]).stdout.toString().trim().split('\n').sort();
  const want = treeToJson(tree).map((e) => e.path).sort();
  assert.deepEqual(names, want);
});

for (const [label, make] of [
  ['GNU cpio -H newc', (src: string, out: string) => gnuCpio(src, out)],
  ['GNU cpio -H crc', (src: string, out: string) => run('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H crc > "$2"', 'sh', src, out])],
  ['GNU cpio -H odc', (src: string, out: string) => run('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H odc > "$2"', 'sh', src, out])],
  ['bsdtar --format newc', (src: string, out: string) => run('bsdtar', ['--format', 'newc', '-C', src, '-cf', out, '.'])],
] as const) {
  test(`reads what ${label} writes as the tree on disk`, async (t) => {
    if (!requireTool(t, 'cpio', 'bsdtar')) return;
    const dir = tempDir(t);
    makeSampleTree(join(dir, 'src'), { devices: !label.includes('odc') });
    make(join(dir, 'src'), join(dir, 'theirs.cpio'));
    const got = cpioView(await loadCpio(await openFileSource(join(dir, 'theirs.cpio'))));
    assert.deepEqual(got, cpioView(await loadDirectory(join(dir, 'src'), { xattrs: false })));
  });
}

for (const [codec, command] of [
  ['gzip', 'gzip -9n'],
  ['xz', 'xz --check=crc32'],
  ['zstd', 'zstd -q -19'],
] as const) {
  test(`reads a concatenated initramfs: plain early cpio, then a ${codec}-compressed main cpio`, async (t) => {
    if (!requireTool(t, 'cpio', codec)) return;
    const dir = tempDir(t);
    mkdirSync(join(dir, 'early/kernel/x86/microcode'), { recursive: true });
    writeFileSync(join(dir, 'early/kernel/x86/microcode/GenuineIntel.bin'), Buffer.alloc(5000, 7));
    makeSampleTree(join(dir, 'main'));
    gnuCpio(join(dir, 'early'), join(dir, 'early.cpio'));
    run('sh', ['-c', `cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible | ${command} > "$2"`, 'sh', join(dir, 'main'), join(dir, 'main.cpio.z')]);
    writeFileSync(join(dir, 'initrd.img'), Buffer.concat([readFileSync(join(dir, 'early.cpio')), readFileSync(join(dir, 'main.cpio.z'))]));
    const tree = await loadCpio(await openFileSource(join(dir, 'initrd.img')));
    const micro = tree.get('kernel/x86/microcode/GenuineIntel.bin');
    assert.equal(micro?.kind === 'file' ? micro.content.size : -1, 5000);
    const tool = tree.get('usr/bin/tool');
    assert.equal(tool?.kind === 'file' ? Buffer.from(await readContent(tool.content)).subarray(0, 5).toString() : '', 'tool ');
    assert.ok(tree.get('usr/bin/tool-hardlink') === tool, 'hard links in the compressed segment stay one node');
    assert.equal(tree.get('kernel')?.kind, 'dir');
  });
}
