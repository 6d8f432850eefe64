// Our tar reader on archives the reference tools write: GNU tar (gnu, oldgnu, pax, posix with xattrs,
// ustar, every --sparse flavour), bsdtar (pax with xattrs, ustar, gnutar, sparse) and Go's
// archive/tar (fixture). Each must read back as the tree that was archived, contents included.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadTar } from '../../src/formats/tar/index.js';
import { openFileSource } from '../../src/io/source.js';
import type { Tree } from '../../src/tree/tree.js';
import { contentSha256, generatedContent, materialize, sampleSpec, specToTree, treeListing, type SampleSpec } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const E = 1_600_000_000;

/** Loads an archive; its source stays open (contents are lazy) until the test ends. */
async function readTar(t: TestContext, path: string, warnings: string[] = []): Promise<Tree> {
  const source = await openFileSource(path);
  t.after(() => source.close());
  return loadTar(source, { warn: (m) => warnings.push(m) });
}

/** The spec's tree as a format sees it: without what the format cannot carry. */
function projected(spec: SampleSpec, keep: { xattrs: boolean; nsec: boolean }): Tree {
  const tree = specToTree(spec, { epoch: E });
  for (const { node } of tree.walk()) {
    if (!keep.xattrs) node.xattrs = new Map();
    if (!keep.nsec) node.mtime = { sec: node.mtime.sec, nsec: 0 };
  }
  return tree;
}

const withoutLongNames = (spec: SampleSpec): SampleSpec => ({ ...spec, entries: spec.entries.filter((e) => !e.path.includes('long')) });

for (const [label, tool, args, keep, ustarOnly] of [
  ['GNU tar --format=gnu', 'tar', ['--format=gnu'], { xattrs: false, nsec: false }, false],
  ['GNU tar --format=oldgnu', 'tar', ['--format=oldgnu'], { xattrs: false, nsec: false }, false],
  ['GNU tar --format=pax (reproducible flags)', 'tar', ['--format=pax', '--sort=name', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--xattrs', '--xattrs-include=*'], { xattrs: true, nsec: true }, false],
  ['GNU tar --format=posix --xattrs', 'tar', ['--format=posix', '--xattrs', '--xattrs-include=*'], { xattrs: true, nsec: true }, false],
  ['GNU tar --format=ustar', 'tar', ['--format=ustar'], { xattrs: false, nsec: false }, true],
  ['GNU tar --format=v7', 'tar', ['--format=v7'], { xattrs: false, nsec: false }, true],
  ['bsdtar --format=pax --xattrs', 'bsdtar', ['--format=pax', '--xattrs'], { xattrs: true, nsec: true }, false],
  ['bsdtar --format=ustar', 'bsdtar', ['--format=ustar'], { xattrs: false, nsec: false }, true],
  ['bsdtar --format=gnutar', 'bsdtar', ['--format=gnutar'], { xattrs: false, nsec: false }, false],
] as const) {
  test(`reads what ${label} writes as the tree that was archived`, async (t) => {
    if (!requireTool(t, tool, 'setfattr')) return;
    const dir = tempDir(t);
    let spec = sampleSpec();
    if (ustarOnly) spec = withoutLongNames(spec);
    if (label.includes('v7')) {
      // v7 has no devices, fifos or names over 99 bytes
      spec.entries = spec.entries.filter((e) => !['char', 'block', 'fifo'].includes(e.type) && Buffer.byteLength(e.path) < 96);
    }
    const realized = materialize(spec, join(dir, 'src'), { epoch: E });
    run(tool, [...args, '-C', join(dir, 'src'), '-cf', join(dir, 'theirs.tar'), '.']);
    const got = await treeListing(await readTar(t, join(dir, 'theirs.tar')));
    const want = await treeListing(projected(realized, keep));
    assert.deepEqual(got, want);
  });
}

test('reads GNU tar --sparse members in every sparse flavour (old GNU, pax 0.0, 0.1, 1.0) and bsdtar pax', async (t) => {
  if (!requireTool(t, 'tar', 'bsdtar')) return;
  const dir = tempDir(t);
  const size = 5 * 2 ** 20 + 7;
  const regions = [
    { offset: 2 ** 20, text: 'first region' },
    { offset: 3 * 2 ** 20 + 100, text: 'second' },
    { offset: size - 3, text: 'end' },
  ];
  const spec: SampleSpec = { entries: [{ type: 'file', path: 'sparse.img', content: { size, regions } }] };
  materialize(spec, join(dir, 'src'), { epoch: E });
  const want = await contentSha256(generatedContent(size, regions));
  for (const [tool, args] of [
    ['tar', ['--sparse', '--format=gnu']],
    ['tar', ['--sparse', '--format=pax', '--sparse-version=0.0']],
    ['tar', ['--sparse', '--format=pax', '--sparse-version=0.1']],
    ['tar', ['--sparse', '--format=pax', '--sparse-version=1.0']],
    ['bsdtar', ['--format=pax']],
  ] as const) {
    const what = `${tool} ${args.join(' ')}`;
    const out = join(dir, `${tool}${args.join('')}.tar`);
    run(tool, [...args, '-C', join(dir, 'src'), '-cf', out, '.']);
    const node = (await readTar(t, out)).get('sparse.img');
    assert.equal(node?.kind, 'file', what);
    if (node?.kind !== 'file') continue;
    assert.equal(node.content.size, size, what);
    const data = (node.content.dataRegions ?? []).filter((r) => r.length > 0);
    assert.ok(data.length >= 1 && data.length <= 3, `${what}: sparse map ${JSON.stringify(node.content.dataRegions)}`);
    for (const r of regions) assert.ok(data.some((d) => d.offset <= r.offset && r.offset < d.offset + d.length), `${what}: region at ${r.offset} mapped`);
    assert.equal(await contentSha256(node.content), want, what);
  }
});

test('reads an archive written by Go archive/tar (fixture): pax, GNU long name and base-256 id, global header', async (t) => {
  // test/fixtures/tar/go-archive.tar: see test/fixtures/tar/README.md for how it was made
  const tree = await readTar(t, join(process.cwd(), 'test/fixtures/tar/go-archive.tar'));
  const long = 'dir/' + 'long-'.repeat(30) + 'name';
  const t0 = String(E);
  const sha = (s: string) => ({ sha256: createHash('sha256').update(s).digest('hex') });
  assert.deepEqual(await treeListing(tree), [
    { path: '.', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '0' },
    { path: 'dir', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: t0 },
    { path: 'dir/fifo', type: 'fifo', mode: '0600', uid: 0, gid: 0, mtime: t0 },
    { path: 'dir/file.txt', type: 'file', mode: '0644', uid: 1000, gid: 1000, mtime: '1600000000.500000000', size: 13, xattrs: { 'user.origin': '676f' }, ...sha('hello from go') },
    { path: 'dir/hard', type: 'file', mode: '0644', uid: 1000, gid: 1000, mtime: '1600000000.500000000', size: 13, xattrs: { 'user.origin': '676f' }, hardlinkTo: 'dir/file.txt' },
    { path: 'dir/link', type: 'symlink', mode: '0777', uid: 0, gid: 0, mtime: t0, target: 'file.txt' },
    { path: long, type: 'file', mode: '0600', uid: 0, gid: 0, mtime: t0, size: 0, ...sha('') },
    { path: `${long}-gnu`, type: 'file', mode: '0640', uid: 3_000_000, gid: 5, mtime: t0, size: 0, ...sha('') },
    { path: 'dir/null', type: 'char', mode: '0666', uid: 0, gid: 0, mtime: t0, device: [1, 3] },
  ]);
});
