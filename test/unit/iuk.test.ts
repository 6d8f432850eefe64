// Upgrade kit internals: the delta of two trees, stacking it back with overlayfs and aufs
// semantics, the control file, and what a layer cannot carry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { computeDelta } from '../../src/iuk/delta.js';
import { deleteThenOverlay, stackLayer } from '../../src/iuk/overlay.js';
import { encodeControl, parseControl, type KitControl } from '../../src/iuk/control.js';
import { compareTrees, differingPaths } from '../../src/iuk/compare-trees.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { openSquashfs, writeSquashfs } from '../../src/formats/squashfs/index.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { isReprimageError } from '../../src/errors.js';
import type { Tree } from '../../src/tree/tree.js';
import { newRoot, oldRoot, LIVE_EPOCH } from '../helpers/live-iso-sample.js';

const TIME = { sec: LIVE_EPOCH, nsec: 0 };

/** One line per entry with everything the comparison of builds looks at. */
async function listing(tree: Tree): Promise<string[]> {
  const out: string[] = [];
  for (const { path, node, linkTo } of tree.walk()) {
    let extra = '';
    if (node.kind === 'file') extra = createHash('sha256').update(await readContent(node.content)).digest('hex').slice(0, 12);
    if (node.kind === 'symlink') extra = node.target;
    if (node.kind === 'char' || node.kind === 'block') extra = `${node.major},${node.minor}`;
    const xattrs = [...node.xattrs.keys()].sort().join(',');
    out.push(`${path} ${node.kind} ${node.mode.toString(8)} ${node.uid}:${node.gid} ${node.mtime.sec} ${extra} ${xattrs}${linkTo ? ` link=${linkTo}` : ''}`);
  }
  return out;
}

test('overlay delta: added, changed, removed (char 0/0 whiteout), replaced (opaque xattr); stacking gives the new tree', async () => {
  const delta = await computeDelta(oldRoot(), newRoot(), { kind: 'layer', whiteouts: 'overlay', time: TIME });
  const s = delta.stats.paths;
  assert.deepEqual(s.added, ['etc/added.conf', 'var/new']);
  assert.deepEqual(s.changed, ['etc/os-release', 'srv']);
  assert.deepEqual(s.removed, ['etc/removed.conf']);
  assert.deepEqual(s.replaced, ['opt/app', 'var/lib']);
  const whiteout = delta.tree.get('etc/removed.conf');
  assert.equal(whiteout?.kind, 'char');
  assert.deepEqual([whiteout.kind === 'char' && whiteout.major, whiteout.kind === 'char' && whiteout.minor], [0, 0]);
  assert.equal(Buffer.from(delta.tree.get('opt/app')!.xattrs.get('trusted.overlay.opaque')!).toString(), 'y');
  // unchanged entries stay out of the delta
  for (const p of ['etc/hostname', 'usr', 'bin', 'dev']) assert.equal(delta.tree.get(p), undefined, p);
  const base = oldRoot();
  stackLayer(base, delta.tree, 'overlay');
  assert.deepEqual(await listing(base), await listing(newRoot()));
});

test('aufs delta: .wh. files and .wh..wh..opq markers; stacking gives the new tree', async () => {
  const delta = await computeDelta(oldRoot(), newRoot(), { kind: 'layer', whiteouts: 'aufs', time: TIME });
  assert.equal(delta.tree.get('etc/.wh.removed.conf')?.kind, 'file');
  assert.equal(delta.tree.get('etc/removed.conf'), undefined);
  assert.equal(delta.tree.get('opt/app/.wh..wh..opq')?.kind, 'file');
  assert.equal(delta.tree.get('opt/app')!.xattrs.size, 0);
  const base = oldRoot();
  stackLayer(base, delta.tree, 'aufs');
  assert.deepEqual(await listing(base), await listing(newRoot()));
});

test('the delta survives a SquashFS round trip, whiteouts and opaque xattrs included', async () => {
  const delta = await computeDelta(oldRoot(), newRoot(), { kind: 'layer', whiteouts: 'overlay', time: TIME });
  const sink = new MemorySink();
  await writeSquashfs(delta.tree, sink, { compressor: 'gzip', buildTime: LIVE_EPOCH, workers: 1 });
  const read = await (await openSquashfs(bufferSource(sink.bytes(), 'delta.squashfs'))).tree();
  const base = oldRoot();
  stackLayer(base, read, 'overlay');
  assert.deepEqual(await listing(base), await listing(newRoot()));
});

test('a wrong delta is caught: stacking without the whiteouts differs, and the diff engine names the paths', async () => {
  const delta = await computeDelta(oldRoot(), newRoot(), { kind: 'layer', whiteouts: 'overlay', time: TIME });
  const base = oldRoot();
  stackLayer(base, delta.tree, 'aufs'); // read with the other convention: char 0/0 is just a device
  const d = await compareTrees({ name: 'applied', tree: base }, { name: 'new', tree: newRoot() });
  assert.ok(d);
  const paths = differingPaths(d);
  assert.ok(paths.includes('etc/removed.conf'), paths.join(' '));
  assert.ok(paths.includes('opt/app/a.txt'), paths.join(' '));
  assert.equal(await compareTrees({ name: 'a', tree: newRoot() }, { name: 'b', tree: newRoot() }), undefined);
});

test('hard links inside the delta stay hard links', async () => {
  const oldTree = oldRoot();
  const newTree = newRoot();
  const shared = { kind: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: { ...TIME }, xattrs: new Map(), content: bytesContent(Buffer.from('new pair\n')) };
  newTree.set('var/new/p1', shared);
  newTree.set('var/new/p2', shared);
  const delta = await computeDelta(oldTree, newTree, { kind: 'layer', whiteouts: 'overlay', time: TIME });
  assert.equal(delta.tree.get('var/new/p1'), delta.tree.get('var/new/p2'));
  assert.notEqual(delta.tree.get('var/new/p1'), shared, 'copies, so clamping the delta leaves the new tree alone');
});

test('files mode: deletions instead of whiteouts; delete-then-extract gives the new tree', async () => {
  const files = await computeDelta(oldRoot(), newRoot(), { kind: 'files' });
  // a replaced directory and a file that became a directory are deleted whole first
  assert.deepEqual(files.deletions, ['etc/removed.conf', 'opt/app', 'srv', 'var/lib']);
  const base = oldRoot();
  deleteThenOverlay(base, files.deletions, files.tree);
  assert.deepEqual(await listing(base), await listing(newRoot()));
});

test('a new tree holding what looks like a whiteout cannot be an overlay layer: UNSUPPORTED, naming the entry', async () => {
  const newTree = newRoot();
  newTree.set('dev/zero-zero', { kind: 'char', mode: 0o600, uid: 0, gid: 0, mtime: { ...TIME }, xattrs: new Map(), major: 0, minor: 0 });
  await assert.rejects(computeDelta(oldRoot(), newTree, { kind: 'layer', whiteouts: 'overlay', time: TIME }), (e: unknown) => isReprimageError(e) && e.code === 'UNSUPPORTED' && e.message.includes('dev/zero-zero'));
  const marked = newRoot();
  marked.get('etc')!.xattrs.set('trusted.overlay.opaque', Buffer.from('y'));
  await assert.rejects(computeDelta(oldRoot(), marked, { kind: 'layer', whiteouts: 'overlay', time: TIME }), (e: unknown) => isReprimageError(e) && e.code === 'UNSUPPORTED' && e.message.startsWith('etc:'));
  const aufsTree = newRoot();
  aufsTree.set('etc/.wh.sneaky', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { ...TIME }, xattrs: new Map(), content: bytesContent(new Uint8Array(0)) });
  await assert.rejects(computeDelta(oldRoot(), aufsTree, { kind: 'layer', whiteouts: 'aufs', time: TIME }), (e: unknown) => isReprimageError(e) && e.code === 'UNSUPPORTED');
});

test('control.yml round-trips, quotes odd names, and refuses bad input with CORRUPT_IMAGE / UNSUPPORTED / PATH_ESCAPE', () => {
  const c: KitControl = {
    format: 1,
    layout: 'iso',
    whiteouts: 'aufs',
    rootSquashfs: 'live/filesystem.squashfs',
    squashfsDelta: 'live/upgrade.squashfs',
    modulesFile: 'live/filesystem.module',
    systemTarSha256: 'ab'.repeat(32),
    deleteFiles: ["it's here", 'a: b', '- dash', '#hash'],
  };
  const text = encodeControl(c);
  assert.deepEqual(parseControl(text, 'control.yml'), c);
  assert.deepEqual(parseControl(encodeControl({ ...c, deleteFiles: [] }), 'c').deleteFiles, []);
  const bad: Array<[string, string]> = [
    [text.replace('format: 1', 'format: 9'), 'UNSUPPORTED'],
    [text.replace('whiteouts: aufs', 'whiteouts: zfs'), 'CORRUPT_IMAGE'],
    [text.replace("  - 'a: b'", '  - unquoted'), 'CORRUPT_IMAGE'],
    [text.replace("  - 'a: b'", "  - '../escape'"), 'PATH_ESCAPE'],
    [text.replace("  - 'a: b'", "  - '/etc/passwd'"), 'PATH_ESCAPE'],
    [text.replace('layout: iso\n', ''), 'CORRUPT_IMAGE'],
    [text.replace('ab'.repeat(32), 'AB'.repeat(32)), 'CORRUPT_IMAGE'],
    [`${text}format: 1\n`, 'CORRUPT_IMAGE'],
    ['\u0000\u0001binary', 'CORRUPT_IMAGE'],
  ];
  for (const [input, code] of bad) {
    assert.throws(() => parseControl(input, 'control.yml'), (e: unknown) => isReprimageError(e) && e.code === code, `${code}: ${input.slice(0, 60)}`);
  }
  assert.throws(() => encodeControl({ ...c, deleteFiles: ['line\nbreak'] }), (e: unknown) => isReprimageError(e) && e.code === 'UNSUPPORTED');
});

test('hard-link groups are carried whole: a new link to an unchanged file, and a link that was broken up', async () => {
  const file = (text: string) => ({ kind: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: { ...TIME }, xattrs: new Map(), content: bytesContent(Buffer.from(text)) });
  const oldTree = oldRoot();
  const newTree = newRoot();
  // usr/bin/x and usr/bin/y stay linked, and a third name joins them in a new directory
  newTree.set('opt/tools/z', newTree.get('usr/bin/x')!);
  // two names linked in the old tree become two separate files with the same bytes
  const pair = file('pair\n');
  oldTree.set('etc/p1', pair);
  oldTree.set('etc/p2', pair);
  newTree.set('etc/p1', file('pair\n'));
  newTree.set('etc/p2', file('pair\n'));
  for (const whiteouts of ['overlay', 'aufs'] as const) {
    const delta = await computeDelta(oldTree, newTree, { kind: 'layer', whiteouts, time: TIME });
    const x = delta.tree.get('usr/bin/x');
    assert.ok(x, 'the unchanged x joins the delta because its group changed');
    assert.equal(delta.tree.get('usr/bin/y'), x);
    assert.equal(delta.tree.get('opt/tools/z'), x);
    assert.notEqual(delta.tree.get('etc/p1'), undefined);
    assert.notEqual(delta.tree.get('etc/p1'), delta.tree.get('etc/p2'));
    const base = oldRoot();
    base.set('etc/p1', pair);
    base.set('etc/p2', pair);
    stackLayer(base, delta.tree, whiteouts);
    assert.deepEqual(await listing(base), await listing(newTree));
    assert.equal(await compareTrees({ name: 'applied', tree: base }, { name: 'new', tree: newTree }), undefined, whiteouts);
  }
});

test('truncated or corrupted kits fail with a ReprimageError, never another error or a hang', async (t) => {
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { writeLiveIsos } = await import('../helpers/live-iso-sample.js');
  const { makeKit, openKit, applyKit } = await import('../../src/iuk/kit.js');
  const { openBuild } = await import('../../src/iuk/open-build.js');
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-iuk-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { oldIso, newIso } = await writeLiveIsos(dir);
  const kitPath = join(dir, 'kit.iuk');
  await makeKit(oldIso, newIso, kitPath, { name: 'upgrade', whiteouts: 'overlay', compressor: 'gzip', workers: 1, buildTime: LIVE_EPOCH, warn: () => undefined });
  const kit = readFileSync(kitPath);
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const variants: Array<[string, Uint8Array]> = [];
  for (let i = 0; i < 24; i++) variants.push([`truncated at ${i}`, kit.subarray(0, random(kit.length))]);
  for (let i = 0; i < 48; i++) {
    const copy = Buffer.from(kit);
    const at = i < 24 ? random(3 * 512 + 4096) : random(copy.length); // headers and control first, then anywhere
    copy[at] = copy[at]! ^ (1 + random(255));
    variants.push([`byte ${at} changed`, copy]);
  }
  let refused = 0;
  for (const [what, bytes] of variants) {
    const path = join(dir, 'bad.iuk');
    writeFileSync(path, bytes);
    const old = await openBuild(oldIso, { warn: () => undefined });
    try {
      const opened = await openKit(path, { warn: () => undefined });
      try {
        applyKit(old, opened);
      } finally {
        await opened.close();
      }
    } catch (e) {
      assert.ok(isReprimageError(e), `${what}: ${String(e)}`);
      refused++;
    } finally {
      await old.close();
    }
  }
  // system.tar is covered by its SHA-256 in control.yml, so a changed byte anywhere is refused
  // (except in the outer archive's padding and header fields nothing reads)
  assert.ok(refused >= variants.length - 8, `${refused} of ${variants.length} damaged kits refused`);
});
