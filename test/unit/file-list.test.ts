import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseFileList, applyFileList, type FileListEntry } from '../../src/tree/file-list.js';
import { quoteField } from '../../src/tree/file-list-words.js';
import { Tree, newDir, newMeta, type FileNode } from '../../src/tree/tree.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { treeToJson } from '../../src/tree/describe.js';
import { ReprimageError, type ErrorCode } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

const LIST = `
# A simple initramfs, as the kernel's gen_init_cpio documents it (verbatim)
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /root 0700 0 0
dir /sbin 0755 0 0
file /sbin/kinit init.sh 0755 0 0
# every other gen_init_cpio line kind
nod /dev/sda 0660 0 6 b 8 0
slink /bin/sh busybox 0777 0 0
pipe /run/initctl 0600 0 0
sock /run/sock 0755 0 0
file /init init.sh 0755 0 0 /sbin/init /bin/init
  # reprimage additions, indented, with trailing comments
  link /bin/init-too /init   # a hard link
mod /dev 0700 - 12
mod /sbin/kinit - 1000 -
mtime /init 1234
xattr /init security.capability 0x0100000200200000000000000000000000000000
xattr /init user.note "hello world"
xattr /init user.b64 0saGk=
xattr /init user.quoted-hex "0x41"
xattr /init user.empty ""
dir "/with space/and \\"quotes\\" and \\303\\251" 0755 0 0
slink "/odd#name" "target with spaces" 0777 0 0
rm /gone
`;

async function applied(t: import('node:test').TestContext, text: string, tree = new Tree(newDir({ mtime: { sec: 99, nsec: 0 } }))): Promise<Tree> {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'init.sh'), '#!/bin/sh\n');
  await applyFileList(tree, parseFileList(text, 'list'), { baseDir: dir });
  return tree;
}

test('every line kind: gen_init_cpio lines verbatim, plus link, mod, mtime, xattr, rm', async (t) => {
  const start = new Tree(newDir({ mtime: { sec: 99, nsec: 0 } }));
  start.set('gone/deep/file', { kind: 'file', ...newMeta(), content: bytesContent(Buffer.from('x')) });
  const tree = await applied(t, LIST, start);
  const json = treeToJson(tree);
  const byPath = Object.fromEntries(json.map((e) => [e.path, e]));
  assert.deepEqual(Object.keys(byPath), [
    '.', 'bin', 'bin/init', 'bin/init-too', 'bin/sh', 'dev', 'dev/console', 'dev/sda', 'init', 'odd#name', 'root', 'run', 'run/initctl', 'run/sock', 'sbin', 'sbin/init', 'sbin/kinit', 'with space', 'with space/and "quotes" and é',
  ]);
  assert.deepEqual(byPath['dev/console'], { path: 'dev/console', type: 'char', mode: '0600', uid: 0, gid: 0, mtime: '99', device: [5, 1] });
  assert.deepEqual(byPath['dev/sda'], { path: 'dev/sda', type: 'block', mode: '0660', uid: 0, gid: 6, mtime: '99', device: [8, 0] });
  assert.deepEqual(byPath['dev'], { path: 'dev', type: 'dir', mode: '0700', uid: 0, gid: 12, mtime: '99' });
  assert.deepEqual(byPath['root'], { path: 'root', type: 'dir', mode: '0700', uid: 0, gid: 0, mtime: '99' });
  assert.deepEqual(byPath['bin/sh'], { path: 'bin/sh', type: 'symlink', mode: '0777', uid: 0, gid: 0, mtime: '99', target: 'busybox' });
  assert.deepEqual(byPath['odd#name'], { path: 'odd#name', type: 'symlink', mode: '0777', uid: 0, gid: 0, mtime: '99', target: 'target with spaces' });
  assert.equal(byPath['run/initctl']!.type, 'fifo');
  assert.deepEqual(byPath['run/sock'], { path: 'run/sock', type: 'socket', mode: '0755', uid: 0, gid: 0, mtime: '99' });
  assert.deepEqual(byPath['sbin/kinit'], { path: 'sbin/kinit', type: 'file', mode: '0755', uid: 1000, gid: 0, mtime: '99', size: 10 });
  assert.deepEqual(byPath['bin/init'], {
    path: 'bin/init', type: 'file', mode: '0755', uid: 0, gid: 0, mtime: '1234', size: 10,
    xattrs: { 'security.capability': '0100000200200000000000000000000000000000', 'user.b64': '6869', 'user.empty': '', 'user.note': '68656c6c6f20776f726c64', 'user.quoted-hex': '30783431' },
  });
  for (const link of ['bin/init-too', 'init', 'sbin/init']) assert.equal(byPath[link]!.hardlinkTo, 'bin/init', link);
  assert.equal(tree.get('init'), tree.get('sbin/init'));
  const init = tree.get('init') as FileNode;
  assert.equal(Buffer.from(await readContent(init.content)).toString(), '#!/bin/sh\n');
  assert.match(init.content.origin, /^\/.*\/init\.sh$/, 'a relative location resolves against baseDir');
});

test('parsing gives typed entries that say which line they came from', () => {
  const entries = parseFileList('\n# c\nnod dev/null 666 0 0 c 1 3\nmod / - 5 -\nmtime ./x 0\n', 'f.list');
  assert.deepEqual(entries, [
    { op: 'nod', line: 'f.list:3', name: 'dev/null', meta: { mode: 0o666, uid: 0, gid: 0 }, type: 'c', major: 1, minor: 3 },
    { op: 'mod', line: 'f.list:4', name: '', mode: undefined, uid: 5, gid: undefined },
    { op: 'mtime', line: 'f.list:5', name: 'x', sec: 0 },
  ] satisfies FileListEntry[]);
});

test('unquoted fields are literal (gen_init_cpio), quoted fields take escapes; CRLF lines are accepted', () => {
  const [slink] = parseFileList('slink /a\\b c\\d 0777 0 0\r\n', 'l');
  assert.deepEqual(slink, { op: 'slink', line: 'l:1', name: 'a\\b', target: 'c\\d', meta: { mode: 0o777, uid: 0, gid: 0 } });
  const [dir] = parseFileList('dir "/x\\ty\\nz\\\\\\101" 755 0 0', 'l');
  assert.equal(dir!.name, 'x\ty\nz\\A');
  const [x] = parseFileList('xattr /x user.k "ü \\"q\\""', 'l');
  assert.equal(x?.op === 'xattr' ? Buffer.from(x.value).toString() : '', 'ü "q"');
});

test('${VAR} in a file location is expanded from the environment, as gen_init_cpio does', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'kinit'), 'kinit');
  const tree = new Tree();
  await applyFileList(tree, parseFileList('file /sbin/kinit ${srctree}/kinit 0755 0 0', 'l'), { baseDir: '/nonexistent', env: { srctree: join(dir, 'src') } });
  assert.equal(Buffer.from(await readContent((tree.get('sbin/kinit') as FileNode).content)).toString(), 'kinit');
  await assert.rejects(
    applyFileList(new Tree(), parseFileList('file /x ${NOPE}/y 0755 0 0', 'l'), { baseDir: dir, env: {} }),
    (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && e.message === 'l:1: ${NOPE} in a file location is not set in the environment',
  );
});

test('a file location may be a symlink to a file (followed, like gen_init_cpio); missing parents get the root time', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'real'), 'abc');
  symlinkSync('real', join(dir, 'alias'));
  const tree = new Tree(newDir({ mtime: { sec: 42, nsec: 0 } }));
  await applyFileList(tree, parseFileList('file /a/b/c alias 0644 0 0', 'l'), { baseDir: dir });
  assert.equal((tree.get('a/b/c') as FileNode).content.size, 3);
  assert.deepEqual(treeToJson(tree).slice(1, 3), [
    { path: 'a', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '42' },
    { path: 'a/b', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '42' },
  ]);
});

test('a dir line on an existing directory changes mode and owner and keeps its contents and time', async (t) => {
  const tree = new Tree();
  tree.set('etc', newDir({ mode: 0o700, mtime: { sec: 5, nsec: 6 } }));
  tree.set('etc/passwd', { kind: 'file', ...newMeta(), content: bytesContent(Buffer.from('root')) });
  await applied(t, 'dir /etc 0755 1 2\ndir / 0750 0 0', tree);
  assert.deepEqual([tree.get('etc')!.mode, tree.get('etc')!.uid, tree.get('etc')!.gid, tree.get('etc')!.mtime], [0o755, 1, 2, { sec: 5, nsec: 6 }]);
  assert.ok(tree.get('etc/passwd'));
  assert.equal(tree.root.mode, 0o750);
});

test('a file line may replace a file; a link line to itself changes nothing', async (t) => {
  const tree = new Tree();
  tree.set('init', { kind: 'file', ...newMeta(), content: bytesContent(Buffer.from('old')) });
  await applied(t, 'file /init init.sh 0700 0 0\nlink /init /init', tree);
  assert.equal((tree.get('init') as FileNode).content.size, 10);
  assert.equal(tree.get('init')!.mode, 0o700);
});

const PARSE_ERRORS: Array<[string, ErrorCode, string]> = [
  ['bogus /x', 'USAGE', "l:1: unknown line type 'bogus' (known: file, dir, nod, slink, pipe, sock, link, mod, mtime, xattr, rm)"],
  ['"dir" /x 0755 0 0', 'USAGE', "l:1: unknown line type 'dir'"],
  ['dir /x 0755 0', 'USAGE', "l:1: 'dir' takes 4 fields after it, got 3 (dir NAME MODE UID GID)"],
  ['dir /x 0755 0 0 0', 'USAGE', "l:1: 'dir' takes 4 fields after it, got 5"],
  ['file /x y 0644 0', 'USAGE', "l:1: 'file' takes at least 5 fields after it, got 4 (file NAME LOCATION MODE UID GID [LINK…])"],
  ['file /x "" 0644 0 0', 'USAGE', 'l:1: empty location'],
  ['nod /x 0600 0 0 c 1', 'USAGE', "l:1: 'nod' takes 7 fields after it, got 6"],
  ['\n\nnod /x 0600 0 0 q 1 1', 'USAGE', "l:3: device type must be b or c, got 'q'"],
  ['nod /x 0600 0 0 c 1 -1', 'USAGE', "l:1: bad minor '-1' (decimal, at most 4294967295)"],
  ['nod /x 0600 0 0 c 4294967296 1', 'USAGE', "l:1: bad major '4294967296'"],
  ['slink /x 0777 0 0', 'USAGE', "l:1: 'slink' takes 5 fields after it, got 4"],
  ['slink /x "" 0777 0 0', 'USAGE', 'l:1: empty symlink target'],
  ['pipe /x 0600 0', 'USAGE', "l:1: 'pipe' takes 4 fields"],
  ['sock /x 0600 0 0 extra', 'USAGE', "l:1: 'sock' takes 4 fields"],
  ['dir /x 9999 0 0', 'USAGE', "l:1: bad mode '9999' (octal, at most 7777)"],
  ['dir /x 17777 0 0', 'USAGE', "l:1: bad mode '17777'"],
  ['dir /x 0755 root 0', 'USAGE', "l:1: bad uid 'root'"],
  ['dir /x 0755 0 -1', 'USAGE', "l:1: bad gid '-1'"],
  ['dir /../x 0755 0 0', 'PATH_ESCAPE', 'l:1: path "/../x" climbs out of its root'],
  ['file /x y 0644 0 0 /a/../../b', 'PATH_ESCAPE', 'l:1: path "/a/../../b" climbs out'],
  ['link /x ../y', 'PATH_ESCAPE', 'l:1: path "../y" climbs out'],
  ['link /x', 'USAGE', "l:1: 'link' takes 2 fields"],
  ['mod /x 0644 0', 'USAGE', "l:1: 'mod' takes 4 fields"],
  ['mod /x 0648 - -', 'USAGE', "l:1: bad mode '0648'"],
  ['mtime /x -5', 'USAGE', "l:1: bad mtime '-5'"],
  ['mtime /x 1.5', 'USAGE', "l:1: bad mtime '1.5'"],
  ['xattr /x user.a', 'USAGE', "l:1: 'xattr' takes 3 fields"],
  ['xattr /x nonamespace v', 'USAGE', "l:1: xattr name 'nonamespace' must start with user., trusted., security. or system."],
  ['xattr /x user. v', 'USAGE', "l:1: xattr name 'user.' must start"],
  [`xattr /x user.${'k'.repeat(251)} v`, 'USAGE', 'l:1: xattr name longer than 255 bytes'],
  ['xattr /x user.a 0x123', 'USAGE', "l:1: bad hex xattr value '0x123'"],
  ['xattr /x user.a 0xzz', 'USAGE', "l:1: bad hex xattr value '0xzz'"],
  ['xattr /x user.a 0s!!!!', 'USAGE', "l:1: bad base64 xattr value '0s!!!!'"],
  ['xattr /x user.a 0sabc', 'USAGE', "l:1: bad base64 xattr value '0sabc'"],
  [`xattr /x user.a 0x${'00'.repeat(65537)}`, 'USAGE', 'l:1: xattr value longer than 65536 bytes'],
  ['rm', 'USAGE', "l:1: 'rm' takes 1 fields after it, got 0"],
  ['rm /a\0b', 'USAGE', 'l:1: a field contains a NUL byte'],
  ['slink /a "x\\000" 0777 0 0', 'USAGE', 'l:1: a field contains a NUL byte'],
  ['dir "/x 0755 0 0', 'USAGE', 'l:1: unterminated quote starting at column 5'],
  ['dir "/x"y 0755 0 0', 'USAGE', 'l:1: text after a closing quote at column 9'],
  ['dir /x"y" 0755 0 0', 'USAGE', 'l:1: a quote inside an unquoted field at column 7'],
  ['dir "/x\\q" 0755 0 0', 'USAGE', "l:1: unknown escape '\\q' at column 8"],
  ['dir "/x\\777" 0755 0 0', 'USAGE', 'l:1: escape \\777 at column 8 is more than one byte'],
  ['# fine\n  \ndir /ok 0755 0 0\nfile', 'USAGE', "l:4: 'file' takes at least 5 fields after it, got 0"],
];

test('a quoted \\ooo escape gives that byte, UTF-8 or not: names are bytes (docs/names.md)', () => {
  const [latin, utf] = parseFileList('dir "/caf\\351" 0755 0 0\ndir "/caf\\303\\251" 0755 0 0', 'l');
  assert.equal(latin?.op === 'dir' && latin.name, 'caf\udce9');
  assert.equal(utf?.op === 'dir' && utf.name, 'café');
  assert.equal(quoteField('caf\udce9'), '"caf\\351"');
});

test('every parse error names FILE:LINE and what is wrong', () => {
  for (const [text, code, start] of PARSE_ERRORS) {
    assert.throws(
      () => parseFileList(text, 'l'),
      (e: unknown) => e instanceof ReprimageError && e.code === code && e.message.startsWith(start),
      `${JSON.stringify(text.slice(0, 60))} should fail with ${code} ${start}`,
    );
  }
});

const APPLY_ERRORS: Array<[string, ErrorCode, string]> = [
  ['mod /missing 0644 - -', 'NOT_FOUND', "l:1: no entry '/missing' in the tree"],
  ['\nmtime /missing 5', 'NOT_FOUND', "l:2: no entry '/missing' in the tree"],
  ['xattr /missing user.a b', 'NOT_FOUND', "l:1: no entry '/missing'"],
  ['link /x /missing', 'NOT_FOUND', "l:1: no entry '/missing'"],
  ['rm /missing', 'NOT_FOUND', "l:1: no entry '/missing' to remove"],
  ['rm /', 'CONFLICT', 'l:1: cannot remove the root directory'],
  ['link /x /etc', 'USAGE', "l:1: cannot hard-link the directory '/etc'"],
  ['file /etc init.sh 0644 0 0', 'CONFLICT', "l:1: '/etc' is a directory; remove it first with 'rm /etc'"],
  ['dir /etc/passwd 0755 0 0', 'CONFLICT', "l:1: '/etc/passwd' is a file; remove it first"],
  ['slink / x 0777 0 0', 'CONFLICT', "l:1: 'slink' cannot replace the root directory"],
  ['nod /etc/passwd/x 0600 0 0 c 1 1', 'CONFLICT', 'l:1: etc/passwd: is a file, not a directory'],
  ['file /x /nonexistent/file 0644 0 0', 'NOT_FOUND', 'l:1: /nonexistent/file: no such file or directory'],
  ['file /x . 0644 0 0', 'USAGE', 'l:1: /'],
];

test('every apply error names FILE:LINE; a line that changes a missing entry is NOT_FOUND', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'init.sh'), 'x');
  for (const [text, code, start] of APPLY_ERRORS) {
    const tree = new Tree();
    tree.set('etc/passwd', { kind: 'file', ...newMeta(), content: bytesContent(Buffer.from('root')) });
    await assert.rejects(
      applyFileList(tree, parseFileList(text, 'l'), { baseDir: dir }),
      (e: unknown) => e instanceof ReprimageError && e.code === code && e.message.startsWith(start),
      `${text} should fail with ${code} ${start}`,
    );
  }
});

test('lines apply in order: a later line sees what an earlier one made', async (t) => {
  const tree = await applied(t, 'file /a init.sh 0644 0 0\nlink /b /a\nrm /a\nmod /b 0600 - -\nxattr /b user.x 0x01');
  assert.equal(tree.get('a'), undefined);
  assert.deepEqual(treeToJson(tree)[1], { path: 'b', type: 'file', mode: '0600', uid: 0, gid: 0, mtime: '99', size: 10, xattrs: { 'user.x': '01' } });
});

test('quoteField writes any name so that a file list reads it back unchanged (property)', () => {
  const component = fc
    .string({ unit: fc.oneof(fc.constantFrom(' ', '\t', '\n', '\r', '"', '\\', '#', '\x01', '\x7f', 'é', '😀', 'a', '.'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 8 })
    .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..');
  fc.assert(
    fc.property(fc.array(component, { minLength: 1, maxLength: 3 }), component, (parts, target) => {
      const name = parts.join('/');
      const [entry] = parseFileList(`slink ${quoteField(`/${name}`)} ${quoteField(target)} 0777 0 0 # comment`, 'prop');
      assert.deepEqual(entry, { op: 'slink', line: 'prop:1', name, target, meta: { mode: 0o777, uid: 0, gid: 0 } });
    }),
    { numRuns: 1000 },
  );
  assert.equal(quoteField('/usr/bin/vi'), '/usr/bin/vi');
  assert.equal(quoteField('a b'), '"a b"');
  assert.equal(quoteField(''), '""');
  assert.equal(quoteField('x\\y'), '"x\\\\y"');
  assert.equal(quoteField('\x01'), '"\\001"');
});

test('any text either parses or fails with a ReprimageError naming a line (fuzz)', () => {
  const token = fc.constantFrom('file', 'dir', 'nod', 'slink', 'pipe', 'sock', 'link', 'mod', 'mtime', 'xattr', 'rm', '/a', 'b/../c', '"', '\\', '\\0', '"x y"', '0755', '-', 'c', 'b', '0x', '0x0g', '0s', 'user.a', '#', ' ', '\t', '\n', '\r\n', '99999999999', '\0', '😀', '${X}');
  fc.assert(
    fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
      const text = tokens.join(' ');
      try {
        parseFileList(text, 'fuzz');
      } catch (e) {
        assert.ok(e instanceof ReprimageError, String(e));
        assert.match(e.message, /^fuzz:\d+: /);
      }
    }),
    { numRuns: 3000 },
  );
});
