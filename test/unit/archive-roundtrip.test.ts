// Property tests: any Tree → tar/cpio → Tree gives back the Tree, projected onto what each
// format can hold; and byte-flipped archives only ever raise ReprimageErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tree, newMeta, type Node } from '../../src/tree/tree.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { treeToJson, type EntryJson } from '../../src/tree/describe.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { writeTar, loadTar, type TarFlavour } from '../../src/formats/tar/index.js';
import { writeCpio, loadCpio } from '../../src/formats/cpio/index.js';
import { ReprimageError } from '../../src/errors.js';
import { LATE_BUILD_TIME } from '../helpers/sample-tree.js';

const name = fc.constantFrom('a', 'b', 'a.b', 'z', 'caf\u00e9', 'x'.repeat(60), 'y'.repeat(101), 'sp ace', '\u{1F600}');
const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const meta = fc.record({
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 70000 }),
  gid: fc.integer({ min: 0, max: 70000 }),
  sec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  nsec: fc.integer({ min: 0, max: 999_999_999 }),
  xattr: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
});
const entry = fc.record({
  path,
  meta,
  kind: fc.constantFrom('file', 'dir', 'symlink', 'char', 'block', 'fifo', 'hardlink'),
  data: fc.uint8Array({ maxLength: 1500 }),
  target: fc.constantFrom('../x', 'target', 't'.repeat(150)),
  dev: fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 1 << 19 })),
});

function buildTree(entries: Array<typeof entry extends fc.Arbitrary<infer T> ? T : never>): Tree {
  const tree = new Tree();
  const files: Node[] = [];
  for (const e of entries) {
    const m = newMeta({ mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid, mtime: { sec: e.meta.sec, nsec: e.meta.nsec } });
    if (e.meta.xattr) m.xattrs.set('user.x', e.meta.xattr);
    let node: Node;
    switch (e.kind) {
      case 'file':
        node = { kind: 'file', ...m, content: bytesContent(e.data) };
        files.push(node);
        break;
      case 'dir':
        node = { kind: 'dir', ...m, children: new Map() };
        break;
      case 'symlink':
        node = { kind: 'symlink', ...m, target: e.target };
        break;
      case 'char':
      case 'block':
        node = { kind: e.kind, ...m, major: e.dev[0], minor: e.dev[1] };
        break;
      case 'fifo':
        node = { kind: 'fifo', ...m };
        break;
      default:
        if (files.length === 0) continue;
        node = files[0]!;
    }
    try {
      tree.set(e.path, node);
    } catch (err) {
      if (!(err instanceof ReprimageError && err.code === 'CONFLICT')) throw err;
    }
  }
  return tree;
}

/** What survives a format: gnu/cpio keep whole seconds and no xattrs; pax keeps both. */
function project(entries: EntryJson[], keepNsec: boolean, keepXattrs: boolean): EntryJson[] {
  return entries.map(({ xattrs, ...e }) => ({
    ...e,
    ...(keepXattrs && xattrs ? { xattrs } : {}),
    mtime: keepNsec ? e.mtime : e.mtime.split('.')[0]!,
  }));
}

async function contents(tree: Tree): Promise<string[]> {
  const out: string[] = [];
  for (const { node, linkTo } of tree.walk()) if (node.kind === 'file' && !linkTo) out.push(Buffer.from(await readContent(node.content)).toString('hex'));
  return out;
}

for (const format of ['gnu', 'pax'] as TarFlavour[]) {
  test(`Tree → tar (${format}) → Tree is the identity on what ${format} holds`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 12 }), async (entries) => {
        const tree = buildTree(entries);
        const sink = new MemorySink();
        await writeTar(tree, sink, { format, buildTime: LATE_BUILD_TIME });
        assert.equal(sink.position % 10240, 0);
        const back = await loadTar(bufferSource(sink.bytes(), 'mem.tar'));
        const keep = format === 'pax';
        assert.deepEqual(project(treeToJson(back), keep, keep), project(treeToJson(tree), keep, keep));
        assert.deepEqual(await contents(back), await contents(tree));
      }),
      { numRuns: 150, seed: 42 },
    );
  });
}

test('Tree → cpio → Tree is the identity on what newc holds', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { maxLength: 12 }), async (entries) => {
      const tree = buildTree(entries);
      const sink = new MemorySink();
      await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME });
      assert.equal(sink.position % 512, 0);
      const back = await loadCpio(bufferSource(sink.bytes(), 'mem.cpio'));
      assert.deepEqual(project(treeToJson(back), false, false), project(treeToJson(tree), false, false));
      assert.deepEqual(await contents(back), await contents(tree));
    }),
    { numRuns: 150, seed: 42 },
  );
});

for (const [label, write, load] of [
  ['tar', (t: Tree, s: MemorySink) => writeTar(t, s, { format: 'pax', buildTime: LATE_BUILD_TIME }), loadTar],
  ['cpio', (t: Tree, s: MemorySink) => writeCpio(t, s, { buildTime: LATE_BUILD_TIME }), loadCpio],
] as const) {
  test(`byte flips and truncations of a ${label} archive raise only ReprimageErrors (400 runs)`, async () => {
    const tree = buildTree(fc.sample(fc.array(entry, { minLength: 6, maxLength: 10 }), { numRuns: 1, seed: 7 })[0]!);
    const sink = new MemorySink();
    await write(tree, sink);
    const good = sink.bytes().slice();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), async (flips, cut) => {
        const bad = good.slice(0, Math.max(cut, 1));
        for (const [at, value] of flips) if (at < bad.length) bad[at] = value;
        try {
          const back = await load(bufferSource(bad, 'fuzz'));
          for (const { node } of back.walk()) if (node.kind === 'file') await readContent(node.content);
        } catch (e) {
          if (!(e instanceof ReprimageError)) throw e;
        }
      }),
      { numRuns: 400, seed: 1 },
    );
  });
}
