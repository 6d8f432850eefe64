// zisofs-compressed files in ISO 9660 images (Rock Ridge ZF entries), made by xorriso's --zisofs
// filter at 32, 64 and 128 KiB blocks, and by mkzftree + `xorriso -as mkisofs -z`: the reader
// must give each file's real size and bytes, exactly what `xorriso -osirrox on -extract` gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openIso } from '../../src/formats/iso9660/index.js';
import { openFileSource } from '../../src/io/source.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import type { Tree } from '../../src/tree/tree.js';
import { materialize, pattern, sampleSpec, treeListing } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const EPOCH = 1_650_000_000;

/** The sample tree plus files zisofs changes: compressible text over several blocks, a zero block inside, an incompressible file. */
function source(dir: string): string {
  const src = join(dir, 'src');
  const spec = sampleSpec();
  spec.entries.push(
    { type: 'file', path: 'big/text', content: 'all work and no play makes a dull image\n'.repeat(20_000) },
    { type: 'file', path: 'big/zeros-inside', content: Buffer.concat([Buffer.from('head'.repeat(9000)), Buffer.alloc(300_000), Buffer.from('tail')]) },
    { type: 'file', path: 'big/noise', content: pattern(150_000, 5) },
  );
  materialize(spec, src, { epoch: EPOCH });
  return src;
}

/**
 * Names, types, sizes and content hashes of files, directories and symlinks (what xorriso's
 * extraction gives without device permissions; owners and times are not the point here).
 */
async function shape(tree: Tree) {
  // (the second name of a hard link is listed as a link to the first, which xorriso's extraction does not make)
  return (await treeListing(tree)).filter((e) => e.path !== '.' && ['file', 'dir', 'symlink'].includes(e.type) && e.path !== 'usr/bin/tool-hardlink').map((e) => ({ path: e.path, type: e.type, size: e.size, sha256: e.sha256, target: e.target }));
}

async function check(t: import('node:test').TestContext, dir: string, iso: string): Promise<void> {
  const zf = readFileSync(iso).toString('latin1').split('ZF\x10\x01pz').length - 1;
  // big/text and big/zeros-inside; noise does not shrink and small files are not worth it, so they stay plain
  assert.ok(zf >= 2, `the image has zisofs files (${zf} ZF entries)`);
  const out = join(dir, 'extracted');
  run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out]);
  const theirs = await loadDirectory(out, { xattrs: false });
  const src = await openFileSource(iso);
  t.after(() => src.close());
  const ours = await (await openIso(src)).tree();
  assert.deepEqual(await shape(ours), await shape(theirs));
  const text = ours.get('big/text');
  assert.equal(text?.kind === 'file' ? text.content.size : -1, 40 * 20_000);
}

for (const blockSize of ['32k', '64k', '128k']) {
  test(`xorriso --zisofs at ${blockSize} blocks: sizes and contents as xorriso extracts them`, async (t) => {
    if (!requireTool(t, 'xorriso')) return;
    const dir = tempDir(t, 'reprimage-zisofs-');
    const src = source(dir);
    const iso = join(dir, 'z.iso');
    run('xorriso', ['-outdev', iso, '-zisofs', `block_size=${blockSize}`, '-map', src, '/', '--', '-set_filter_r', '--zisofs', '/', '--']);
    await check(t, dir, iso);
  });
}

test('mkzftree then xorriso -as mkisofs -z: sizes and contents as xorriso extracts them', async (t) => {
  if (!requireTool(t, 'xorriso', 'mkzftree')) return;
  const dir = tempDir(t, 'reprimage-zisofs-');
  const src = source(dir);
  const zsrc = join(dir, 'zsrc');
  run('mkzftree', [src, zsrc]);
  const iso = join(dir, 'z.iso');
  run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-z', '-o', iso, zsrc]);
  await check(t, dir, iso);
});
