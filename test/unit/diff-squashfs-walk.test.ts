// The SquashFS walk the differ pairs as it goes (no tree held): the same entries, order and hard
// links as the tree, and the same report as pairing the two member lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource } from '../../src/io/source.js';
import { openSquashfs } from '../../src/formats/squashfs/index.js';
import { bytesContent } from '../../src/tree/content.js';
import type { Comparator } from '../../src/diff/comparator.js';
import { diffBlobs } from '../../src/diff/engine.js';
import { sourceBlob } from '../../src/diff/blob.js';
import { defaultComparators } from '../../src/diff/registry.js';
import { squashfsComparator } from '../../src/diff/comparators/squashfs.js';
import { renderJson } from '../../src/diff/presenters/json.js';
import { imageOf, sampleTree, textBytes } from '../oracle/squashfs-support.js';

test('walk() gives the entries of tree().walk(): paths, order, kinds, metadata and hard links', async () => {
  const image = await imageOf(sampleTree({ xattrs: true, many: 30 }), { compressor: 'gzip' });
  const sqfs = await openSquashfs(bufferSource(image, 'a.sqfs'));
  const want = [...(await sqfs.tree()).walk()];
  const got = [];
  for await (const e of sqfs.walk()) got.push(e);
  assert.deepEqual(got.map((e) => e.path), want.map((e) => e.path));
  assert.deepEqual(got.map((e) => e.linkTo), want.map((e) => e.linkTo));
  assert.ok(got.some((e) => e.linkTo !== undefined), 'the sample has hard links');
  const meta = (e: (typeof want)[number]) => [e.node.kind, e.node.mode, e.node.uid, e.node.gid, e.node.mtime.sec, [...e.node.xattrs.keys()].join(','), e.node.kind === 'file' ? e.node.content.size : -1];
  assert.deepEqual(got.map(meta), want.map(meta));
});

test('two SquashFS images: pairing their walks reports what pairing their member lists reports', async () => {
  const a = sampleTree({ xattrs: true, many: 30 });
  const b = sampleTree({ xattrs: true, many: 30 });
  b.set('etc/hostname', { kind: 'file', mode: 0o600, uid: 0, gid: 0, mtime: { sec: 5, nsec: 0 }, xattrs: new Map(), content: bytesContent(Buffer.from('other\n')) });
  b.set('etc/added-file', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 }, xattrs: new Map(), content: bytesContent(textBytes(3000, 11)) });
  b.remove('etc/dup-b');
  const [ia, ib] = await Promise.all([imageOf(a, { compressor: 'gzip' }), imageOf(b, { compressor: 'gzip' })]);
  const side = (bytes: Uint8Array, name: string) => ({ name, blob: sourceBlob(bufferSource(bytes, name)) });
  const listsOnly: Comparator = {
    ...squashfsComparator,
    open: async (input) => {
      const c = await squashfsComparator.open(input);
      return { describe: c.describe, members: c.members, close: c.close };
    },
  };
  const comparators = (c: Comparator) => defaultComparators.map((x) => (x.id === squashfsComparator.id ? c : x));
  for (const exclude of [[], ['etc/hostname']]) {
    const walked = await diffBlobs(side(ia, 'a.sqfs'), side(ib, 'b.sqfs'), { exclude });
    const listed = await diffBlobs(side(ia, 'a.sqfs'), side(ib, 'b.sqfs'), { exclude, comparators: comparators(listsOnly) });
    assert.ok(walked && listed);
    assert.equal(renderJson(walked), renderJson(listed), `exclude ${exclude.join(',')}`);
    assert.match(renderJson(walked), /added-file/);
  }
});
