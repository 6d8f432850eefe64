import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tree, newDir, newMeta, type FileNode, type Node } from '../../src/tree/tree.js';
import { bytesContent, readContent, streamContent } from '../../src/tree/content.js';
import { ReprimageError } from '../../src/errors.js';
import { compareNames } from '../../src/tree/names.js';
import fc from 'fast-check';

function file(text: string): FileNode {
  return { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(Buffer.from(text)) };
}

function sample(): { tree: Tree; shared: FileNode } {
  const tree = new Tree();
  const shared = file('shared');
  tree.set('a.b', file('1'));
  tree.set('a/x', file('2'));
  tree.set('a', newDir());
  tree.set('b/hard2', shared);
  tree.set('a/hard1', shared);
  tree.set('b/c/d', { kind: 'symlink', ...newMeta({ mode: 0o777 }), target: '../../a' });
  return { tree, shared };
}

test('walk is tar --sort=name order; walkSortedPaths is find | LC_ALL=C sort order', () => {
  const { tree } = sample();
  assert.deepEqual([...tree.walk()].map((e) => e.path), ['', 'a', 'a/hard1', 'a/x', 'a.b', 'b', 'b/c', 'b/c/d', 'b/hard2']);
  assert.deepEqual([...tree.walkSortedPaths()].map((e) => e.path), ['', 'a', 'a.b', 'a/hard1', 'a/x', 'b', 'b/c', 'b/c/d', 'b/hard2']);
});

test('replacing a directory by a directory keeps its children', () => {
  const { tree } = sample();
  assert.ok(tree.get('a/x'));
  assert.equal(tree.get('a')?.kind, 'dir');
});

test('hard links: the second visit names the first path; link counts follow stat(2)', () => {
  const { tree, shared } = sample();
  const links = [...tree.walk()].filter((e) => e.linkTo !== undefined);
  assert.deepEqual(links.map((e) => [e.path, e.linkTo]), [['b/hard2', 'a/hard1']]);
  const counts = tree.linkCounts();
  assert.equal(counts.get(shared), 2);
  assert.equal(counts.get(tree.root), 4); // '.', '..'-like self links plus a/ and b/
  assert.equal(counts.get(tree.get('b')!), 3);
  const sorted = [...tree.walkSortedPaths()].filter((e) => e.linkTo !== undefined);
  assert.deepEqual(sorted.map((e) => [e.path, e.linkTo]), [['b/hard2', 'a/hard1']]);
});

test('a path through a non-directory is a CONFLICT; remove drops whole subtrees', () => {
  const { tree } = sample();
  assert.throws(() => tree.set('a.b/inner', file('x')), (e: unknown) => e instanceof ReprimageError && e.code === 'CONFLICT' && e.message.includes('a.b'));
  assert.equal(tree.remove('b'), true);
  assert.equal(tree.get('b/c/d'), undefined);
  assert.equal(tree.remove('nothing/here'), false);
  assert.equal(tree.size, 5);
});

test('streamContent refuses more or fewer bytes than declared', async () => {
  const short = streamContent(10, 'short', async function* () {
    yield new Uint8Array(4);
  });
  await assert.rejects(readContent(short), (e: unknown) => e instanceof ReprimageError && e.code === 'TRUNCATED');
  const long = streamContent(2, 'long', async function* () {
    yield new Uint8Array(4);
  });
  await assert.rejects(readContent(long), (e: unknown) => e instanceof ReprimageError && e.code === 'CORRUPT_IMAGE');
});

test('nodes of every kind can be placed', () => {
  const tree = new Tree();
  const kinds: Node[] = [
    { kind: 'block', ...newMeta(), major: 8, minor: 1 },
    { kind: 'char', ...newMeta(), major: 1, minor: 3 },
    { kind: 'fifo', ...newMeta() },
    { kind: 'socket', ...newMeta() },
  ];
  kinds.forEach((n, i) => tree.set(`dev/n${i}`, n));
  assert.deepEqual([...tree.walk()].map((e) => e.node.kind), ['dir', 'dir', 'block', 'char', 'fifo', 'socket']);
});

test('walkSortedPaths is the order of sorting every path bytewise, whatever the names (dots, slashes after a prefix, non-UTF-8 bytes)', () => {
  const names = ['a', 'a.b', 'a-b', 'a b', 'ab', 'é', 'z', '\udc80', 'a\udcff', '~', '0', 'A', '\u{1F600}'];
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }), fc.boolean()), { maxLength: 40 }), (entries) => {
      const tree = new Tree();
      for (const [parts, dir] of entries) {
        try {
          tree.set(parts.join('/'), dir ? newDir() : { kind: 'fifo', ...newMeta() });
        } catch {
          // a path through a fifo: not a tree
        }
      }
      const sorted = [...tree.walk()].map((e) => e.path).sort(compareNames);
      assert.deepEqual([...tree.walkSortedPaths()].map((e) => e.path), sorted);
    }),
    { numRuns: 300 },
  );
});
