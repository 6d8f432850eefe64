// Property: any Tree → tar → Tree gives back the Tree, projected onto what the flavour holds
// (gnu: whole seconds, no xattrs; pax: everything; ustar: the same as gnu, or UNSUPPORTED for
// what it cannot hold) — with long and non-ASCII names, hard links, devices, huge ids, times
// before 1970 and past 2038, and binary xattr values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadTar, writeTar, type TarFlavour } from '../../src/formats/tar/index.js';
import { ReprimageError } from '../../src/errors.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newMeta, type Node } from '../../src/tree/tree.js';
import { treeListing } from '../helpers/sample-tree.js';

const component = fc.oneof(
  // Latin-1 and KOI8-R names are bytes that are not UTF-8 (docs/names.md)
  fc.constantFrom('a', 'a.b', 'b', 'caf\u00e9', 'caf\udce9', '\udcd0\udcd2\udcc9', 'new\nline', '\u{1F600}', 'sp ace', 'x'.repeat(99), 'y'.repeat(101), 'z'.repeat(200)),
  fc.stringMatching(/^[a-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..'),
);
const path = fc.array(component, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const meta = fc.record({
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 2 ** 21, max: 2 ** 32 - 1 })),
  gid: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 2 ** 21, max: 2 ** 32 - 1 })),
  sec: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: -(2 ** 34), max: 2 ** 36 })),
  nsec: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999_999 })),
  xattrs: fc.dictionary(fc.constantFrom('user.a', 'user.b', 'security.capability', 'trusted.x'), fc.uint8Array({ maxLength: 40 }), { maxKeys: 3 }),
});
const entry = fc.record({
  path,
  meta,
  kind: fc.constantFrom('file', 'dir', 'symlink', 'char', 'block', 'fifo', 'hardlink'),
  data: fc.uint8Array({ maxLength: 1200 }),
  target: fc.oneof(fc.constantFrom('../x', 'caf\u00e9', 'caf\udce9', 't'.repeat(100), 't'.repeat(101), '/abs/' + 'q'.repeat(300)), path),
  dev: fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 2 ** 20 - 1 })),
  pick: fc.nat(),
});
type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

function buildTree(entries: Entry[]): Tree {
  const tree = new Tree();
  const files: Node[] = [];
  for (const e of entries) {
    const m = newMeta({ mode: e.meta.mode, uid: e.meta.uid, gid: e.meta.gid, mtime: { sec: e.meta.sec, nsec: e.meta.nsec } });
    for (const [k, v] of Object.entries(e.meta.xattrs)) m.xattrs.set(k, v);
    // a path under an existing non-directory cannot exist: skip it
    const parts = e.path.split('/');
    let blocked = false;
    for (let i = 1; i < parts.length; i++) {
      const n = tree.get(parts.slice(0, i).join('/'));
      if (n && n.kind !== 'dir') blocked = true;
    }
    if (blocked) continue;
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
      default: {
        const target = files[e.pick % Math.max(files.length, 1)];
        if (!target) continue;
        node = target;
      }
    }
    const old = tree.get(e.path);
    // replacing a directory that holds a hard-link target would orphan the link's first path
    if (old?.kind === 'dir' && node.kind !== 'dir') continue;
    tree.set(e.path, node);
  }
  return tree;
}

async function roundTrip(tree: Tree, format: TarFlavour): Promise<Tree> {
  const sink = new MemorySink();
  // a build time no entry is later than: this is about the codec, not about clamping
  const buildTime = Math.max(0, ...[...tree.walk()].map((e) => e.node.mtime.sec + 1));
  await writeTar(tree, sink, { format, buildTime, warn: () => undefined });
  return loadTar(bufferSource(sink.bytes(), `${format}.tar`));
}

async function projected(tree: Tree, format: TarFlavour) {
  const want = await treeListing(tree);
  if (format !== 'pax') {
    for (const e of want) {
      delete e.xattrs;
      e.mtime = e.mtime.split('.')[0]!;
    }
  }
  return want;
}

for (const format of ['gnu', 'pax'] as const) {
  test(`Tree → ${format} → Tree is the identity on what ${format} holds (fast-check)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 14 }), async (entries) => {
        const tree = buildTree(entries);
        assert.deepEqual(await treeListing(await roundTrip(tree, format)), await projected(tree, format));
      }),
      { numRuns: 150 },
    );
  });
}

test('Tree → ustar → Tree is the identity, or UNSUPPORTED naming an entry (fast-check)', async () => {
  let held = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { maxLength: 10 }), async (entries) => {
      const tree = buildTree(entries);
      let back: Tree;
      try {
        back = await roundTrip(tree, 'ustar');
      } catch (e) {
        assert.ok(e instanceof ReprimageError && e.code === 'UNSUPPORTED', String(e));
        assert.match(e.message, /^\.\/\S/);
        return;
      }
      assert.deepEqual(await treeListing(back), await projected(tree, 'ustar'));
      held++;
    }),
    { numRuns: 300 },
  );
  // both branches were exercised
  assert.ok(held >= 20, `only ${held} trees fitted ustar`);
});
