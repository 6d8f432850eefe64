/**
 * The public API as package.json declares it: every subpath export points at a built module and
 * its declarations, every format folder has its entry point, and the library's image writers
 * apply the metadata policy by default (times clamped to the build time, on a copy of the Tree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { Tree, bytesContent, newDir, newMeta, MemorySink, bufferSource, writeImage, tar, FORMATS } from '../../src/index.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; default: string }>; types: string; files: string[] };
const formatFolders = readdirSync(join(REPO, 'src/formats'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

test('every subpath export resolves to a built module with its declarations', () => {
  assert.ok(existsSync(join(REPO, pkg.types)), pkg.types);
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') {
      assert.ok(existsSync(join(REPO, target)), `${subpath} → ${target}`);
      continue;
    }
    const stems = subpath.includes('*') ? formatFolders : [''];
    for (const stem of stems) {
      for (const file of [target.types, target.default]) {
        const path = file.replace('*', stem);
        assert.ok(existsSync(join(REPO, path)), `${subpath.replace('*', stem)} → ${path}`);
        assert.ok(pkg.files.some((f) => path.startsWith(`./${f}`)), `${path} is in package.json "files"`);
      }
    }
  }
});

test('every format of the registry has a folder with an entry point, reachable as reprimage/formats/<folder>', () => {
  assert.ok(formatFolders.length >= 9, formatFolders.join(' '));
  for (const folder of formatFolders) assert.ok(existsSync(join(REPO, 'src/formats', folder, 'index.ts')), `src/formats/${folder}/index.ts`);
  assert.ok(FORMATS.length >= 9);
});

/** A tree with one file dated 2030 and a directory dated 2001. */
function datedTree(): Tree {
  const tree = new Tree(newDir({ mtime: { sec: 1_000_000_000, nsec: 0 } }));
  tree.set('today.txt', { kind: 'file', ...newMeta({ mode: 0o644, mtime: { sec: 1_900_000_000, nsec: 5 } }), content: bytesContent(new TextEncoder().encode('made now\n')) });
  return tree;
}

async function writtenTimes(tree: Tree, options: Parameters<typeof writeImage>[3]): Promise<Record<string, number>> {
  const sink = new MemorySink();
  await writeImage(tree, 'tar', sink, options);
  const read = await tar.loadTar(bufferSource(sink.bytes(), 'out.tar'));
  return Object.fromEntries([...read.walk()].filter((e) => e.path !== '').map((e) => [e.path, e.node.mtime.sec]));
}

test('writeImage clamps times to the build time by default, on a copy: the caller\'s Tree keeps its own', async () => {
  const tree = datedTree();
  assert.deepEqual(await writtenTimes(tree, { buildTime: 1_700_000_000 }), { 'today.txt': 1_700_000_000 });
  assert.equal(tree.get('today.txt')!.mtime.sec, 1_900_000_000, 'the Tree given is not changed');
  // with no policy, the writer itself still stores no time after the build time
  assert.deepEqual(await writtenTimes(tree, { buildTime: 1_700_000_000, policy: false }), { 'today.txt': 1_700_000_000 });
  // the rest of the policy is the caller's to choose
  const sink = new MemorySink();
  await writeImage(tree, 'tar', sink, { buildTime: 1_700_000_000, policy: { excludes: ['today.txt'] } });
  assert.deepEqual([...(await tar.loadTar(bufferSource(sink.bytes(), 'out.tar'))).walk()].map((e) => e.path), ['']);
});

test('writeImage refuses a build time that is not a whole number of seconds', async () => {
  for (const buildTime of [-1, 1.5, Number.NaN]) {
    await assert.rejects(writeImage(datedTree(), 'tar', new MemorySink(), { buildTime }), { code: 'USAGE' });
  }
});
