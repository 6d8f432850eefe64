// The built CLI on ext4 images (the committed mke2fs fixtures, test/fixtures/ext4): `ls` lists
// them, `pack` converts them to tar and SquashFS with the same entries, `diff` of two images that
// differ in one file names that file, and a bad image is one line on stderr with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openTree } from '../../src/image/open-tree.js';
import { runCli, REPO } from '../helpers/cli.js';
import { treeListing } from '../helpers/sample-tree.js';
import { tempDir } from '../helpers/tools.js';

function fixture(dir: string, name: string, patch?: (bytes: Buffer) => void): string {
  const bytes = gunzipSync(readFileSync(join(REPO, 'test', 'fixtures', 'ext4', `${name}.img.gz`)));
  patch?.(bytes);
  const out = join(dir, `${name}${patch ? '-patched' : ''}.ext4`);
  writeFileSync(out, bytes);
  return out;
}

test('reprimage ls on an ext4 image lists its files with metadata', (t) => {
  const img = fixture(tempDir(t), 'csum');
  const r = runCli(['ls', img]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^-rw-r--r-- 0\/0\s+12 2020-09-13 12:26 \.\/dir\/hard$/m);
  assert.match(r.stdout, /^-rw-r--r-- 0\/0\s+12 2020-09-13 12:26 \.\/hello\.txt link to \.\/dir\/hard$/m);
  assert.match(r.stdout, /\.\/many\/entry-number-200$/m);
  assert.match(r.stdout, /\.\/short-link -> hello\.txt$/m);
  assert.equal(r.stdout.trim().split('\n').length, 213);
});

test('reprimage pack converts an ext4 image to tar and SquashFS with the same entries (and, in pax tar, the same Tree)', async (t) => {
  const dir = tempDir(t);
  const img = fixture(dir, 'ext2');
  const ls = runCli(['ls', '--json', img]);
  assert.equal(ls.status, 0, ls.stderr);
  for (const out of ['out.tar', 'out.sqfs']) {
    const packed = runCli(['pack', img, '-o', join(dir, out)], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    assert.equal(packed.status, 0, packed.stderr);
    const back = runCli(['ls', '--json', join(dir, out)]);
    assert.equal(back.status, 0, back.stderr);
    type Entry = { path: string; type: string; mode: string; size?: number; target?: string; hardlinkTo?: string };
    const paths = (s: string) => (JSON.parse(s) as { entries: Entry[] }).entries.map((e) => `${e.type} ${e.path} ${e.mode} ${e.size ?? ''} ${e.target ?? ''} ${e.hardlinkTo ?? ''}`);
    assert.deepEqual(paths(back.stdout), paths(ls.stdout));
  }
  // pax keeps the xattrs: then the whole Tree, contents included, comes back from the tar
  const pax = join(dir, 'out-pax.tar');
  const packed = runCli(['pack', img, '--tar-format', 'pax', '-o', pax], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(packed.status, 0, packed.stderr);
  const [fromExt4, fromTar] = await Promise.all([img, pax].map((p) => openTree(p, { warn: () => undefined })));
  t.after(() => Promise.all([fromExt4!.close(), fromTar!.close()]));
  assert.equal(fromExt4!.format, 'ext4');
  assert.deepEqual(await treeListing(fromTar!.tree), await treeListing(fromExt4!.tree));
});

test('reprimage diff of two ext4 images differing in one file names that file (exit 1); an image with itself is exit 0', (t) => {
  const dir = tempDir(t);
  const a = fixture(dir, 'csum');
  // the file's data block carries no checksum: change one letter of nested.txt in place
  const b = fixture(dir, 'csum', (bytes) => {
    const at = bytes.indexOf('nested\n');
    assert.ok(at > 0);
    bytes[at] = 0x4e; // 'N'
  });
  const same = runCli(['diff', a, a]);
  assert.equal(same.status, 0, same.stderr);
  const r = runCli(['diff', a, b]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /dir\/sub\/nested\.txt/);
  assert.match(r.stdout, /Nested/);
  assert.doesNotMatch(r.stdout, /hello\.txt|superblock/);
});

test('reprimage ls of a corrupt ext4 image: one line naming the file and the problem, exit 2', (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, (b: Buffer) => void, RegExp]> = [
    ['inode checksum', (b) => {
      // inode 13 (hello.txt): the inode table starts at block 34 (debugfs -R 'imap <13>')
      const at = 34 * 4096 + 12 * 256;
      assert.equal(b.readUInt16LE(at), 0o100644);
      b[at + 0x10]! ^= 1;
    }, /corrupt ext4 inode 13 at byte \d+: checksum mismatch/],
    ['superblock checksum', (b) => void (b[1024 + 0x78]! ^= 1), /corrupt ext4 superblock \(checksum\) at byte 2044: checksum mismatch/],
    ['truncated', () => undefined, /truncated ext4 image: the file system declares 4194304 bytes/],
  ];
  for (const [what, patch, message] of cases) {
    let img = fixture(dir, 'csum', patch);
    if (what === 'truncated') writeFileSync(img, readFileSync(img).subarray(0, 1 << 20));
    const r = runCli(['ls', img]);
    assert.equal(r.status, 2, `${what}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.ok(lines[0]!.startsWith(`reprimage: ${img}: `), lines[0]);
    assert.match(lines[0]!, message);
    img = '';
  }
});
