// The ISO reader on images made by the reference tools at test time: xorriso -as mkisofs -R -J
// and genisoimage -R -J (which relocates deep directories into rr_moved). The source directory is
// the sample tree written to disk; the Tree we read must equal it (sockets aside).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lchownSync, linkSync, lutimesSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { openIso } from '../../src/formats/iso9660/index.js';
import { isoProjection, isoSampleTree } from '../helpers/iso-sample.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

/** Writes `tree` into `dir` with its modes, owners and times (sockets are left out). */
async function materialize(tree: Tree, dir: string): Promise<void> {
  const entries = [...tree.walk()].filter((e) => e.node.kind !== 'socket');
  for (const { path, node, linkTo } of entries) {
    const full = join(dir, path);
    if (linkTo !== undefined) {
      linkSync(join(dir, linkTo), full);
      continue;
    }
    if (node.kind === 'dir') mkdirSync(full, { recursive: true });
    else if (node.kind === 'file') writeFileSync(full, await readContent(node.content));
    else if (node.kind === 'symlink') symlinkSync(node.target, full);
    else if (node.kind === 'fifo') run('mkfifo', [full]);
    else if (node.kind === 'char' || node.kind === 'block') run('mknod', [full, node.kind === 'char' ? 'c' : 'b', String(node.major), String(node.minor)]);
    lchownSync(full, node.uid, node.gid);
    if (node.kind !== 'symlink') chmodSync(full, node.mode);
  }
  for (const { path, node } of entries.reverse()) lutimesSync(join(dir, path), node.mtime.sec, node.mtime.sec);
}

function withoutSockets(tree: Tree): Tree {
  for (const { path, node } of [...tree.walk()]) if (node.kind === 'socket') tree.remove(path);
  return tree;
}

for (const tool of ['xorriso', 'genisoimage'] as const) {
  test(`reads an image made by ${tool} -R -J (deep tree, long names, devices, symlinks)`, async (t) => {
    if (!requireTool(t, tool)) return;
    const tree = withoutSockets(isoSampleTree({ deep: 10 }));
    const dir = tempDir(t);
    const src = join(dir, 'src');
    await materialize(tree, src);
    const out = join(dir, 'made.iso');
    if (tool === 'xorriso') run('xorriso', ['-as', 'mkisofs', '-R', '-J', '-joliet-long', '-o', out, src], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
    else run('genisoimage', ['-quiet', '-R', '-J', '-joliet-long', '-o', out, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    const source = await openFileSource(out);
    t.after(() => source.close());
    const image = await openIso(source);
    assert.equal(image.rockRidge, true);
    if (tool === 'genisoimage') {
      const plain = await image.tree({ namespace: 'iso9660' });
      assert.equal(plain.get('RR_MOVED')?.kind, 'dir', 'genisoimage relocated the deep directories');
    }
    const read = await image.tree();
    const strip = (lines: string[]) => lines.map((l) => l.replace(/ link=.*$/, ''));
    assert.deepEqual(strip(await isoProjection(read, Infinity)), strip(await isoProjection(tree, Infinity)));
    // Hard links come back as one node when the writer shares the extent.
    if (tool === 'genisoimage') assert.equal(read.get('hard-a'), read.get('hard-b'));
    const joliet = await image.tree({ namespace: 'joliet' });
    assert.deepEqual(Buffer.from(await readContent((joliet.get('etc/hostname') as Extract<ReturnType<Tree['get']>, { kind: 'file' }>).content)), Buffer.from('reprimage\n'));
  });
}
