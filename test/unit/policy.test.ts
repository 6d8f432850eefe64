import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tree, newDir, newMeta, type FileNode } from '../../src/tree/tree.js';
import { bytesContent } from '../../src/tree/content.js';
import { applyPolicy, resolveSourceDateEpoch, normalizedMode, type MetadataPolicy } from '../../src/tree/policy.js';
import { compileExcludes } from '../../src/tree/excludes.js';
import { deriveBytes, deriveUuid, deriveU32 } from '../../src/tree/identifiers.js';
import { ReprimageError } from '../../src/errors.js';

const base: MetadataPolicy = { sourceDateEpoch: 1000, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] };

function file(mode: number, sec: number, nsec = 0): FileNode {
  return { kind: 'file', ...newMeta({ mode, uid: 1000, gid: 100, mtime: { sec, nsec } }), content: bytesContent(Buffer.from('data')) };
}

test('mtimes later than SOURCE_DATE_EPOCH are clamped (nanoseconds too); earlier ones are kept', () => {
  const tree = new Tree();
  tree.set('late', file(0o644, 2000, 5));
  tree.set('early', file(0o644, 500, 7));
  tree.set('same-second', file(0o644, 1000, 1));
  applyPolicy(tree, base);
  assert.deepEqual(tree.get('late')!.mtime, { sec: 1000, nsec: 0 });
  assert.deepEqual(tree.get('early')!.mtime, { sec: 500, nsec: 7 });
  assert.deepEqual(tree.get('same-second')!.mtime, { sec: 1000, nsec: 0 });
});

test('owner root and normalized permissions do not depend on the umask that made the tree', () => {
  const make = (umask: number) => {
    const tree = new Tree(newDir({ mode: 0o777 & ~umask }));
    tree.set('bin/tool', file(0o777 & ~umask, 1));
    tree.set('etc/conf', file(0o666 & ~umask, 1));
    tree.set('usr/bin/sudo', file(0o4755 & ~umask, 1));
    tree.set('tmp', newDir({ mode: 0o1777 & ~umask }));
    applyPolicy(tree, { ...base, owner: 'root', permissions: 'normalize' });
    return [...tree.walk()].map((e) => [e.path, e.node.mode, e.node.uid, e.node.gid]);
  };
  assert.deepEqual(make(0o077), make(0o022));
  assert.deepEqual(make(0o002), make(0o022));
  const modes = Object.fromEntries(make(0o022).map(([p, m]) => [p, m]));
  assert.equal(modes['bin/tool'], 0o755);
  assert.equal(modes['etc/conf'], 0o644);
  assert.equal(modes['usr/bin/sudo'], 0o4755);
  assert.equal(modes['tmp'], 0o1755);
  assert.equal(normalizedMode({ kind: 'symlink', ...newMeta({ mode: 0o700 }), target: 'x' }), 0o777);
});

test('excludes: anchored paths, ** across directories, bare names at any depth, whole subtrees', () => {
  const tree = new Tree();
  for (const p of ['var/cache/apt/pkgcache.bin', 'var/log/dpkg.log', 'etc/machine-id', 'usr/lib/x/__pycache__/m.pyc', 'usr/share/doc/a/changelog.gz', 'keep/me']) tree.set(p, file(0o644, 1));
  applyPolicy(tree, { ...base, excludes: ['var/cache', '**/*.log', '__pycache__', 'usr/share/doc/*/changelog.gz'] });
  const left = [...tree.walk()].filter((e) => e.node.kind === 'file').map((e) => e.path);
  assert.deepEqual(left, ['etc/machine-id', 'keep/me']);
  assert.equal(tree.get('var/cache'), undefined);
});

test('empty files keep their entry and metadata but lose their bytes', () => {
  const tree = new Tree();
  tree.set('var/log/build.log', file(0o640, 1));
  applyPolicy(tree, { ...base, emptyFiles: ['var/log/*.log'] });
  const node = tree.get('var/log/build.log');
  assert.equal(node?.kind === 'file' ? node.content.size : -1, 0);
  assert.equal(node?.mode, 0o640);
});

test('SOURCE_DATE_EPOCH: the option wins, bad values are usage errors, unset falls back with a warning', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.equal(resolveSourceDateEpoch({ option: '5', env: '7', warn }), 5);
  assert.equal(resolveSourceDateEpoch({ env: '7', warn }), 7);
  for (const bad of ['-1', '1.5', 'yesterday', '1e9']) {
    assert.throws(() => resolveSourceDateEpoch({ env: bad, warn }), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.message.includes('SOURCE_DATE_EPOCH'));
  }
  const tree = new Tree();
  tree.set('a', file(0o644, 1234));
  tree.set('b', file(0o644, 99));
  assert.deepEqual(warnings, []);
  assert.equal(resolveSourceDateEpoch({ tree, warn }), 1234);
  assert.match(warnings[0]!, /SOURCE_DATE_EPOCH is not set; using the newest mtime in the input \(1234\)/);
});

test('a bad exclude pattern is a usage error', () => {
  assert.throws(() => compileExcludes([''], 'excludes.txt'), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.message.startsWith('excludes.txt'));
});

test('identifiers derived from a seed are pinned, distinct per purpose, and UUID-shaped', () => {
  assert.equal(Buffer.from(deriveBytes('seed', 'purpose', 8)).toString('hex'), Buffer.from(deriveBytes('seed', 'purpose', 40)).subarray(0, 8).toString('hex'));
  assert.equal(deriveUuid('reprimage', 'ext4 uuid'), deriveUuid('reprimage', 'ext4 uuid'));
  assert.notEqual(deriveUuid('reprimage', 'ext4 uuid'), deriveUuid('reprimage', 'journal uuid'));
  assert.match(deriveUuid('reprimage', 'x'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // pinned: HMAC-SHA-256(key "reprimage", "fat serial")
  assert.equal(deriveU32('reprimage', 'fat serial'), PINNED_U32);
  assert.equal(deriveBytes('s', 'p', 64).length, 64);
});

// computed independently with: printf 'fat serial' | openssl dgst -sha256 -hmac reprimage
const PINNED_U32 = 0x8da7fd6e;
