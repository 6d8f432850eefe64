// The tar reader on hand-made archives: v7/ustar/GNU/pax headers, long names, global headers,
// both xattr spellings, every sparse flavour, hard links, replacement, missing parents, GNU tar's
// leniencies (leading '/', unknown types), and a member over 8 GiB read without reading it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTar, readTarEntries, sniffTar } from '../../src/formats/tar/index.js';
import { BLOCK } from '../../src/formats/tar/layout.js';
import { readContent } from '../../src/tree/content.js';
import { treeToJson } from '../../src/tree/describe.js';
import { ReprimageError } from '../../src/errors.js';
import { archive, body, header, member, paxMember, source, sparseSource } from './tar-support.js';

const text = async (tree: Awaited<ReturnType<typeof loadTar>>, path: string) => {
  const n = tree.get(path);
  assert.equal(n?.kind, 'file', path);
  return n?.kind === 'file' ? Buffer.from(await readContent(n.content)).toString() : '';
};

test('sniffTar: ustar and GNU magic, a v7 header by its checksum; not zeros, noise or short input', () => {
  assert.ok(sniffTar(header({ name: 'a', magic: 'ustar' })));
  assert.ok(sniffTar(header({ name: 'a', magic: 'gnu' })));
  assert.ok(sniffTar(header({ name: 'a', magic: 'v7' })));
  assert.ok(!sniffTar(new Uint8Array(BLOCK)));
  assert.ok(!sniffTar(header({ name: 'a', magic: 'v7', patch: (h) => (h[0] = 0x62), rawChecksum: true })));
  assert.ok(!sniffTar(Buffer.alloc(BLOCK, 'x')));
  assert.ok(!sniffTar(header({ name: 'a' }).subarray(0, 300)));
});

test('v7, ustar (prefix/name) and GNU headers with every entry type', async () => {
  const bytes = archive(
    member({ name: 'dir/', type: '\0', magic: 'v7', mode: 0o750, mtime: 100 }),
    member({ name: 'dir/v7file', type: '\0', magic: 'v7', uid: 5, gid: 6 }, 'v7 data'),
    member({ name: 'x', prefix: 'dir/' + 'p'.repeat(120), magic: 'ustar' }, 'split name'),
    member({ name: 'dir/link', type: '2', linkname: 'v7file', mode: 0o777, magic: 'gnu' }),
    member({ name: 'dev/c', type: '3', dev: [4, 64], mode: 0o620 }),
    member({ name: 'dev/b', type: '4', dev: [8, 1 << 19] }),
    member({ name: 'dev/p', type: '6' }),
    member({ name: 'dir/contig', type: '7' }, 'contiguous is a file'),
  );
  const tree = await loadTar(source(bytes));
  assert.deepEqual(
    treeToJson(tree).map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.target ?? e.device ?? e.size ?? '']),
    [
      ['.', 'dir', '0755', 0, 0, ''],
      ['dev', 'dir', '0755', 0, 0, ''],
      ['dev/b', 'block', '0644', 0, 0, [8, 1 << 19]],
      ['dev/c', 'char', '0620', 0, 0, [4, 64]],
      ['dev/p', 'fifo', '0644', 0, 0, ''],
      ['dir', 'dir', '0750', 0, 0, ''],
      ['dir/contig', 'file', '0644', 0, 0, 20],
      ['dir/link', 'symlink', '0777', 0, 0, 'v7file'],
      ['dir/' + 'p'.repeat(120), 'dir', '0755', 0, 0, ''],
      ['dir/' + 'p'.repeat(120) + '/x', 'file', '0644', 0, 0, 10],
      ['dir/v7file', 'file', '0644', 5, 6, 7],
    ],
  );
  assert.equal(await text(tree, 'dir/v7file'), 'v7 data');
  assert.equal(await text(tree, 'dir/' + 'p'.repeat(120) + '/x'), 'split name');
  // a directory the archive leaves out is created root-owned 0755 at time 0
  assert.deepEqual(tree.get('dev')?.mtime, { sec: 0, nsec: 0 });
});

test('GNU long names and link targets (L, K), base-256 ids, and offsets of the real headers', async () => {
  const longName = 'd/' + 'n'.repeat(300);
  const longTarget = 't'.repeat(200);
  const bytes = archive(
    member({ name: '././@LongLink', type: 'L', magic: 'gnu' }, longName + '\0'),
    member({ name: longName.slice(0, 100), magic: 'gnu', uid: 3_000_000, gid: 2 ** 40 }, 'long'),
    member({ name: '././@LongLink', type: 'K', magic: 'gnu' }, longTarget + '\0'),
    member({ name: 'd/sym', type: '2', linkname: longTarget.slice(0, 100), magic: 'gnu' }),
  );
  const entries = [];
  for await (const r of readTarEntries(source(bytes))) entries.push([r.offset, r.name, r.linkname, r.uid, r.gid]);
  assert.deepEqual(entries, [
    [1024, longName, '', 3_000_000, 2 ** 40],
    [3072, 'd/sym', longTarget, 0, 0],
  ]);
  const tree = await loadTar(source(bytes));
  assert.equal(await text(tree, longName), 'long');
});

test('pax: path, linkpath, ids, size, fractional and negative mtimes, global headers, both xattr spellings', async () => {
  const bytes = archive(
    paxMember([['comment', 'global'], ['uid', '77'], ['mtime', '5.5']], 'g'),
    paxMember([
      ['path', 'caf\u00e9/' + 'x'.repeat(150)],
      ['mtime', '1600000000.000000001'],
      ['SCHILY.xattr.user.a', 'A'],
      ['LIBARCHIVE.xattr.user.b%20c', Buffer.from('B\0').toString('base64')],
      ['SCHILY.xattr.user.empty', ''],
    ]),
    member({ name: 'ignored' }, 'one'),
    paxMember([['linkpath', 'L'.repeat(150)], ['gid', '4000000000'], ['mtime', '-1.25']]),
    member({ name: 'sym', type: '2' }),
    // the global uid and mtime apply here
    member({ name: 'plain' }),
    // both spellings of one attribute: SCHILY wins, as GNU tar and bsdtar agree on its value
    paxMember([['SCHILY.xattr.user.same', 'schily'], ['LIBARCHIVE.xattr.user.same', Buffer.from('libarchive').toString('base64')]]),
    member({ name: 'both' }),
  );
  const tree = await loadTar(source(bytes));
  const json = new Map(treeToJson(tree).map((e) => [e.path, e]));
  const f = json.get('caf\u00e9/' + 'x'.repeat(150))!;
  assert.equal(f.mtime, '1600000000.000000001');
  assert.equal(f.uid, 77);
  assert.deepEqual(f.xattrs, { 'user.a': '41', 'user.b c': '4200', 'user.empty': '' });
  assert.equal(json.get('sym')?.target, 'L'.repeat(150));
  assert.equal(json.get('sym')?.gid, 4_000_000_000);
  assert.equal(json.get('sym')?.mtime, '-2.750000000');
  assert.equal(json.get('plain')?.mtime, '5.500000000');
  assert.equal(json.get('plain')?.uid, 77);
  assert.deepEqual(json.get('both')?.xattrs, { 'user.same': Buffer.from('schily').toString('hex') });
});

test('old GNU sparse (S) with an extension block: holes read as zeros, data regions exposed', async () => {
  // five regions: four in the header, one in the extension block
  const regions = [0, 1, 2, 3, 4].map((i) => ({ offset: i * 10_000, length: 512 }));
  const realSize = 50_000;
  const stored = new Uint8Array(5 * 512);
  regions.forEach((_, i) => stored.fill(0x41 + i, i * 512, (i + 1) * 512));
  const h = header({
    name: 'sparse',
    type: 'S',
    magic: 'gnu',
    size: stored.length,
    patch: (b) => {
      regions.slice(0, 4).forEach((r, i) => {
        b.set(Buffer.from(r.offset.toString(8).padStart(11, '0') + '\0'), 386 + i * 24);
        b.set(Buffer.from(r.length.toString(8).padStart(11, '0') + '\0'), 386 + i * 24 + 12);
      });
      b[482] = 1;
      b.set(Buffer.from(realSize.toString(8).padStart(11, '0') + '\0'), 483);
    },
  });
  const ext = new Uint8Array(BLOCK);
  ext.set(Buffer.from((40_000).toString(8).padStart(11, '0') + '\0'), 0);
  ext.set(Buffer.from((512).toString(8).padStart(11, '0') + '\0'), 12);
  const tree = await loadTar(source(archive(h, ext, body(stored), member({ name: 'after' }, 'next'))));
  const n = tree.get('sparse');
  assert.ok(n?.kind === 'file');
  assert.equal(n.content.size, realSize);
  assert.deepEqual(n.content.dataRegions, regions);
  const data = await readContent(n.content);
  for (const [i, r] of regions.entries()) {
    assert.equal(data[r.offset], 0x41 + i);
    assert.equal(data[r.offset + 512], 0);
  }
  assert.equal(await text(tree, 'after'), 'next');
});

test('pax sparse 0.0 (repeated pairs), 0.1 (GNU.sparse.map) and 1.0 (map in the data) give the same file', async () => {
  const realSize = 3000;
  const stored = Buffer.concat([Buffer.alloc(100, 'a'), Buffer.alloc(50, 'b')]);
  const want = Buffer.alloc(realSize);
  stored.copy(want, 1000, 0, 100);
  stored.copy(want, 2950, 100, 150);
  const map1 = body('2\n1000\n100\n2950\n50\n');
  const variants = {
    '0.0': archive(
      paxMember([['GNU.sparse.size', '3000'], ['GNU.sparse.numblocks', '2'], ['GNU.sparse.offset', '1000'], ['GNU.sparse.numbytes', '100'], ['GNU.sparse.offset', '2950'], ['GNU.sparse.numbytes', '50']]),
      member({ name: 'f' }, stored),
    ),
    '0.1': archive(paxMember([['GNU.sparse.size', '3000'], ['GNU.sparse.map', '1000,100,2950,50'], ['GNU.sparse.name', 'f']]), member({ name: 'GNUSparseFile.1/f' }, stored)),
    '1.0': archive(
      paxMember([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', 'f'], ['GNU.sparse.realsize', '3000']]),
      member({ name: 'GNUSparseFile.1/f' }, Buffer.concat([map1, stored])),
    ),
  };
  for (const [version, bytes] of Object.entries(variants)) {
    const tree = await loadTar(source(bytes));
    const n = tree.get('f');
    assert.ok(n?.kind === 'file', version);
    assert.deepEqual(n.content.dataRegions, [{ offset: 1000, length: 100 }, { offset: 2950, length: 50 }], version);
    assert.ok(Buffer.from(await readContent(n.content)).equals(want), version);
    assert.equal(tree.get('GNUSparseFile.1'), undefined, version);
  }
});

test('hard links are the same node; later entries replace earlier ones; a directory keeps its children', async () => {
  const bytes = archive(
    member({ name: 'd/', type: '5', mode: 0o700 }),
    member({ name: 'd/f', mode: 0o600 }, 'first'),
    member({ name: 'd/link', type: '1', linkname: 'd/f' }),
    member({ name: 'x' }, 'old x'),
    member({ name: 'x' }, 'new x'),
    member({ name: 'd/', type: '5', mode: 0o755, mtime: 9 }),
  );
  const tree = await loadTar(source(bytes));
  assert.equal(tree.get('d/link'), tree.get('d/f'));
  assert.equal(await text(tree, 'x'), 'new x');
  const d = tree.get('d');
  assert.ok(d?.kind === 'dir');
  assert.equal(d.mode, 0o755);
  assert.deepEqual([...d.children.keys()].sort(), ['f', 'link']);
  assert.deepEqual(treeToJson(tree).find((e) => e.path === 'd/link')?.hardlinkTo, 'd/f');
});

test("lenient, as GNU tar: leading '/' stripped with one warning, unknown types read as files with a warning, volume labels skipped; strict by default", async () => {
  const warnings: string[] = [];
  const bytes = archive(
    member({ name: 'label', type: 'V', magic: 'gnu' }),
    member({ name: '/etc/a' }, 'a'),
    member({ name: '//etc/b' }, 'b'),
    member({ name: '/etc/hard', type: '1', linkname: '/etc/a' }),
    member({ name: 'odd', type: 'Z' }, 'unknown type data'),
    member({ name: 'after' }, 'still in step'),
  );
  await assert.rejects(loadTar(source(bytes, 'strict.tar')), (e: unknown) => e instanceof ReprimageError && e.code === 'PATH_ESCAPE' && /absolute/.test(e.message));
  const unknownOnly = archive(member({ name: 'odd', type: 'Z' }, 'x'));
  await assert.rejects(loadTar(source(unknownOnly, 'strict.tar')), (e: unknown) => e instanceof ReprimageError && e.code === 'UNSUPPORTED' && /unknown tar entry type "Z"/.test(e.message));
  const tree = await loadTar(source(bytes, 'lenient.tar'), { warn: (m) => warnings.push(m), lenient: true });
  assert.deepEqual(treeToJson(tree).map((e) => e.path), ['.', 'after', 'etc', 'etc/a', 'etc/b', 'etc/hard', 'odd']);
  assert.equal(tree.get('etc/hard'), tree.get('etc/a'));
  assert.equal(await text(tree, 'odd'), 'unknown type data');
  assert.equal(await text(tree, 'after'), 'still in step');
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /^lenient\.tar: removing leading '\/' from member names \(first at lenient\.tar \(entry at byte 512\)\)$/);
  assert.match(warnings[1]!, /entry at byte 3072.*unknown entry type "Z" for "odd", read as a regular file/);
});

test('an archive without its end blocks is read with a warning', async () => {
  const warnings: string[] = [];
  const tree = await loadTar(source(member({ name: 'f' }, 'x')), { warn: (m) => warnings.push(m) });
  assert.equal(await text(tree, 'f'), 'x');
  assert.deepEqual(warnings, ['test.tar: archive ends without its end-of-archive blocks']);
});

test('a member over 8 GiB (base-256 size) is read lazily: size, then the bytes at its end', async () => {
  const size = 2 ** 33 + 5;
  const head = Buffer.concat([header({ name: 'huge', magic: 'gnu', size })]);
  const end = Buffer.from('tail!');
  const padded = Math.ceil(size / BLOCK) * BLOCK;
  const tailBlock = new Uint8Array(BLOCK);
  tailBlock.set(end, (size % BLOCK) - end.length);
  const total = BLOCK + padded + 2 * BLOCK;
  const src = sparseSource(head, total, Buffer.concat([tailBlock, new Uint8Array(2 * BLOCK)]));
  const tree = await loadTar(src);
  const n = tree.get('huge');
  assert.ok(n?.kind === 'file');
  assert.equal(n.content.size, size);
  // the last chunk ends with the tail: the content maps the right range of the archive
  let last: Uint8Array = new Uint8Array(0);
  let seen = 0;
  for await (const chunk of n.content.chunks()) {
    seen += chunk.length;
    last = chunk;
  }
  assert.equal(seen, size);
  assert.equal(Buffer.from(last.subarray(last.length - 5)).toString(), 'tail!');
});

test('data declared by non-file headers: skipped after symlinks, devices and fifos, not after hard links and directories (as GNU tar)', async () => {
  for (const [type, extra] of [['2', { linkname: 'f' }], ['3', { dev: [1, 3] as [number, number] }], ['4', { dev: [8, 1] as [number, number] }], ['6', {}]] as const) {
    const bytes = archive(member({ name: 'f' }, 'abc'), member({ name: 'odd', type, ...extra }, 'X'.repeat(600)), member({ name: 'after' }, 'ok'));
    const tree = await loadTar(source(bytes));
    assert.equal(await text(tree, 'after'), 'ok', `type ${type}`);
    assert.notEqual(tree.get('odd')?.kind, 'file', `type ${type}`);
  }
  // GNU tar reads the block after a hard link or directory as the next header
  for (const [type, extra] of [['1', { linkname: 'f' }], ['5', {}]] as const) {
    const h = header({ name: 'odd', type, size: 3, ...extra });
    const tree = await loadTar(source(archive(member({ name: 'f' }, 'abc'), h, member({ name: 'after' }, 'ok'))));
    assert.equal(await text(tree, 'after'), 'ok', `type ${type}`);
  }
});
