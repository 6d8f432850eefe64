import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, linkSync, lutimesSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDirectory, splitDevice, GETFATTR_MISSING } from '../../src/tree/load-dir.js';
import { parseXattrDump } from '../../src/tree/getfattr.js';
import { readContent } from '../../src/tree/content.js';
import { treeToJson } from '../../src/tree/describe.js';
import { NO_XATTRS, type FileNode } from '../../src/tree/tree.js';
import { applyFileList, parseFileList } from '../../src/tree/file-list.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';
import { runNodeUnprivileged, unprivilegedTempDir } from '../helpers/unprivileged.js';

type Step = (root: string) => void;

/** The same small tree, created step by step; every step sets its own times. */
const STEPS: Record<string, Step> = {
  dirs: (r) => {
    mkdirSync(join(r, 'etc'), { recursive: true });
    mkdirSync(join(r, 'usr/bin'), { recursive: true });
    mkdirSync(join(r, 'empty'), { recursive: true });
  },
  passwd: (r) => writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 }),
  tool: (r) => writeFileSync(join(r, 'usr/bin/tool'), '#!/bin/sh\n', { mode: 0o755 }),
  link: (r) => linkSync(join(r, 'usr/bin/tool'), join(r, 'usr/bin/tool-again')),
  symlink: (r) => symlinkSync('usr/bin/tool', join(r, 'tool-link')),
  names: (r) => {
    writeFileSync(join(r, 'etc/a b'), '');
    writeFileSync(join(r, 'etc/é'), 'accent');
    writeFileSync(join(r, 'etc/a.b'), '');
  },
};

function build(root: string, order: string[]): void {
  for (const step of order) STEPS[step]!(root);
  // times last, deepest first, so that creating entries does not move a directory's mtime
  for (const p of ['etc/passwd', 'usr/bin/tool', 'etc/a b', 'etc/é', 'etc/a.b']) utimesSync(join(root, p), 1_600_000_000, 1_600_000_000 + (p.length % 7));
  lutimesSync(join(root, 'tool-link'), 1_500_000_000, 1_500_000_000);
  for (const p of ['usr/bin', 'usr', 'etc', 'empty', '']) utimesSync(join(root, p), 1_400_000_000, 1_400_000_000);
  // modes explicitly, so that the umask of the test run does not matter
  for (const p of ['', 'etc', 'usr', 'usr/bin']) chmodSync(join(root, p), 0o755);
  chmodSync(join(root, 'empty'), 0o1777);
  chmodSync(join(root, 'etc/passwd'), 0o644);
  chmodSync(join(root, 'usr/bin/tool'), 0o755);
  for (const p of ['etc/a b', 'etc/é', 'etc/a.b']) chmodSync(join(root, p), 0o600);
}

test('the same tree made in two different orders loads to the same Tree', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  mkdirSync(a);
  mkdirSync(b);
  build(a, ['dirs', 'passwd', 'tool', 'link', 'symlink', 'names']);
  build(b, ['dirs', 'names', 'symlink', 'tool', 'link', 'passwd']);
  const ja = treeToJson(await loadDirectory(a, { xattrs: false }));
  const jb = treeToJson(await loadDirectory(b, { xattrs: false }));
  assert.deepEqual(ja, jb);
  const uid = process.getuid!();
  const gid = process.getgid!();
  assert.deepEqual(ja.map(({ uid: u, gid: g, ...e }) => (assert.deepEqual([u, g], [uid, gid]), e)), [
    { path: '.', type: 'dir', mode: '0755', mtime: '1400000000' },
    { path: 'empty', type: 'dir', mode: '1777', mtime: '1400000000' },
    { path: 'etc', type: 'dir', mode: '0755', mtime: '1400000000' },
    { path: 'etc/a b', type: 'file', mode: '0600', mtime: '1600000000', size: 0 },
    { path: 'etc/a.b', type: 'file', mode: '0600', mtime: '1600000000', size: 0 },
    { path: 'etc/passwd', type: 'file', mode: '0644', mtime: '1600000003', size: 26 },
    { path: 'etc/é', type: 'file', mode: '0600', mtime: '1600000005', size: 6 },
    { path: 'tool-link', type: 'symlink', mode: '0777', mtime: '1500000000', target: 'usr/bin/tool' },
    { path: 'usr', type: 'dir', mode: '0755', mtime: '1400000000' },
    { path: 'usr/bin', type: 'dir', mode: '0755', mtime: '1400000000' },
    { path: 'usr/bin/tool', type: 'file', mode: '0755', mtime: '1600000005', size: 10 },
    { path: 'usr/bin/tool-again', type: 'file', mode: '0755', mtime: '1600000005', size: 10, hardlinkTo: 'usr/bin/tool' },
  ]);
});

test('hard links are one node; contents are read lazily from disk and checked for size changes', async (t) => {
  const root = tempDir(t);
  build(root, Object.keys(STEPS));
  const tree = await loadDirectory(root, { xattrs: false });
  const tool = tree.get('usr/bin/tool') as FileNode;
  assert.equal(tree.get('usr/bin/tool-again'), tool);
  assert.equal(tree.linkCounts().get(tool), 2);
  assert.equal(tool.content.origin, join(root, 'usr/bin/tool'));
  appendFileSync(join(root, 'etc/passwd'), 'more\n');
  const passwd = tree.get('etc/passwd') as FileNode;
  await assert.rejects(readContent(passwd.content), (e: unknown) => e instanceof ReprimageError && e.code === 'IO' && e.message.includes('grew'));
  writeFileSync(join(root, 'usr/bin/tool'), '#!/bin/zz\n');
  assert.equal(Buffer.from(await readContent(tool.content)).toString(), '#!/bin/zz\n', 'read when streamed, not when listed');
  writeFileSync(join(root, 'usr/bin/tool'), '#!');
  await assert.rejects(readContent(tool.content), (e: unknown) => e instanceof ReprimageError && e.code === 'IO' && e.message.includes('shrank'));
});

test('the children of every directory are inserted in bytewise order, whatever the OS lists', async (t) => {
  const root = tempDir(t);
  for (const name of ['b', 'a.b', 'a', 'é', 'Z', '_']) writeFileSync(join(root, name), '');
  const tree = await loadDirectory(root, { xattrs: false });
  assert.deepEqual([...tree.root.children.keys()], ['Z', '_', 'a', 'a.b', 'b', 'é']);
});

test('a root given through a symlink or with a trailing slash is the directory itself', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'real/sub'), { recursive: true });
  writeFileSync(join(dir, 'real/sub/f'), 'x');
  symlinkSync('real', join(dir, 'alias'));
  const expected = treeToJson(await loadDirectory(join(dir, 'real'), { xattrs: false }));
  assert.deepEqual(treeToJson(await loadDirectory(join(dir, 'alias'), { xattrs: false })), expected);
  assert.deepEqual(treeToJson(await loadDirectory(`${join(dir, 'real')}/`, { xattrs: false })), expected);
  assert.equal(expected.length, 3);
});

test('errors name the path: missing root, a root that is a file', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(loadDirectory(join(dir, 'missing')), (e: unknown) => e instanceof ReprimageError && e.code === 'NOT_FOUND' && e.message === `${join(dir, 'missing')}: no such file or directory`);
  writeFileSync(join(dir, 'file'), 'x');
  await assert.rejects(loadDirectory(join(dir, 'file')), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.message === `${join(dir, 'file')}: not a directory`);
});

test('names and link targets that are not UTF-8 are kept as their bytes, and their files still open', async (t) => {
  const dir = tempDir(t);
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  mkdirSync(bytes(dir, '/sub', [0xff]));
  writeFileSync(bytes(dir, '/sub', [0xff], '/caf', [0xe9]), 'latin-1');
  writeFileSync(bytes(dir, '/sub', [0xff], '/caf', [0xc3, 0xa9]), 'utf-8');
  symlinkSync(bytes('caf', [0xe9]), bytes(dir, '/sub', [0xff], '/link'));
  const tree = await loadDirectory(dir, { xattrs: false });
  const latin = tree.get('sub\udcff/caf\udce9') as FileNode;
  assert.equal(Buffer.from(await readContent(latin.content)).toString(), 'latin-1');
  assert.equal(Buffer.from(await readContent((tree.get('sub\udcff/café') as FileNode).content)).toString(), 'utf-8');
  assert.deepEqual(tree.get('sub\udcff/link'), { ...tree.get('sub\udcff/link'), kind: 'symlink', target: 'caf\udce9' });
  assert.deepEqual([...tree.walk()].map((e) => e.path), ['', 'sub\udcff', 'sub\udcff/café', 'sub\udcff/caf\udce9', 'sub\udcff/link']);
});

test('unreadable directories are IO errors naming them (loaded as an unprivileged user)', (t) => {
  // root reads every directory whatever its mode: as root, the load runs as REPRIMAGE_TEST_USER (nobody)
  const dir = unprivilegedTempDir(t);
  mkdirSync(join(dir, 'tree/locked'), { recursive: true });
  writeFileSync(join(dir, 'tree/readable'), 'x');
  chmodSync(join(dir, 'tree/locked'), 0);
  const r = runNodeUnprivileged(`
    const { loadDirectory } = await import(new URL('src/tree/load-dir.js', DIST).href);
    try {
      await loadDirectory(${JSON.stringify(join(dir, 'tree'))}, { xattrs: false });
      console.log('loaded');
    } catch (e) {
      console.log([e.name, e.code, e.message].join(' | '));
    }`);
  chmodSync(join(dir, 'tree/locked'), 0o755); // so that the temporary directory can be removed
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `ReprimageError | IO | ${join(dir, 'tree/locked')}: permission denied`);
});

test('without getfattr, xattrs are skipped with exactly one warning', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'a/b/c'), { recursive: true });
  writeFileSync(join(dir, 'a/b/c/f'), 'x');
  const path = process.env.PATH;
  process.env.PATH = join(dir, 'no-tools-here');
  t.after(() => (process.env.PATH = path));
  const warnings: string[] = [];
  const tree = await loadDirectory(dir, { warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, [GETFATTR_MISSING]);
  assert.equal(GETFATTR_MISSING, 'getfattr not found: extended attributes are not read; install the attr package');
  assert.equal(tree.size, 5);
  await loadDirectory(dir, { xattrs: false, warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1, 'no warning when xattrs were not asked for');
});

test('splitDevice decodes st_rdev as glibc does (values from Python os.makedev)', () => {
  const cases: Array<[bigint, number, number]> = [
    [0x801n, 8, 1],
    [0x103n, 1, 3],
    [0xffffffffn, 4095, 1048575],
    [0x100123400556n, 4101, 0x123456],
    [0xff000ffffffffn, 1048575, 1048575],
    [0x7ffff7ffffffffffn, 0x7fffffff, 0x7fffffff],
    [0x123457edcba67898n, 305419896, 2128394904],
  ];
  for (const [rdev, major, minor] of cases) assert.deepEqual(splitDevice(rdev), { major, minor }, rdev.toString(16));
});

test('getfattr dumps: octal escapes in paths and names, UTF-8 bytes raw or escaped, empty values', () => {
  const dump = Buffer.concat([
    Buffer.from('# file: /r\n'),
    Buffer.from('user.root=0x31\n\n'),
    Buffer.from('# file: /r/new\\012line\n'),
    Buffer.from('user.n\\012l=0x00ff\n'),
    Buffer.from('user.eq\\075k=0x\n'),
    Buffer.from('user.bare\n\n'),
    Buffer.from('# file: /r/back\\134slash and space\n'),
    Buffer.from('trusted.x=0xABCD\n\n'),
    Buffer.from('# file: /r/'),
    Buffer.from('é', 'utf8'),
    Buffer.from('/\\303\\251\n'),
    Buffer.from('security.selinux=0x73797374656d5f753a6f626a6563745f723a62696e5f743a733000\n\n'),
    // a Latin-1 name, raw and escaped: kept as its bytes (docs/names.md)
    Buffer.from([...Buffer.from('# file: /r/caf'), 0xe9, ...Buffer.from('/\\351\nuser.k=0x31\n\n')]),
  ]);
  const records = parseXattrDump(dump).map((r) => [r.path, Object.fromEntries([...r.xattrs].map(([k, v]) => [k, Buffer.from(v).toString('hex')]))]);
  assert.deepEqual(records, [
    ['/r', { 'user.root': '31' }],
    ['/r/new\nline', { 'user.n\nl': '00ff', 'user.eq=k': '', 'user.bare': '' }],
    ['/r/back\\slash and space', { 'trusted.x': 'abcd' }],
    ['/r/é/é', { 'security.selinux': '73797374656d5f753a6f626a6563745f723a62696e5f743a733000' }],
    ['/r/caf\udce9/\udce9', { 'user.k': '31' }],
  ]);
  assert.deepEqual(parseXattrDump(Buffer.from('')), []);
  assert.throws(() => parseXattrDump(Buffer.from('user.a=0x31\n')), (e: unknown) => e instanceof ReprimageError && e.code === 'TOOL');
  assert.throws(() => parseXattrDump(Buffer.from('# file: /r\nuser.a="text"\n')), (e: unknown) => e instanceof ReprimageError && e.code === 'TOOL' && e.message.includes('not hex'));
});

test('entries loaded without xattrs share one map that refuses changes; a file list gives the one entry it changes a map of its own', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a'), 'a');
  writeFileSync(join(dir, 'b'), 'b');
  const tree = await loadDirectory(dir, { xattrs: false });
  const [a, b] = [tree.get('a')!, tree.get('b')!];
  assert.equal(a.xattrs, NO_XATTRS);
  assert.equal(b.xattrs, NO_XATTRS);
  assert.throws(() => a.xattrs.set('user.x', new Uint8Array(1)), /NO_XATTRS/);
  await applyFileList(tree, parseFileList('xattr /a user.x 0x01\n', 'list'), { baseDir: dir });
  assert.deepEqual([...a.xattrs], [['user.x', new Uint8Array([1])]]);
  assert.equal(b.xattrs.size, 0, 'the other entry is unchanged');
  assert.equal(NO_XATTRS.size, 0);
});
