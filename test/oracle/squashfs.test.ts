// Oracle tests of the SquashFS writer and reader against squashfs-tools 4.5.1 (Debian 12):
// unsquashfs lists and extracts our images exactly; mksquashfs makes the same bytes where we
// claim it; our reader gives the Tree unsquashfs lists for images mksquashfs makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync, openSync, writeSync, closeSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { runCli } from '../helpers/cli.js';
import { openFileSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { openSquashfs } from '../../src/formats/squashfs/index.js';
import type { SquashfsCompressorName } from '../../src/formats/squashfs/index.js';
import { EPOCH, imageOf, materialize, sampleTree, sha256, treeListing, unsquashfsListing } from './squashfs-support.js';

const COMPRESSORS: SquashfsCompressorName[] = ['gzip', 'xz', 'zstd', 'lz4'];

for (const compressor of COMPRESSORS) {
  test(`unsquashfs lists and extracts exactly the Tree we wrote (${compressor}, 2 workers, xattrs)`, async (t) => {
    if (!requireTool(t, 'unsquashfs', 'getfattr')) return;
    const dir = tempDir(t);
    const tree = sampleTree({ xattrs: true });
    const image = join(dir, 'out.sqfs');
    writeFileSync(image, await imageOf(tree, { compressor, workers: 2 }));
    assert.deepEqual(unsquashfsListing(image).sort(), treeListing(tree).sort());
    const out = join(dir, 'x');
    run('unsquashfs', ['-d', out, image]);
    let files = 0;
    for (const { path, node } of tree.walk()) {
      const abs = join(out, path);
      if (node.kind === 'file') {
        assert.equal(sha256(readFileSync(abs)), sha256(await readContent(node.content)), path);
        files++;
      }
      if (node.kind !== 'symlink') {
        const got = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', abs]).toString();
        for (const [k, v] of node.xattrs) assert.ok(got.includes(`${k}=0x${Buffer.from(v).toString('hex')}`), `${path} ${k}`);
        assert.equal((got.match(/=0x/g) ?? []).length, node.xattrs.size, `${path} has only its own xattrs`);
      }
    }
    assert.ok(files > 300);
  });
}

const MK_VARIANTS: Array<{ name: string; mk: string[]; ours: Record<string, boolean> }> = [
  { name: 'defaults', mk: [], ours: {} },
  { name: '-no-fragments', mk: ['-no-fragments'], ours: { noFragments: true } },
  { name: '-always-use-fragments', mk: ['-always-use-fragments'], ours: { alwaysFragments: true } },
  { name: '-no-duplicates', mk: ['-no-duplicates'], ours: { noDuplicates: true } },
  { name: '-noI -noD -noF -noX', mk: ['-noI', '-noD', '-noF', '-noX'], ours: { uncompressedInodes: true, uncompressedData: true, uncompressedFragments: true, uncompressedXattrs: true } },
  { name: '-no-exports -no-xattrs', mk: ['-no-exports', '-no-xattrs'], ours: { exportTable: false, noXattrs: true } },
];

for (const v of MK_VARIANTS) {
  test(`byte-identical to mksquashfs -comp gzip ${v.name} (deflate: zlib)`, async (t) => {
    if (!requireTool(t, 'mksquashfs', 'setfattr')) return;
    const dir = tempDir(t);
    const tree = sampleTree({ xattrs: true, allTime: EPOCH });
    const src = join(dir, 'src');
    await materialize(tree, src);
    const ref = join(dir, 'ref.sqfs');
    run('mksquashfs', [src, ref, '-noappend', '-comp', 'gzip', '-mkfs-time', String(EPOCH), '-all-time', String(EPOCH), '-quiet', '-no-progress', '-processors', '2', ...v.mk]);
    const ours = await imageOf(tree, { compressor: 'gzip', deflate: 'zlib', workers: 2, ...v.ours });
    const theirs = readFileSync(ref);
    assert.equal(ours.length, theirs.length, 'image sizes');
    assert.equal(sha256(ours), sha256(theirs));
  });
}

async function readerMatches(t: import('node:test').TestContext, image: string, expectContents?: Map<string, string>) {
  const source = await openFileSource(image);
  t.after(() => source.close());
  const img = await openSquashfs(source);
  const tree = await img.tree();
  assert.deepEqual(treeListing(tree).sort(), unsquashfsListing(image).sort());
  if (expectContents) {
    for (const { path, node } of tree.walk()) {
      if (node.kind === 'file') assert.equal(sha256(await readContent(node.content)), expectContents.get(path), path);
    }
  }
  return tree;
}

for (const compressor of COMPRESSORS) {
  for (const extra of [[], ['-no-fragments'], ['-no-duplicates'], ['-always-use-fragments']]) {
    test(`reads what mksquashfs -comp ${compressor} ${extra.join(' ')} writes`, async (t) => {
      if (!requireTool(t, 'mksquashfs', 'unsquashfs')) return;
      const dir = tempDir(t);
      const tree = sampleTree({ xattrs: true });
      const src = join(dir, 'src');
      await materialize(tree, src);
      const image = join(dir, 'ref.sqfs');
      run('mksquashfs', [src, image, '-noappend', '-comp', compressor, '-quiet', '-no-progress', ...extra]);
      const contents = new Map<string, string>();
      for (const { path, node } of tree.walk()) if (node.kind === 'file') contents.set(path, sha256(await readContent(node.content)));
      const read = await readerMatches(t, image, contents);
      const caps = read.get('usr/share/doc/caps');
      assert.equal(Buffer.from(caps!.xattrs.get('security.capability')!).toString('hex'), '0100000200200000000000000000000000000000');
      assert.equal(read.get('bin/tool'), read.get('usr/tool-hardlink2'), 'hard links are one node');
    });
  }
}

test('reads a mksquashfs image with a 1500-entry directory and a 5 GiB sparse file', async (t) => {
  if (!requireTool(t, 'mksquashfs', 'unsquashfs')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  execFileSync('mkdir', ['-p', join(src, 'big')]);
  for (let i = 0; i < 1500; i++) writeFileSync(join(src, 'big', `name-${i}`), `${i}\n`);
  const sparse = join(src, 'sparse.img');
  const fd = openSync(sparse, 'w');
  writeSync(fd, Buffer.from('start of the sparse file\n'), 0, 25, 0);
  closeSync(fd);
  execFileSync('truncate', ['-s', '5G', sparse]);
  const image = join(dir, 'big.sqfs');
  run('mksquashfs', [src, image, '-noappend', '-quiet', '-no-progress']);
  const tree = await readerMatches(t, image);
  const big = tree.get('big');
  assert.equal(big?.kind === 'dir' && big.children.size, 1500);
  const node = tree.get('sparse.img');
  assert.ok(node?.kind === 'file');
  assert.equal(node.content.size, 5 * 2 ** 30);
  assert.deepEqual(node.content.dataRegions, [{ offset: 0, length: 131072 }]);
  for await (const chunk of node.content.chunks()) {
    assert.equal(Buffer.from(chunk.subarray(0, 25)).toString(), 'start of the sparse file\n');
    break;
  }
  assert.equal(lstatSync(image).size < 1 << 20, true);
  assert.ok(readdirSync(src).length === 2);
});

test('pack --squashfs-deflate zlib gives the bytes mksquashfs gives; the default (libdeflate) only other data blocks', async (t) => {
  if (!requireTool(t, 'mksquashfs', 'unsquashfs')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  execFileSync('mkdir', ['-p', join(src, 'd')]);
  writeFileSync(join(src, 'd/text'), Buffer.from(Array.from({ length: 40000 }, (_, i) => `line ${i}\n`).join('')));
  writeFileSync(join(src, 'small'), 'x\n');
  execFileSync('touch', ['-h', '-d', '@1600000000', join(src, 'd/text'), join(src, 'small'), join(src, 'd'), src]);
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  const ref = join(dir, 'ref.sqfs');
  run('mksquashfs', [src, ref, '-noappend', '-quiet', '-no-progress'], { env: { ...process.env, ...env } });
  const zlib = join(dir, 'zlib.sqfs');
  const lib = join(dir, 'libdeflate.sqfs');
  assert.equal(runCli(['pack', src, '-o', zlib, '--squashfs-deflate', 'zlib'], { env }).status, 0);
  assert.equal(runCli(['pack', src, '-o', lib], { env }).status, 0);
  assert.equal(sha256(readFileSync(zlib)), sha256(readFileSync(ref)));
  assert.notEqual(sha256(readFileSync(lib)), sha256(readFileSync(ref)));
  assert.deepEqual(unsquashfsListing(lib), unsquashfsListing(ref));
  const bad = runCli(['pack', src, '-o', join(dir, 'x.sqfs'), '--comp', 'xz', '--squashfs-deflate', 'zlib'], { env });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /only the gzip compressor/);
});
