// GNU tar and bsdtar read our archives: they list them as they list their own archives of the
// same tree, and extracting them gives back exactly the tree we wrote (names, types, modes,
// owners, mtimes, link targets, device numbers, contents, and xattrs as getfattr reads them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { materialize, sampleSpec, treeListing } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { formatFlags, gnuFlags, ourTar } from './tar-support.js';

const E = 1_600_000_000;

for (const format of ['gnu', 'pax', 'ustar'] as const) {
  test(`GNU tar -tvv lists our ${format} archive exactly as its own`, async (t) => {
    if (!requireTool(t, 'tar', 'setfattr')) return;
    const dir = tempDir(t);
    const spec = sampleSpec();
    if (format === 'ustar') spec.entries = spec.entries.filter((e) => !e.path.includes('long'));
    materialize(spec, join(dir, 'src'), { epoch: E });
    run('tar', [...gnuFlags(E + 5), ...formatFlags(format), '-C', join(dir, 'src'), '-cf', join(dir, 'gnu.tar'), '.']);
    await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), format, E + 5);
    const list = (p: string) => run('tar', ['--numeric-owner', '--full-time', '-tvvf', p], { env: { ...process.env, TZ: 'UTC' } }).stdout.toString();
    const ours = list(join(dir, 'ours.tar'));
    assert.equal(ours, list(join(dir, 'gnu.tar')));
    assert.match(ours, /^hrwsr-xr-x 0\/0 +0 2020-09-13 12:26:40 +\.\/usr\/bin\/tool-hardlink link to \.\/usr\/bin\/tool$/m);
    assert.match(ours, /^brw-rw---- 0\/0 +8,1 /m);
  });
}

for (const [tool, format, args] of [
  ['tar', 'pax', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf']],
  ['tar', 'gnu', ['--numeric-owner', '-xpf']],
  ['bsdtar', 'pax', ['--xattrs', '--numeric-owner', '-xpf']],
  ['bsdtar', 'gnu', ['--numeric-owner', '-xpf']],
] as const) {
  test(`${tool === 'tar' ? 'GNU tar' : 'bsdtar'} extracts our ${format} archive back to the tree we wrote`, async (t) => {
    if (!requireTool(t, tool, 'setfattr', 'getfattr')) return;
    const dir = tempDir(t);
    materialize(sampleSpec(), join(dir, 'src'), { epoch: E });
    // owners kept, so that extraction has something to restore; epoch after every mtime
    const tree = await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), format, E + 5, 'keep');
    if (format === 'gnu') {
      // what the gnu format holds: whole seconds, no xattrs
      for (const { node } of tree.walk()) {
        node.mtime = { sec: node.mtime.sec, nsec: 0 };
        node.xattrs = new Map();
      }
    }
    mkdirSync(join(dir, 'out'));
    run(tool, [...args, join(dir, 'ours.tar'), '-C', join(dir, 'out')]);
    const back = await treeListing(await loadDirectory(join(dir, 'out'), { xattrs: format === 'pax' }));
    const want = await treeListing(tree);
    // bsdtar does not restore the time of the directory it extracts into (the './' entry)
    if (tool === 'bsdtar') back[0]!.mtime = want[0]!.mtime;
    assert.deepEqual(back, want);
    assert.ok(want.some((e) => e.xattrs?.['security.capability']) === (format === 'pax'));
  });
}
