// Oracle tests of the SquashFS xz codec (liblzma 5.8.2 in WebAssembly, lzma_stream_buffer_encode)
// against mksquashfs -comp xz, which makes the same call with the same settings through the
// host's liblzma (5.4.1 on Debian 12): the images must be byte-identical. A failure here on
// another host can also mean that its liblzma encodes differently; unsquashfs must still extract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { readContent } from '../../src/tree/content.js';
import { EPOCH, imageOf, materialize, sampleTree, sha256, treeListing, unsquashfsListing } from './squashfs-support.js';

const VARIANTS: Array<{ name: string; mk: string[]; ours: { blockSize?: number; xzBcj?: 'x86' } }> = [
  { name: 'defaults', mk: [], ours: {} },
  { name: '-Xbcj x86', mk: ['-Xbcj', 'x86'], ours: { xzBcj: 'x86' } },
  { name: '-b 1M', mk: ['-b', '1048576'], ours: { blockSize: 1048576 } },
];

for (const v of VARIANTS) {
  test(`byte-identical to mksquashfs -comp xz ${v.name}, and unsquashfs extracts it`, async (t) => {
    if (!requireTool(t, 'mksquashfs', 'unsquashfs', 'setfattr')) return;
    const dir = tempDir(t);
    const tree = sampleTree({ xattrs: true, allTime: EPOCH });
    const src = join(dir, 'src');
    await materialize(tree, src);
    const ref = join(dir, 'ref.sqfs');
    run('mksquashfs', [src, ref, '-noappend', '-comp', 'xz', '-mkfs-time', String(EPOCH), '-all-time', String(EPOCH), '-quiet', '-no-progress', '-processors', '2', ...v.mk]);
    const ours = await imageOf(tree, { compressor: 'xz', workers: 2, ...v.ours });
    const theirs = readFileSync(ref);
    assert.equal(ours.length, theirs.length, 'image sizes');
    assert.equal(sha256(ours), sha256(theirs));
    const image = join(dir, 'ours.sqfs');
    writeFileSync(image, ours);
    assert.deepEqual(unsquashfsListing(image).sort(), treeListing(tree).sort());
    const out = join(dir, 'x');
    run('unsquashfs', ['-no-xattrs', '-d', out, image]);
    let files = 0;
    for (const { path, node } of tree.walk()) {
      if (node.kind !== 'file') continue;
      assert.equal(sha256(readFileSync(join(out, path))), sha256(await readContent(node.content)), path);
      files++;
    }
    assert.ok(files > 300);
  });
}
