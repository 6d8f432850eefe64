// Our tar writer against GNU tar 1.34: byte for byte, for every flavour and the corner cases
// (epoch before/after the file times, kept owners too large for octal, negative times, a member
// over 8 GiB, no './' prefix, sockets), plus the one deliberate pax difference (xattr order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeTar, type TarFlavour } from '../../src/formats/tar/index.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { applyPolicy } from '../../src/tree/policy.js';
import { materialize, sampleSpec, specToTree, type SampleSpec } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { HeadSink, formatFlags, gnuFlags, ourTar, sha256File } from './tar-support.js';

const E = 1_600_000_000;

function gnuTar(src: string, out: string, format: TarFlavour, epoch: number, owner: 'root' | 'keep' = 'root'): void {
  run('tar', [...gnuFlags(epoch, owner), ...formatFlags(format), '-C', src, '-cf', out, '.']);
}

for (const format of ['gnu', 'pax'] as const) {
  for (const epoch of [E + 1000, E - 1000]) {
    test(`${format}: byte-identical to GNU tar on the sample tree, SOURCE_DATE_EPOCH ${epoch > E ? 'after' : 'before'} the mtimes`, async (t) => {
      if (!requireTool(t, 'tar', 'setfattr')) return;
      const dir = tempDir(t);
      materialize(sampleSpec(), join(dir, 'src'), { epoch: E });
      gnuTar(join(dir, 'src'), join(dir, 'gnu.tar'), format, epoch);
      await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), format, epoch);
      assert.equal(sha256File(join(dir, 'ours.tar')), sha256File(join(dir, 'gnu.tar')));
    });
  }
}

test('ustar: byte-identical to GNU tar --format=ustar on the entries ustar can hold', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  const spec = sampleSpec();
  // ustar has no room for a 140-byte last component or a 150-byte link target
  spec.entries = spec.entries.filter((e) => !e.path.includes('long') && !e.path.endsWith('longlink'));
  materialize(spec, join(dir, 'src'), { epoch: E });
  gnuTar(join(dir, 'src'), join(dir, 'gnu.tar'), 'ustar', E);
  await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'ustar', E);
  assert.equal(sha256File(join(dir, 'ours.tar')), sha256File(join(dir, 'gnu.tar')));
  // a name split into prefix and name was exercised
  assert.ok(readFileSync(join(dir, 'ours.tar')).includes(Buffer.from('./usr/share\0')));
});

test('gnu and pax: byte-identical with owners kept (ids over 2097151), a negative and a sub-second mtime', async (t) => {
  if (!requireTool(t, 'tar', 'setfattr')) return;
  const spec: SampleSpec = {
    entries: [
      { type: 'file', path: 'big-ids', content: 'b\n', uid: 3_000_000, gid: 70_000_000 },
      { type: 'file', path: 'before-1970', content: 'n\n', mtime: -1000 },
      { type: 'file', path: 'fraction', content: 'f\n', mtime: { sec: E - 5, nsec: 250_000_000 }, xattrs: { 'user.one': '1' } },
      { type: 'dir', path: 'd', uid: 1000, gid: 1000 },
      { type: 'symlink', path: 'd/l', target: '../fraction', uid: 4_000_000 },
    ],
  };
  for (const format of ['gnu', 'pax'] as const) {
    const dir = tempDir(t);
    materialize(spec, join(dir, 'src'), { epoch: E });
    gnuTar(join(dir, 'src'), join(dir, 'gnu.tar'), format, E + 10, 'keep');
    await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), format, E + 10, 'keep');
    assert.equal(sha256File(join(dir, 'ours.tar')), sha256File(join(dir, 'gnu.tar')), format);
  }
});

test('hard links and symlinks with long names and targets, non-ASCII targets: byte-identical (gnu, pax)', async (t) => {
  if (!requireTool(t, 'tar', 'setfattr')) return;
  const spec: SampleSpec = {
    entries: [
      { type: 'file', path: 'A'.repeat(110), content: 'data', xattrs: { 'user.x': '1' }, mtime: { sec: E, nsec: 500_000_000 } },
      { type: 'hardlink', path: 'B'.repeat(120), target: 'A'.repeat(110) },
      { type: 'hardlink', path: 'C', target: 'A'.repeat(110) },
      { type: 'file', path: '\u00e9', content: 'e' },
      { type: 'hardlink', path: 'h\u00e9', target: '\u00e9' },
      { type: 'symlink', path: 'S'.repeat(120), target: 'T'.repeat(120) },
      { type: 'symlink', path: 'short', target: 'T'.repeat(100) },
      { type: 'symlink', path: 'short101', target: 'T'.repeat(101) },
      { type: 'symlink', path: 's\u00e9', target: '\u00e9' },
      { type: 'fifo', path: 'F'.repeat(120) },
      { type: 'dir', path: 'D'.repeat(120) },
      { type: 'char', path: 'N'.repeat(120), major: 1, minor: 3 },
    ],
  };
  for (const format of ['gnu', 'pax'] as const) {
    const dir = tempDir(t);
    materialize(spec, join(dir, 'src'), { epoch: E });
    gnuTar(join(dir, 'src'), join(dir, 'gnu.tar'), format, E + 10);
    await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), format, E + 10);
    assert.equal(sha256File(join(dir, 'ours.tar')), sha256File(join(dir, 'gnu.tar')), format);
  }
});

test("namePrefix '': byte-identical to GNU tar given the top-level names instead of '.'", async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  materialize(sampleSpec(), join(dir, 'src'), { epoch: E });
  const top = readdirSync(join(dir, 'src')).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const format of ['gnu', 'pax'] as const) {
    run('tar', [...gnuFlags(E), ...formatFlags(format), '-C', join(dir, 'src'), '-cf', join(dir, 'gnu.tar'), '--', ...top]);
    const tree = await loadDirectory(join(dir, 'src'));
    applyPolicy(tree, { buildTime: E, clampMtime: true, owner: 'root', permissions: 'keep', excludes: [], emptyFiles: [] });
    await writeAtomically(join(dir, 'ours.tar'), (sink) => writeTar(tree, sink, { format, namePrefix: '', buildTime: E }));
    assert.equal(sha256File(join(dir, 'ours.tar')), sha256File(join(dir, 'gnu.tar')), format);
  }
});

test('a socket is skipped with a warning, as GNU tar does', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  materialize({ entries: [{ type: 'file', path: 'f', content: 'x' }] }, join(dir, 'src'), { epoch: E });
  // a process that exits while listening leaves its socket file behind
  run(process.execPath, ['-e', 'require("net").createServer().listen(process.argv[1], () => process.exit(0))', join(dir, 'src/sock')]);
  run('touch', ['-d', `@${E}`, join(dir, 'src')]);
  const gnu = run('tar', [...gnuFlags(E), '--format=gnu', '-C', join(dir, 'src'), '-cf', join(dir, 'gnu.tar'), '.']);
  assert.match(gnu.stderr, /sock: socket ignored/);
  const warnings: string[] = [];
  await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'gnu', E, 'root', (m) => warnings.push(m));
  assert.deepEqual(warnings, ['./sock: socket ignored']);
  assert.equal(sha256File(join(dir, 'ours.tar')), sha256File(join(dir, 'gnu.tar')));
});

test('a member over 8 GiB: headers byte-identical to GNU tar (gnu base-256 size, pax size record), length exact', async (t) => {
  if (!requireTool(t, 'tar', 'sh', 'head')) return;
  const size = 9 * 2 ** 30 + 3;
  const spec: SampleSpec = { entries: [{ type: 'file', path: 'huge', content: { size, regions: [{ offset: 2 ** 33, text: 'eight GiB' }] } }] };
  for (const format of ['gnu', 'pax'] as const) {
    const dir = tempDir(t);
    const realized = materialize(spec, join(dir, 'src'), { epoch: E });
    const keep = 4096;
    // GNU tar reads the sparse file as 9 GiB; only the head of its output is kept
    const cmd = `tar ${[...gnuFlags(E), ...formatFlags(format)].map((a) => `'${a}'`).join(' ')} -C '${join(dir, 'src')}' -cf - . | head -c ${keep}`;
    const gnuHead = run('sh', ['-c', cmd]).stdout;
    const sink = new HeadSink(keep);
    await writeTar(specToTree(realized, { epoch: E }), sink, { format, buildTime: E });
    const headers = format === 'gnu' ? 1024 : 2048; // root, then (pax: x header and its data) the member
    assert.deepEqual(Buffer.from(sink.head.subarray(0, headers)), gnuHead.subarray(0, headers), format);
    const body = Math.ceil(size / 512) * 512;
    const total = headers + body + 1024;
    assert.equal(sink.position, Math.ceil(total / 10240) * 10240, format);
    if (format === 'gnu') assert.equal(gnuHead[512 + 124], 0x80, 'base-256 marker');
  }
});

test('pax, deliberate difference: xattrs sorted by name where GNU tar keeps the listing order', async (t) => {
  if (!requireTool(t, 'tar', 'setfattr')) return;
  const dir = tempDir(t);
  materialize({ entries: [{ type: 'file', path: 'f', content: 'x' }] }, join(dir, 'src'), { epoch: E });
  // set in reverse order: GNU tar writes them as llistxattr lists them, here b before a
  run('setfattr', ['-n', 'user.b', '-v', '2', join(dir, 'src/f')]);
  run('setfattr', ['-n', 'user.a', '-v', '1', join(dir, 'src/f')]);
  gnuTar(join(dir, 'src'), join(dir, 'gnu.tar'), 'pax', E);
  await ourTar(join(dir, 'src'), join(dir, 'ours.tar'), 'pax', E);
  const gnu = readFileSync(join(dir, 'gnu.tar'));
  const ours = readFileSync(join(dir, 'ours.tar'));
  const b = Buffer.from('25 SCHILY.xattr.user.b=2\n');
  const a = Buffer.from('25 SCHILY.xattr.user.a=1\n');
  const at = gnu.indexOf(Buffer.concat([b, a]));
  assert.ok(at > 0, 'GNU tar wrote user.b first');
  Buffer.concat([a, b]).copy(gnu, at);
  assert.ok(ours.equals(gnu), 'the only difference is the order of the two records');
});
