// Oracle tests of xattrs whose name index (ext4) or prefix id (SquashFS) the readers do not know:
// they are left out with one warning, and everything else reads as the reference tools give it.
//   ext4: `debugfs ea_set` stores a name without a known prefix ("c") under index 0; an entry
//   patched to index 9 (fscrypt's) stands for any index missing from our table. e2fsck accepts
//   both; debugfs lists them under their bare names. (No metadata_csum, so the patch needs no
//   new inode checksum.)
//   SquashFS: a mksquashfs image (uncompressed metadata) with one pair patched to prefix id 3;
//   unsquashfs extracts the file without it ("Unrecognised xattr type 3").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openExt4 } from '../../src/formats/ext4/reader.js';
import { openSquashfs } from '../../src/formats/squashfs/reader.js';
import { openFileSource } from '../../src/io/source.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { materialize, treeListing } from '../helpers/sample-tree.js';
import { debugfsTree } from './ext4-reader-support.js';

const EPOCH = 1_700_000_000;
const ENV = { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH), TZ: 'UTC' };

/** Sets the name index byte of the xattr entry named `name` (a unique string in the image). */
function patchIndex(img: string, name: string, index: number): void {
  const bytes = readFileSync(img);
  const at = bytes.indexOf(Buffer.from(name));
  assert.ok(at >= 16 && bytes.indexOf(Buffer.from(name), at + 1) < 0, `${name} once in the image`);
  // entry header: name length u8, name index u8, value offset u16, value inode u32, value size u32, hash u32
  assert.equal(bytes[at - 16], name.length);
  bytes[at - 15] = index;
  writeFileSync(img, bytes);
}

test('ext4 xattrs with name index 0 and 9: left out with one warning; the rest equals debugfs', async (t) => {
  if (!requireTool(t, 'mke2fs', 'debugfs', 'e2fsck')) return;
  const dir = tempDir(t, 'reprimage-xattr-');
  const src = join(dir, 'src');
  materialize({
    entries: [
      { type: 'file', path: 'a', content: 'a\n', xattrs: { 'user.keep': 'kept' } },
      { type: 'file', path: 'b', content: 'b\n' },
      { type: 'dir', path: 'd' },
      { type: 'file', path: 'd/c', content: 'c\n', xattrs: { 'trusted.also': 'kept too' } },
    ],
  }, src, { epoch: EPOCH });
  const img = join(dir, 'fs.img');
  // without metadata_csum: the patched inode would need a new checksum (debugfs `sif … checksum calc` does not give e2fsck's)
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', '^metadata_csum', '-E', 'root_owner=0:0', '-d', src, img, '8M'], { env: ENV });
  run('debugfs', ['-w', '-R', 'ea_set /a c 0123456789abcdef', img]);
  run('debugfs', ['-w', '-R', 'ea_set /b user.ninth-index-here 999', img]);
  patchIndex(img, 'ninth-index-here', 9);
  const fsck = run('e2fsck', ['-fn', img], { allowFail: true });
  assert.equal(fsck.status, 0, `e2fsck accepts the image: ${fsck.stdout.toString()}`);
  const listed = run('debugfs', ['-R', 'ea_list /b', img]).stdout.toString();
  assert.match(listed, /^ {2}ninth-index-here \(3\)/m, 'debugfs sees the index-9 entry, without a prefix');

  const warnings: string[] = [];
  const source = await openFileSource(img);
  t.after(() => source.close());
  const ours = await (await openExt4(source, { warn: (m) => warnings.push(m) })).tree();
  assert.deepEqual(warnings, [`${img}: 2 ext4 xattr(s) with unknown name index 0, 9 left out (the first on inode 12)`]);

  const theirs = debugfsTree(img, dir);
  const bare = [...theirs.walk()].flatMap(({ node }) => [...node.xattrs.keys()].filter((k) => !k.includes('.')).map((k) => ({ node, k })));
  assert.deepEqual(bare.map((b) => b.k).sort(), ['c', 'ninth-index-here']);
  for (const { node, k } of bare) node.xattrs.delete(k);
  assert.deepEqual(await treeListing(ours), await treeListing(theirs));
  assert.equal(Buffer.from(ours.get('d/c')!.xattrs.get('trusted.also')!).toString(), 'kept too');
});

test('SquashFS xattr with prefix id 3: left out with one warning, as unsquashfs leaves it out; the rest equals its extraction', async (t) => {
  if (!requireTool(t, 'mksquashfs', 'unsquashfs', 'getfattr')) return;
  const dir = tempDir(t, 'reprimage-xattr-');
  const src = join(dir, 'src');
  materialize({
    entries: [
      { type: 'file', path: 'a', content: 'a\n', xattrs: { 'user.keep': 'one' } },
      { type: 'file', path: 'b', content: 'b\n', xattrs: { 'user.gone-with-prefix-3': 'two', 'user.stays': 'three' } },
      { type: 'file', path: 'c', content: 'c\n', xattrs: { 'user.gone-with-prefix-3': 'two', 'user.stays': 'three', 'user.more': 'four' } },
    ],
  }, src, { epoch: EPOCH });
  const img = join(dir, 'x.sqfs');
  // uncompressed metadata (-noI -noX), so the prefix id can be patched in place
  run('mksquashfs', [src, img, '-noI', '-noD', '-noF', '-noX', '-quiet', '-no-progress', '-mkfs-time', '0', '-all-root']);
  const bytes = readFileSync(img);
  let patched = 0;
  for (let at = bytes.indexOf('gone-with-prefix-3'); at >= 0; at = bytes.indexOf('gone-with-prefix-3', at + 1)) {
    // { type u16 (prefix id), name size u16, name }: user. is prefix id 0
    assert.equal(bytes.readUInt16LE(at - 4), 0);
    bytes.writeUInt16LE(3, at - 4);
    patched++;
  }
  assert.ok(patched >= 1);
  writeFileSync(img, bytes);
  const out = join(dir, 'out');
  const unsq = run('unsquashfs', ['-d', out, img], { allowFail: true });
  assert.match(unsq.stderr, /Unrecognised xattr type 3/);

  const warnings: string[] = [];
  const source = await openFileSource(img);
  t.after(() => source.close());
  const ours = await (await openSquashfs(source, { warn: (m) => warnings.push(m) })).tree();
  assert.deepEqual(warnings, [`${img}: squashfs xattrs with unknown prefix id 3 (not user., trusted., security.) left out`]);
  const theirs = await loadDirectory(out, { xattrs: true });
  const strip = async (tree: typeof ours) => (await treeListing(tree)).map((e) => ({ path: e.path, type: e.type, sha256: e.sha256, xattrs: e.xattrs }));
  assert.deepEqual(await strip(ours), await strip(theirs));
  assert.deepEqual([...ours.get('c')!.xattrs.keys()].sort(), ['user.more', 'user.stays']);
});
