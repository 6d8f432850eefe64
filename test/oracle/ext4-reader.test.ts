// Oracle tests of the ext4 reader on images made at test time by mke2fs -d (e2fsprogs), in
// several feature sets: ext2 and ext3 (block maps), ext4 with and without metadata_csum and
// 64bit, uninit_bg (crc16 descriptors), meta_bg, inline_data, ea_inode, 128-byte inodes, and
// 1, 2, 4 and 64 KiB blocks, bigalloc with 1, 2 and 4 KiB blocks and several cluster sizes.
// Large directories are indexed by `e2fsck -fyD` (mke2fs -d leaves them linear). Nanosecond and post-2038 mtimes are set with `debugfs -w sif`, ACLs with
// setfacl. The Tree we read must equal the Tree debugfs gives (see ext4-reader-support.ts):
// names, types, hard links, modes, owners, mtimes, devices, xattrs, symlink targets, contents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openExt4 } from '../../src/formats/ext4/reader.js';
import { openFileSource } from '../../src/io/source.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { hasTool, requireTool, run, tempDir } from '../helpers/tools.js';
import { materialize, pattern, sampleSpec, treeListing, type SampleEntry, type SampleSpec } from '../helpers/sample-tree.js';
import { debugfsTree, normalizeAcls } from './ext4-reader-support.js';

const EPOCH = 1_700_000_000;
const ENV = { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH), TZ: 'UTC' };

interface Variant {
  name: string;
  mkfs: string[];
  /** Add 3000 entries to one directory and index it with e2fsck -fyD. */
  htree?: boolean;
  /** 256-byte inodes: set nanosecond and post-2038 mtimes with debugfs. */
  extraTimes?: boolean;
  /** A 10 KB xattr value, which only ea_inode can store. */
  eaInode?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'ext2', mkfs: ['-t', 'ext2'], htree: true, extraTimes: true },
  { name: 'ext2 without filetype', mkfs: ['-t', 'ext2', '-O', '^filetype'] },
  { name: 'ext3', mkfs: ['-t', 'ext3'], htree: true, extraTimes: true },
  { name: 'ext4 (Debian default: metadata_csum, 64bit)', mkfs: ['-t', 'ext4'], htree: true, extraTimes: true },
  { name: 'ext4 without metadata_csum', mkfs: ['-t', 'ext4', '-O', '^metadata_csum'], htree: true, extraTimes: true },
  { name: 'ext4 uninit_bg (crc16 descriptors)', mkfs: ['-t', 'ext4', '-O', '^metadata_csum,uninit_bg'], extraTimes: true },
  { name: 'ext4 without 64bit', mkfs: ['-t', 'ext4', '-O', '^64bit'], extraTimes: true },
  // 1 KiB blocks and 1 MiB groups: 96 groups, 16 descriptors per block, so six meta groups each
  // keep their descriptor block (and its backups) inside themselves
  { name: 'ext4 meta_bg (96 groups)', mkfs: ['-t', 'ext4', '-b', '1024', '-g', '1024', '-O', 'meta_bg,^resize_inode'], extraTimes: true },
  { name: 'ext4 inline_data', mkfs: ['-t', 'ext4', '-O', 'inline_data'], htree: true, extraTimes: true },
  { name: 'ext4 ea_inode', mkfs: ['-t', 'ext4', '-O', 'ea_inode'], extraTimes: true, eaInode: true },
  { name: 'ext4 128-byte inodes', mkfs: ['-t', 'ext4', '-I', '128'] },
  { name: 'ext4 1 KiB blocks', mkfs: ['-t', 'ext4', '-b', '1024'], htree: true, extraTimes: true },
  { name: 'ext2 1 KiB blocks', mkfs: ['-t', 'ext2', '-b', '1024'] },
  { name: 'ext4 2 KiB blocks', mkfs: ['-t', 'ext4', '-b', '2048'], extraTimes: true },
  { name: 'ext4 64 KiB blocks', mkfs: ['-t', 'ext4', '-b', '65536', '-N', '8192'], htree: true, extraTimes: true },
  // bigalloc: with 1 KiB blocks the first data block is 0 while the superblock stays in block 1,
  // so the descriptors start at block 2 (group 0's, and meta_bg's first meta group)
  { name: 'ext4 bigalloc 1 KiB blocks, 16 KiB clusters', mkfs: ['-t', 'ext4', '-b', '1024', '-O', 'bigalloc', '-C', '16384'], htree: true, extraTimes: true },
  { name: 'ext4 bigalloc 1 KiB blocks, 64 KiB clusters, meta_bg', mkfs: ['-t', 'ext4', '-b', '1024', '-O', 'bigalloc,meta_bg,^resize_inode', '-C', '65536'], extraTimes: true },
  { name: 'ext4 bigalloc 2 KiB blocks, 32 KiB clusters', mkfs: ['-t', 'ext4', '-b', '2048', '-O', 'bigalloc', '-C', '32768'] },
  { name: 'ext4 bigalloc 4 KiB blocks, 64 KiB clusters', mkfs: ['-t', 'ext4', '-O', 'bigalloc', '-C', '65536', '-N', '8192'], htree: true },
  { name: 'ext4 bigalloc 4 KiB blocks, 256 KiB clusters', mkfs: ['-t', 'ext4', '-O', 'bigalloc', '-C', '262144'] },
];

/** The sample tree plus what ext4 adds to test: big ids, a 5 MB file, a fragmented sparse file, a big xattr. */
function spec(v: Variant): SampleSpec {
  const s = sampleSpec();
  const extra: SampleEntry[] = [
    { type: 'file', path: 'etc/bigid', content: 'ids above 65535\n', uid: 100_000, gid: 200_000 },
    { type: 'file', path: 'data/five-mb', content: pattern(5 * 1024 * 1024 + 17, 7) },
    // 2000 one-block data runs between holes: 2000 extents, an extent tree of depth 2 with 4 KiB blocks
    { type: 'file', path: 'data/fragmented', content: { size: 2000 * 8192, regions: Array.from({ length: 2000 }, (_, i) => ({ offset: i * 8192, text: `run ${i}\n` })) } },
    { type: 'file', path: 'data/tail-hole', content: { size: 3 * 65536 + 5, regions: [{ offset: 0, text: 'head' }] } },
    { type: 'file', path: 'etc/bigxattr', content: 'x', xattrs: { 'user.big': 'v'.repeat(600) } },
  ];
  if (v.htree) for (let i = 0; i < 3000; i++) extra.push({ type: 'file', path: `many/entry-with-a-longer-name-${String(i).padStart(5, '0')}`, content: i % 100 === 0 ? `file ${i}\n` : '' });
  if (v.eaInode) extra.push({ type: 'file', path: 'etc/huge-xattr', content: 'h' });
  s.entries.push(...extra);
  return s;
}

function makeImage(t: import('node:test').TestContext, v: Variant): { dir: string; src: string; img: string } {
  const dir = tempDir(t, 'reprimage-ext4r-');
  const src = join(dir, 'src');
  materialize(spec(v), src, { epoch: EPOCH });
  if (hasTool('setfacl')) {
    run('setfacl', ['-m', 'u:1000:rw,g:50:r', join(src, 'etc/hostname')]);
    run('setfacl', ['-d', '-m', 'g:50:rx', join(src, 'usr/bin')]);
  }
  const img = join(dir, 'fs.img');
  run('mke2fs', ['-q', '-F', ...v.mkfs, '-E', 'root_owner=0:0', '-U', '01234567-89ab-cdef-0123-456789abcdef', '-d', src, img, '96M'], { env: ENV });
  if (v.htree) {
    // e2fsck exits 1 when it changed something (here: indexed directories)
    const fsck = run('e2fsck', ['-fyD', img], { env: ENV, allowFail: true });
    assert.ok(fsck.status <= 1, fsck.stderr);
  }
  if (v.eaInode) {
    // a value larger than a block: the host file system may refuse it, so debugfs sets it
    // (given on the command line: `ea_set -f` reads only the first 1024 bytes of a file)
    run('debugfs', ['-w', '-R', `ea_set /etc/huge-xattr user.huge ${'H'.repeat(10_000)}`, img]);
  }
  if (v.extraTimes) {
    // 1_500_000_000.25 s, and epoch bit 1 (2^32 s later) with 1 ns
    run('debugfs', ['-w', '-R', 'sif /etc/passwd mtime_extra 0x3b9aca00', img]);
    run('debugfs', ['-w', '-R', 'sif /a.b mtime_extra 0x5', img]);
  }
  return { dir, src, img };
}

for (const v of VARIANTS) {
  test(`mke2fs -d ${v.name}: the Tree equals what debugfs shows`, async (t) => {
    if (!requireTool(t, 'mke2fs', 'debugfs', 'e2fsck')) return;
    const { dir, src, img } = makeImage(t, v);
    const source = await openFileSource(img);
    t.after(() => source.close());
    const image = await openExt4(source);
    const ours = await image.tree();
    const theirs = debugfsTree(img, dir);
    normalizeAcls(theirs);
    const got = await treeListing(ours);
    const want = await treeListing(theirs);
    assert.deepEqual(got, want);

    // the oracle itself saw what the test meant to make
    const byPath = new Map(got.map((e) => [e.path, e]));
    assert.equal(byPath.get('usr/bin/tool-hardlink')?.hardlinkTo, 'usr/bin/tool');
    assert.deepEqual(byPath.get('dev/null')?.device, [1, 3]);
    assert.equal(byPath.get('etc/bigid')?.uid, 100_000);
    // (mke2fs 1.47.0 -d with inline_data cuts sparse files after their last data block; debugfs agrees)
    assert.ok(byPath.get('data/fragmented')!.size! > 1999 * 8192);
    assert.equal(byPath.get('usr/bin/longlink')?.target?.length, 150);
    if (v.extraTimes) {
      assert.equal(byPath.get('etc/passwd')?.mtime, '1500000000.250000000');
      assert.equal(byPath.get('a.b')?.mtime, `${EPOCH + 2 ** 32}.000000001`);
    }
    if (v.htree) assert.equal(got.filter((e) => e.path.startsWith('many/')).length, 3000);
    if (v.eaInode) assert.equal(byPath.get('etc/huge-xattr')?.xattrs?.['user.huge']?.length, 20_000);
    if (hasTool('setfacl')) {
      // ACLs as the kernel and getfattr give them (debugfs differs only in unused ids, see support)
      const source = await loadDirectory(src, { xattrs: true });
      assert.deepEqual(ours.get('etc/hostname')!.xattrs.get('system.posix_acl_access'), source.get('etc/hostname')!.xattrs.get('system.posix_acl_access'));
      assert.deepEqual(ours.get('usr/bin')!.xattrs.get('system.posix_acl_default'), source.get('usr/bin')!.xattrs.get('system.posix_acl_default'));
    }
  });
}

test('mke2fs -d ext4: the structures exercised are the ones claimed (depth-2 extent tree, 2-level htree, inline data, ea_inode, meta_bg groups, uninit_bg)', async (t) => {
  if (!requireTool(t, 'mke2fs', 'debugfs', 'e2fsck')) return;
  const { img } = makeImage(t, VARIANTS.find((v) => v.name.startsWith('ext4 (Debian'))!);
  const extents = run('debugfs', ['-R', 'ex /data/fragmented', img]).stdout.toString();
  const depth = Math.max(...[...extents.matchAll(/^\s*\d+\/\s*(\d+)/gm)].map((m) => Number(m[1])));
  assert.ok(depth >= 2, `extent tree depth ${depth}:\n${extents.slice(0, 400)}`);
  const htree = run('debugfs', ['-R', 'htree /many', img]).stdout.toString();
  assert.match(htree, /Indirect levels: 1/);
  const inline = makeImage(t, VARIANTS.find((v) => v.name === 'ext4 inline_data')!);
  assert.match(run('debugfs', ['-R', 'stat /etc/hostname', inline.img]).stdout.toString(), /Size of inline data: \d+/);
  const ea = makeImage(t, VARIANTS.find((v) => v.eaInode)!);
  assert.match(run('debugfs', ['-R', 'stat /etc/huge-xattr', ea.img]).stdout.toString(), /user\.huge \(10000\)/);
  const superblock = run('dumpe2fs', ['-h', ea.img]).stdout.toString();
  assert.match(superblock, /Filesystem features:.*ea_inode/);
  const meta = makeImage(t, VARIANTS.find((v) => v.name.startsWith('ext4 meta_bg'))!);
  const groups = run('dumpe2fs', [meta.img]).stdout.toString();
  assert.ok((groups.match(/Group descriptor at/g) ?? []).length >= 6 * 3, 'descriptor blocks in six meta groups, with their backups');
  const uninit = makeImage(t, VARIANTS.find((v) => v.name.includes('uninit_bg'))!);
  assert.match(run('dumpe2fs', ['-h', uninit.img]).stdout.toString(), /Filesystem features:.*uninit_bg/);
});

test('a 5 GiB sparse file in an ext4 image: data regions as debugfs maps them, holes read as zeros', async (t) => {
  if (!requireTool(t, 'mke2fs', 'debugfs')) return;
  const dir = tempDir(t, 'reprimage-ext4r-');
  const src = join(dir, 'src');
  const size = 5 * 1024 ** 3;
  const regions = [
    { offset: 0, text: 'start' },
    { offset: 2 * 1024 ** 3 + 12_345, text: 'middle' },
    { offset: size - 3, text: 'end' },
  ];
  materialize({ entries: [{ type: 'file', path: 'sparse', content: { size, regions } }] }, src, { epoch: EPOCH });
  const img = join(dir, 'fs.img');
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-d', src, img, '64M'], { env: ENV });
  const source = await openFileSource(img);
  t.after(() => source.close());
  const tree = await (await openExt4(source)).tree();
  const node = tree.get('sparse');
  assert.ok(node?.kind === 'file');
  assert.equal(node.content.size, size);
  // debugfs's extents (logical block ranges) are the data regions, in 4 KiB blocks
  const ex = run('debugfs', ['-R', 'ex /sparse', img]).stdout.toString();
  const leaves = [...ex.matchAll(/^\s*(\d+)\/\s*(\d+)\s+\d+\/\s*\d+\s+(\d+)\s*-\s*(\d+)\s+\d+\s*-\s*\d+\s+\d+\s*(Uninit)?\s*$/gm)].filter((m) => m[1] === m[2]);
  const fromDebugfs = leaves.map((m) => ({ offset: Number(m[3]) * 4096, end: Math.min(size, (Number(m[4]) + 1) * 4096) }));
  assert.deepEqual(
    node.content.dataRegions?.map((r) => ({ offset: r.offset, end: r.offset + r.length })),
    fromDebugfs,
  );
  // stream the 5 GiB: only the regions hold non-zero bytes, and they hold the text
  let pos = 0;
  const found: string[] = [];
  for await (const chunk of node.content.chunks()) {
    for (const r of regions) {
      if (r.offset >= pos && r.offset < pos + chunk.length) found.push(Buffer.from(chunk.subarray(r.offset - pos, r.offset - pos + r.text.length)).toString());
    }
    pos += chunk.length;
  }
  assert.equal(pos, size);
  assert.deepEqual(found, ['start', 'middle', 'end']);
});

test('132 nested directories with 250-byte names (a 33,000-character path): OVERFLOW, not a huge Tree of path strings', async (t) => {
  if (!requireTool(t, 'mke2fs', 'python3')) return;
  const dir = tempDir(t, 'reprimage-ext4r-');
  const src = join(dir, 'src');
  // deeper than PATH_MAX: made one level at a time, relative to an open directory (mkdirat)
  const script = `import os, sys
os.mkdir(sys.argv[1])
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(132):
    os.mkdir('d' * 250, dir_fd=fd)
    child = os.open('d' * 250, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = child`;
  run('python3', ['-c', script, src]);
  const img = join(dir, 'fs.img');
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, img, '32M'], { env: ENV });
  // removed the same way (fs.rmSync cannot unlink paths longer than PATH_MAX)
  run('python3', ['-c', 'import shutil, sys; shutil.rmtree(sys.argv[1])', src]);
  const source = await openFileSource(img);
  t.after(() => source.close());
  await assert.rejects((await openExt4(source)).tree(), (e: unknown) => {
    assert.ok(e instanceof Error && e.name === 'ReprimageError' && (e as { code?: string }).code === 'OVERFLOW', String(e));
    assert.match(e.message, /is 3\d{4} characters deep; paths longer than 32768/);
    return true;
  });
});
