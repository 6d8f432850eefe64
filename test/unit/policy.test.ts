import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tree, newDir, newMeta, type FileNode, type Node } from '../../src/tree/tree.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { applyPolicy, clampTime, resolveSourceDateEpoch, normalizedMode, type MetadataPolicy } from '../../src/tree/policy.js';
import { treeToJson } from '../../src/tree/describe.js';
import { ReprimageError } from '../../src/errors.js';

const base: MetadataPolicy = { buildTime: 1000, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] };

function file(mode: number, sec = 1, nsec = 0, text = 'data'): FileNode {
  return { kind: 'file', ...newMeta({ mode, uid: 1000, gid: 100, mtime: { sec, nsec } }), content: bytesContent(Buffer.from(text)) };
}

const isUsage = (needle: string) => (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.message.includes(needle);

test('mtimes later than SOURCE_DATE_EPOCH become it with nanoseconds 0; earlier ones are kept exactly', () => {
  const tree = new Tree(newDir({ mtime: { sec: 5000, nsec: 1 } }));
  tree.set('late', file(0o644, 2000, 5));
  tree.set('early', file(0o644, 500, 7));
  tree.set('same-second', file(0o644, 1000, 1));
  tree.set('exact', file(0o644, 1000, 0));
  tree.set('before-1970', file(0o644, -3, 999_999_999));
  tree.set('link', { kind: 'symlink', ...newMeta({ mtime: { sec: 1e9, nsec: 0 } }), target: 'late' });
  applyPolicy(tree, base);
  const times = Object.fromEntries([...tree.walk()].map((e) => [e.path, [e.node.mtime.sec, e.node.mtime.nsec]]));
  assert.deepEqual(times, {
    '': [1000, 0],
    late: [1000, 0],
    early: [500, 7],
    'same-second': [1000, 0],
    exact: [1000, 0],
    'before-1970': [-3, 999_999_999],
    link: [1000, 0],
  });
  const kept = new Tree();
  kept.set('late', file(0o644, 2000, 5));
  applyPolicy(kept, { ...base, clampMtime: false });
  assert.deepEqual(kept.get('late')!.mtime, { sec: 2000, nsec: 5 });
});

test('clampTime compares seconds, then nanoseconds', () => {
  assert.deepEqual(clampTime({ sec: 10, nsec: 0 }, 10), { sec: 10, nsec: 0 });
  assert.deepEqual(clampTime({ sec: 10, nsec: 1 }, 10), { sec: 10, nsec: 0 });
  assert.deepEqual(clampTime({ sec: 9, nsec: 999_999_999 }, 10), { sec: 9, nsec: 999_999_999 });
  assert.deepEqual(clampTime({ sec: 11, nsec: 0 }, 10), { sec: 10, nsec: 0 });
});

test('owner root makes every entry 0:0, each hard-linked node once', () => {
  const tree = new Tree(newDir({ uid: 7, gid: 8 }));
  const shared = file(0o644);
  tree.set('a/x', shared);
  tree.set('b/y', shared);
  tree.set('dev/null', { kind: 'char', ...newMeta({ mode: 0o666, uid: 5, gid: 5 }), major: 1, minor: 3 });
  applyPolicy(tree, { ...base, owner: 'root' });
  for (const { path, node } of tree.walk()) assert.deepEqual([node.uid, node.gid], [0, 0], path);
  assert.equal(tree.get('a/x'), tree.get('b/y'), 'still one node');
});

/** A Debian-like tree as a build under `umask` would leave it (the mode each tool asked for, minus the umask). */
function builtUnder(umask: number): Tree {
  const m = (asked: number) => asked & ~umask;
  const tree = new Tree(newDir({ mode: m(0o755) }));
  tree.set('bin', newDir({ mode: m(0o777) }));
  tree.set('bin/tool', file(m(0o777)));
  tree.set('etc', newDir({ mode: m(0o777) }));
  tree.set('etc/conf', file(m(0o666)));
  tree.set('etc/readonly', file(m(0o444)));
  tree.set('usr/bin/sudo', file(m(0o4755) | 0o4000));
  tree.set('usr/bin/chage', file(m(0o2755) | 0o2000));
  tree.set('usr/lib/script.sh', file(m(0o775)));
  tree.set('tmp', newDir({ mode: m(0o777) | 0o1000 }));
  tree.set('var/tmp', newDir({ mode: m(0o777) | 0o1000 }));
  tree.set('srv/ro', newDir({ mode: m(0o555) }));
  tree.set('lib/link', { kind: 'symlink', ...newMeta({ mode: 0o777 }), target: '../bin/tool' });
  tree.set('dev/null', { kind: 'char', ...newMeta({ mode: 0o666 }), major: 1, minor: 3 });
  tree.set('dev/console', { kind: 'char', ...newMeta({ mode: 0o600 }), major: 5, minor: 1 });
  tree.set('run/initctl', { kind: 'fifo', ...newMeta({ mode: 0o600 }) });
  for (const { node } of tree.walk()) node.mtime = { sec: 1, nsec: 0 };
  applyPolicy(tree, { ...base, owner: 'root', permissions: 'normalize' });
  return tree;
}

test('normalize gives the same modes whatever umask made the tree', () => {
  const reference = treeToJson(builtUnder(0o022));
  for (const umask of [0o000, 0o002, 0o007, 0o027, 0o077]) assert.deepEqual(treeToJson(builtUnder(umask)), reference, umask.toString(8));
  const modes = Object.fromEntries(reference.map((e) => [e.path, e.mode]));
  assert.deepEqual(modes, {
    '.': '0755',
    bin: '0755',
    'bin/tool': '0755',
    dev: '0755',
    'dev/console': '0600',
    'dev/null': '0666',
    etc: '0755',
    'etc/conf': '0644',
    'etc/readonly': '0444',
    lib: '0755',
    'lib/link': '0777',
    run: '0755',
    'run/initctl': '0600',
    srv: '0755',
    'srv/ro': '0555',
    tmp: '1777',
    usr: '0755',
    'usr/bin': '0755',
    'usr/bin/chage': '2755',
    'usr/bin/sudo': '4755',
    'usr/lib': '0755',
    'usr/lib/script.sh': '0755',
    var: '0755',
    'var/tmp': '1777',
  });
});

test('normalizedMode: a property over every mode and every umask that keeps the owner bits', () => {
  const kinds: Array<'file' | 'dir'> = ['file', 'dir'];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0o7777 }), fc.integer({ min: 0, max: 0o077 }), fc.constantFrom(...kinds), (mode, umask, kind) => {
      const node = (m: number): Node => (kind === 'dir' ? newDir({ mode: m }) : file(m));
      // a umask clears group/other bits only; the execute bit survives if the owner had it
      fc.pre((mode & 0o100) !== 0 || (mode & 0o011) === 0);
      const once = normalizedMode(node(mode));
      assert.equal(normalizedMode(node(mode & ~umask)), once);
      assert.equal(normalizedMode(node(once)), once, 'idempotent');
      assert.equal(once & 0o7000, mode & 0o7000, 'special bits kept');
      assert.equal(once & 0o022 & ~(kind === 'dir' && mode & 0o1000 ? 0o022 : 0), 0, 'group/other write only for sticky dirs');
    }),
    { numRuns: 2000 },
  );
  assert.equal(normalizedMode({ kind: 'symlink', ...newMeta({ mode: 0o700 }), target: 'x' }), 0o777);
  assert.equal(normalizedMode({ kind: 'socket', ...newMeta({ mode: 0o640 }) }), 0o640);
  assert.equal(normalizedMode(file(0o000)), 0o000, 'an unreadable file stays unreadable');
  assert.equal(normalizedMode(newDir({ mode: 0o1730 })), 0o1777, 'a sticky writable dir is shared (crontabs needs a mod line)');
  assert.equal(normalizedMode(newDir({ mode: 0o1555 })), 0o1555, 'sticky but not writable stays not writable');
});

test('excludes: anchored paths, ** across directories, bare names at any depth, whole subtrees', () => {
  const tree = new Tree();
  const paths = [
    'var/cache/apt/pkgcache.bin',
    'var/log/dpkg.log',
    'var/log/apt/term.log',
    'etc/machine-id',
    'usr/lib/x/__pycache__/m.pyc',
    '__pycache__/top.pyc',
    'usr/share/doc/a/changelog.gz',
    'usr/share/doc/a/copyright',
    'keep/me',
    'keep/var/cache/not-anchored',
    '.hidden/x.log',
  ];
  for (const p of paths) tree.set(p, file(0o644));
  applyPolicy(tree, { ...base, excludes: ['var/cache', '**/*.log', '__pycache__', '/usr/share/doc/*/changelog.gz'] });
  const left = [...tree.walk()].map((e) => e.path);
  assert.deepEqual(left, ['', '.hidden', 'etc', 'etc/machine-id', 'keep', 'keep/me', 'keep/var', 'keep/var/cache', 'keep/var/cache/not-anchored', 'usr', 'usr/lib', 'usr/lib/x', 'usr/share', 'usr/share/doc', 'usr/share/doc/a', 'usr/share/doc/a/copyright', 'var', 'var/log', 'var/log/apt']);
});

test('excluding one name of a hard-linked file keeps the other', () => {
  const tree = new Tree();
  const shared = file(0o644);
  tree.set('a/x', shared);
  tree.set('b/x', shared);
  applyPolicy(tree, { ...base, excludes: ['a'] });
  assert.equal(tree.get('b/x'), shared);
  assert.equal(tree.linkCounts().get(shared), 1);
});

test('empty files keep their entry, mode, owner and time but lose their bytes; under a matched directory too', async () => {
  const tree = new Tree();
  tree.set('var/log/build.log', file(0o640, 7, 0, 'log lines'));
  tree.set('var/cache/x/y', file(0o600, 7, 0, 'cached'));
  tree.set('var/keep', file(0o644, 7, 0, 'kept'));
  applyPolicy(tree, { ...base, emptyFiles: ['var/log/*.log', 'var/cache'] });
  for (const path of ['var/log/build.log', 'var/cache/x/y']) {
    const node = tree.get(path) as FileNode;
    assert.equal(node.content.size, 0, path);
    assert.equal((await readContent(node.content)).length, 0);
  }
  assert.deepEqual([tree.get('var/log/build.log')!.mode, tree.get('var/log/build.log')!.uid, tree.get('var/log/build.log')!.mtime.sec], [0o640, 1000, 7]);
  assert.equal(Buffer.from(await readContent((tree.get('var/keep') as FileNode).content)).toString(), 'kept');
});

test('the steps run in order: an excluded file is not emptied, and modes are normalized before times are clamped', () => {
  const tree = new Tree();
  tree.set('x.log', file(0o600, 2000, 3));
  applyPolicy(tree, { ...base, excludes: ['nothing'], emptyFiles: ['*.log'], owner: 'root', permissions: 'normalize' });
  assert.deepEqual(treeToJson(tree)[1], { path: 'x.log', type: 'file', mode: '0644', uid: 0, gid: 0, mtime: '1000', size: 0 });
});

test('applyPolicy refuses an epoch that is not a non-negative whole number', () => {
  for (const bad of [-1, 1.5, NaN]) assert.throws(() => applyPolicy(new Tree(), { ...base, buildTime: bad }), isUsage('SOURCE_DATE_EPOCH'));
  assert.throws(() => applyPolicy(new Tree(), { ...base, excludes: [''] }), isUsage('exclude patterns'));
});

test('SOURCE_DATE_EPOCH: the option wins over the environment', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.equal(resolveSourceDateEpoch({ option: '5', env: '7', warn }), 5);
  assert.equal(resolveSourceDateEpoch({ option: '0', env: '7', warn }), 0);
  assert.equal(resolveSourceDateEpoch({ env: '7', warn }), 7);
  assert.equal(resolveSourceDateEpoch({ env: '1700000000', warn }), 1700000000);
  assert.equal(resolveSourceDateEpoch({ env: '9007199254740991', warn }), Number.MAX_SAFE_INTEGER);
  assert.deepEqual(warnings, []);
});

test('SOURCE_DATE_EPOCH: malformed values are usage errors naming it', () => {
  const warn = () => assert.fail('no warning for a malformed value');
  for (const bad of ['-1', '1.5', 'yesterday', '1e9', ' 5', '5 ', '+5', '0x10', '9007199254740992', '١٢']) {
    assert.throws(() => resolveSourceDateEpoch({ env: bad, warn }), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.subject === 'SOURCE_DATE_EPOCH' && e.message.includes(JSON.stringify(bad)), bad);
    assert.throws(() => resolveSourceDateEpoch({ option: bad, env: '7', warn }), (e: unknown) => e instanceof ReprimageError && e.subject === '--source-date-epoch' && e.message.includes('SOURCE_DATE_EPOCH must be'), bad);
  }
  assert.throws(() => resolveSourceDateEpoch({ option: '', env: '7', warn }), isUsage('SOURCE_DATE_EPOCH'), 'an empty option is not "unset"');
});

test('SOURCE_DATE_EPOCH unset (or empty): a warning and the newest mtime in the input, 0 for nothing', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const tree = new Tree();
  tree.set('a', file(0o644, 1234, 999));
  tree.set('b/c', file(0o644, 99));
  tree.set('old', file(0o644, -50));
  assert.equal(resolveSourceDateEpoch({ tree, warn }), 1234);
  assert.equal(resolveSourceDateEpoch({ env: '', tree, warn }), 1234);
  assert.equal(resolveSourceDateEpoch({ tree: new Tree(), warn }), 0);
  assert.equal(resolveSourceDateEpoch({ warn }), 0);
  const before = new Tree(newDir({ mtime: { sec: -10, nsec: 0 } }));
  assert.equal(resolveSourceDateEpoch({ tree: before, warn }), 0, 'never negative');
  assert.deepEqual(warnings, [
    'SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (1234)',
    'SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (1234)',
    'SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (0)',
    'SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (0)',
    'SOURCE_DATE_EPOCH is not set; using the newest mtime in the input (0)',
  ]);
});
