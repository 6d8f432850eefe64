import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFileList, applyFileList } from '../../src/tree/file-list.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { readContent } from '../../src/tree/content.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

const LIST = `
# gen_init_cpio lines, verbatim
dir /dev 0755 0 0
nod /dev/console 0600 0 5 c 5 1
nod /dev/sda 0660 0 6 b 8 0
slink /bin/sh busybox 0777 0 0
pipe /run/initctl 0600 0 0
sock /run/sock 0755 0 0
file /init init.sh 0755 0 0 /sbin/init
# reprimage additions
link /bin/init-too /init
mod /dev 0700 - 12
mtime /init 1234
xattr /init security.capability 0x01000002
xattr /init user.note "hello world"
xattr /init user.b64 0saGk=
dir "/with space" 0755 0 0
rm /gone
`;

test('a file list adds devices, links, modes, owners, mtimes and xattrs without root', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'init.sh'), '#!/bin/sh\n');
  const tree = new Tree(newDir({ mtime: { sec: 99, nsec: 0 } }));
  tree.set('gone', newDir());
  await applyFileList(tree, parseFileList(LIST, 'list'), { baseDir: dir });
  const dev = tree.get('dev/console');
  assert.deepEqual(dev?.kind === 'char' ? [dev.major, dev.minor, dev.mode, dev.gid] : [], [5, 1, 0o600, 5]);
  assert.equal(tree.get('dev/sda')?.kind, 'block');
  assert.equal(tree.get('bin/sh')?.kind === 'symlink' ? (tree.get('bin/sh') as { target: string }).target : '', 'busybox');
  assert.equal(tree.get('run/initctl')?.kind, 'fifo');
  assert.equal(tree.get('run/sock')?.kind, 'socket');
  const init = tree.get('init');
  assert.ok(init && init === tree.get('sbin/init') && init === tree.get('bin/init-too'), 'hard links are one node');
  assert.equal(init.kind === 'file' ? Buffer.from(await readContent(init.content)).toString() : '', '#!/bin/sh\n');
  assert.deepEqual(init.mtime, { sec: 1234, nsec: 0 });
  assert.equal(Buffer.from(init.xattrs.get('security.capability')!).toString('hex'), '01000002');
  assert.equal(Buffer.from(init.xattrs.get('user.note')!).toString(), 'hello world');
  assert.equal(Buffer.from(init.xattrs.get('user.b64')!).toString(), 'hi');
  assert.deepEqual([tree.get('dev')!.mode, tree.get('dev')!.uid, tree.get('dev')!.gid], [0o700, 0, 12]);
  assert.equal(tree.get('with space')?.kind, 'dir');
  assert.equal(tree.get('gone'), undefined);
  assert.deepEqual(tree.get('dev/sda')!.mtime, { sec: 99, nsec: 0 }, 'new entries take the root time, later clamped');
});

test('file-list errors name the file and line', async () => {
  const cases: Array<[string, RegExp]> = [
    ['bogus /x', /^l:1: unknown line type 'bogus'/],
    ['dir /x 0755 0', /^l:1: 'dir' takes 4 fields, got 3/],
    ['\n\nnod /x 0600 0 0 q 1 1', /^l:3: device type must be b or c/],
    ['dir /x 9999 0 0', /^l:1: bad mode '9999'/],
    ['dir /../x 0755 0 0', /^l:1: path .* climbs out/],
    ['dir "/x 0755 0 0', /^l:1: unterminated quote/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseFileList(text, 'l'), (e: unknown) => e instanceof ReprimageError && re.test(e.message), text);
  }
  const tree = new Tree();
  await assert.rejects(applyFileList(tree, parseFileList('mod /missing 0644 - -', 'l'), { baseDir: '/' }), /^ReprimageError: l:1: no entry '\/missing'/);
  await assert.rejects(applyFileList(tree, parseFileList('file /x /nonexistent/file 0644 0 0', 'l'), { baseDir: '/' }), /nonexistent\/file: no such file/);
});
