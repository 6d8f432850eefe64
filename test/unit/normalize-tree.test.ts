/**
 * normalize on a Tree in memory (what `build` uses) and the tar and cpio member handlers: the
 * files' contents get the same bytes as the file handlers give, metadata and hard links stay,
 * archives inside the tree are rewritten with normalized members (recursively), times clamped
 * and owners 0:0, idempotently; bad members are reported, never thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeTree, TREE_MEMBER_LIMIT } from '../../src/normalize/tree.js';
import { bufferSource } from '../../src/io/source.js';
import { MemorySink } from '../../src/io/sink.js';
import { loadTar, writeTar } from '../../src/formats/tar/index.js';
import { loadCpio, readCpioEntries, writeCpio } from '../../src/formats/cpio/index.js';
import { bytesContent, readContent, streamContent } from '../../src/tree/content.js';
import { newMeta, Tree, type FileNode, type Node } from '../../src/tree/tree.js';
import { LATE_BUILD_TIME } from '../helpers/sample-tree.js';

const T = 1700000000;
const LATE = { sec: T + 999, nsec: 5 };
const EARLY = { sec: T - 999, nsec: 0 };

function fixture(name: string): Uint8Array {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', 'normalize', name);
    if (existsSync(candidate)) return readFileSync(candidate);
  }
  throw new Error(`fixture ${name} not found`);
}

function file(bytes: Uint8Array | string, meta: Partial<ReturnType<typeof newMeta>> = {}): FileNode {
  return { kind: 'file', ...newMeta({ mode: 0o644, uid: 1000, gid: 1000, mtime: LATE, ...meta }), content: bytesContent(typeof bytes === 'string' ? Buffer.from(bytes) : bytes) };
}

function buildTree(entries: Array<[string, Node]>): Tree {
  const tree = new Tree();
  for (const [p, n] of entries) tree.set(p, n, { uid: 1000, gid: 1000, mtime: LATE });
  return tree;
}

async function bytesOf(tree: Tree, path: string): Promise<Buffer> {
  return Buffer.from(await readContent((tree.get(path) as FileNode).content));
}

async function tarOf(tree: Tree, format: 'gnu' | 'pax' = 'gnu'): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeTar(tree, sink, { format, namePrefix: './', buildTime: LATE_BUILD_TIME });
  return sink.bytes();
}

/** The gzip fixture normalized on its own, in clamp mode, through a one-file tree. */
async function expectedGzip(): Promise<Buffer> {
  const t = buildTree([['x.gz', file(fixture('gzip-named.gz'))]]);
  await normalizeTree(t, { buildTime: T });
  return bytesOf(t, 'x.gz');
}

test('normalizeTree: contents normalized, metadata, untouched files and hard links kept', async () => {
  const gz = file(fixture('gzip-named.gz'), { mode: 0o600, uid: 7, mtime: EARLY });
  const plain = file('just text\n');
  const tree = buildTree([['a/doc.gz', gz], ['a/link.gz', gz], ['a/plain.txt', plain], ['b/lib.a', file(fixture('ar-static.a'))]]);
  const results = await normalizeTree(tree, { buildTime: T, clamp: false });
  assert.deepEqual(results.map((r) => [r.path, r.status, r.handler, r.links]), [
    ['a/doc.gz', 'changed', 'gzip', ['a/link.gz']],
    ['b/lib.a', 'changed', 'ar', undefined],
  ]);
  // set mode gives strip-nondeterminism's bytes, as on disk
  assert.deepEqual(await bytesOf(tree, 'a/doc.gz'), Buffer.from(fixture('gzip-named.out.gz')));
  assert.deepEqual(await bytesOf(tree, 'b/lib.a'), Buffer.from(fixture('ar-static.out.a')));
  assert.equal(tree.get('a/doc.gz'), tree.get('a/link.gz'), 'still one node');
  const node = tree.get('a/doc.gz') as FileNode;
  assert.deepEqual([node.mode, node.uid, node.mtime], [0o600, 7, EARLY], 'metadata untouched');
  assert.equal(tree.get('a/plain.txt'), plain);
  assert.equal((tree.get('a/plain.txt') as FileNode).content, plain.content, 'unrecognised content object kept');
  const again = await normalizeTree(tree, { buildTime: T, clamp: false });
  assert.ok(again.every((r) => r.status === 'unchanged'));
});

test('normalizeTree: check mode changes nothing; a broken file is an error result, the rest still done', async () => {
  const broken = file(fixture('gzip-named.gz').subarray(0, 12));
  const tree = buildTree([['bad.gz', broken], ['good.gz', file(fixture('gzip-named.gz'))]]);
  const before = (tree.get('good.gz') as FileNode).content;
  const checked = await normalizeTree(tree, { buildTime: T, check: true });
  assert.deepEqual(checked.map((r) => r.status), ['error', 'would-change']);
  assert.equal((tree.get('good.gz') as FileNode).content, before);
  const done = await normalizeTree(tree, { buildTime: T, subject: 'root.tar' });
  assert.equal(done[0]!.status, 'error');
  assert.match(done[0]!.error!.message, /^root\.tar ▸ bad\.gz: /);
  assert.equal(done[1]!.status, 'changed');
});

test('tar members: normalized recursively, times clamped, owners 0:0, dialect and ./ kept, idempotent', async () => {
  const shared = file('same inode\n', { mtime: EARLY });
  const inner = buildTree([
    ['usr/share/doc/x/changelog.gz', file(fixture('gzip-named.gz'))],
    ['usr/lib/libx.a', file(fixture('ar-static.a'), { mtime: EARLY })],
    ['usr/bin/one', shared],
    ['usr/bin/two', shared],
  ]);
  const tarBytes = await tarOf(inner, 'gnu');
  const outer = buildTree([['srv/rootfs.tar', file(tarBytes)]]);
  const [r] = await normalizeTree(outer, { buildTime: T });
  assert.equal(r!.status, 'changed');
  assert.equal(r!.handler, 'tar');
  const out = await bytesOf(outer, 'srv/rootfs.tar');
  assert.equal(out.subarray(257, 265).toString('latin1'), 'ustar  \0', 'still GNU');
  assert.equal(out.subarray(0, 2).toString('latin1'), './', 'names keep ./');
  const members = await loadTar(bufferSource(out, 'rootfs.tar'));
  for (const { path, node } of members.walk()) {
    assert.ok(node.mtime.sec <= T, `${path} time clamped`);
    assert.deepEqual([node.uid, node.gid], [0, 0], `${path} owner`);
  }
  assert.equal(members.get('usr/lib/libx.a')!.mtime.sec, EARLY.sec, 'earlier times stay');
  assert.equal(members.get('usr/bin/one'), members.get('usr/bin/two'), 'hard link kept');
  assert.deepEqual(await bytesOf(members, 'usr/share/doc/x/changelog.gz'), await expectedGzip(), 'member normalized by the gzip handler');
  const again = await normalizeTree(outer, { buildTime: T });
  assert.equal(again[0]!.status, 'unchanged');
});

test('cpio: concatenated archives stay separate, members normalized; compressed segments left alone', async () => {
  const first = buildTree([['kernel/x86/microcode/GenuineIntel.bin', file('ucode', { mtime: LATE })]]);
  const second = buildTree([['etc/motd.gz', file(fixture('gzip-named.gz'))], ['init', file('#!/bin/sh\n', { mode: 0o755 })]]);
  const sink = new MemorySink();
  await writeCpio(first, sink, { buildTime: LATE_BUILD_TIME });
  await writeCpio(second, sink, { buildTime: LATE_BUILD_TIME });
  const outer = buildTree([['boot/initrd.img', file(sink.bytes())]]);
  const [r] = await normalizeTree(outer, { buildTime: T });
  assert.equal(r!.status, 'changed');
  const written = bufferSource(await bytesOf(outer, 'boot/initrd.img'), 'initrd');
  const archives: string[][] = [];
  for await (const e of readCpioEntries(written)) {
    (archives[e.archive] ??= []).push(e.name);
    assert.ok(e.mtime <= T && e.uid === 0 && e.gid === 0, `${e.name} normalized`);
  }
  assert.deepEqual(archives, [
    ['.', 'kernel', 'kernel/x86', 'kernel/x86/microcode', 'kernel/x86/microcode/GenuineIntel.bin'],
    ['.', 'etc', 'etc/motd.gz', 'init'],
  ], 'two archives still, each with its own members');
  const merged = await loadCpio(written);
  assert.deepEqual(await bytesOf(merged, 'etc/motd.gz'), await expectedGzip());
  assert.equal((await normalizeTree(outer, { buildTime: T }))[0]!.status, 'unchanged');
  // a gzip'ed segment after the first archive: left alone with a warning
  const { gzipSync } = await import('node:zlib');
  const s1 = new MemorySink();
  await writeCpio(first, s1, { buildTime: LATE_BUILD_TIME });
  const s2 = new MemorySink();
  await writeCpio(second, s2, { buildTime: LATE_BUILD_TIME });
  const mixed = Buffer.concat([s1.bytes(), gzipSync(s2.bytes())]);
  const withGz = buildTree([['initrd', file(mixed)]]);
  const [m] = await normalizeTree(withGz, { buildTime: T });
  assert.equal(m!.status, 'left-alone');
  assert.match(m!.warnings.join('\n'), /compressed cpio segments/);
});

test('files that merely hold a cpio or tar magic are not archives', async () => {
  const fake = Buffer.alloc(1024, 0x20);
  fake.write('ustar  \0', 257, 'latin1'); // the GNU magic, but no valid header checksum
  const tree = buildTree([['dates.csv', file('070701,2023-11-14,sold\n070702,2023-11-15,bought\n'.repeat(4))], ['notes.bin', file(fake)]]);
  assert.deepEqual(await normalizeTree(tree, { buildTime: T }), []);
});

test('tar and cpio: a broken member or archive is an error naming it; nesting is bounded', async () => {
  const inner = buildTree([['bad.gz', file(fixture('gzip-named.gz').subarray(0, 12))]]);
  const outer = buildTree([['x.tar', file(await tarOf(inner))]]);
  const [r] = await normalizeTree(outer, { buildTime: T, subject: 'img' });
  assert.equal(r!.status, 'error');
  assert.match(r!.error!.message, /^img ▸ x\.tar: member bad\.gz: /);
  const truncated = buildTree([['t.tar', file((await tarOf(buildTree([['a', file('x'.repeat(3000))]]))).subarray(0, 1024))]]);
  const [t] = await normalizeTree(truncated, { buildTime: T });
  assert.equal(t!.status, 'error');
  assert.equal(t!.error!.code, 'TRUNCATED');
  let nested: Uint8Array = await tarOf(buildTree([['leaf.txt', file('leaf')]]));
  for (let i = 0; i < 5; i++) nested = await tarOf(buildTree([[`level${i}.tar`, file(nested)]]));
  const deep = buildTree([['deep.tar', file(nested)]]);
  const [d] = await normalizeTree(deep, { buildTime: T });
  assert.equal(d!.status, 'error');
  assert.equal(d!.error!.code, 'OVERFLOW');
  assert.match(d!.error!.message, /nested more than 4 deep/);
});

test('normalizeTree: a recognised content beyond the in-memory limit is left alone with a warning, never read whole', async () => {
  const size = TREE_MEMBER_LIMIT + 1;
  let produced = 0;
  const huge = streamContent(size, 'huge.gz', async function* () {
    const head = Buffer.from(fixture('gzip-named.gz').subarray(0, 10));
    produced += head.length;
    yield head;
    for (let at = head.length; at < size; at += 1 << 20) {
      const n = Math.min(1 << 20, size - at);
      produced += n;
      yield new Uint8Array(n);
    }
  });
  const tree = buildTree([['huge.gz', { kind: 'file', ...newMeta(), content: huge }]]);
  const [r] = await normalizeTree(tree, { buildTime: T });
  assert.equal(r!.status, 'left-alone');
  assert.match(r!.warnings.join(''), /more than the 268435456 a tree normalizes in memory/);
  assert.ok(produced < 2 << 20, `read ${produced} bytes`);
  assert.equal((tree.get('huge.gz') as FileNode).content, huge);
});
