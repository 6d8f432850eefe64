// The SquashFS reader on images made by gensquashfs (squashfs-tools-ng 1.2, Debian 12), with
// each compressor and common options: the Tree we read lists exactly as `unsquashfs -lln`
// lists the image, and every file's bytes, link target, hard link and xattr equal what
// `sqfs2tar` (squashfs-tools-ng's own reader) puts into a tar archive of the same image.
// unsquashfs 4.5.1 cannot read gensquashfs 1.2.0's lz4 images at all ("failed to read id table
// block"); for lz4 the listing check is therefore left out and sqfs2tar is the only oracle.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { openFileSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { openSquashfs } from '../../src/formats/squashfs/index.js';
import { loadTar } from '../../src/formats/tar/index.js';
import type { Tree } from '../../src/tree/tree.js';
import { isReprimageError } from '../../src/errors.js';
import { materialize, sampleTree, sha256, treeListing, unsquashfsListing } from './squashfs-support.js';

const VARIANTS: Array<{ comp: string; args: string[] }> = [
  { comp: 'gzip', args: [] },
  { comp: 'gzip', args: ['-X', 'level=1,window=10'] },
  { comp: 'gzip', args: ['-T', '-e', '-b', '4096'] },
  { comp: 'xz', args: [] },
  { comp: 'xz', args: ['-X', 'x86,dictsize=64K'] },
  { comp: 'xz', args: ['-b', '1048576', '-e'] },
  { comp: 'zstd', args: [] },
  { comp: 'zstd', args: ['-X', 'level=3', '-T'] },
  { comp: 'lz4', args: [] },
  { comp: 'lz4', args: ['-X', 'hc', '-b', '65536', '-e'] },
];

async function open(t: TestContext, image: string): Promise<Tree> {
  const source = await openFileSource(image);
  t.after(() => source.close());
  return (await openSquashfs(source)).tree();
}

/** Every entry sqfs2tar put into its tar equals ours: kind, bytes, target, xattrs, hard links. */
async function sameAsSqfs2tar(t: TestContext, ours: Tree, image: string, dir: string): Promise<number> {
  const tarPath = join(dir, 'ref.tar');
  writeFileSync(tarPath, run('sqfs2tar', [image]).stdout);
  const source = await openFileSource(tarPath);
  t.after(() => source.close());
  const ref = await loadTar(source);
  // the same entries, less sockets (tar cannot hold them; sqfs2tar skips them)
  const paths = (tr: Tree) => [...tr.walk()].filter((e) => e.node.kind !== 'socket').map((e) => e.path);
  assert.deepEqual(paths(ours), paths(ref));
  let files = 0;
  const firstPath = new Map<object, string>();
  for (const { path, node } of ref.walk()) {
    if (path === '') continue;
    const mine = ours.get(path);
    assert.ok(mine, `${path} is in our tree`);
    assert.equal(mine.kind, node.kind, path);
    assert.equal(mine.mode, node.mode, `${path} mode`);
    assert.deepEqual([mine.uid, mine.gid, mine.mtime.sec], [node.uid, node.gid, node.mtime.sec], `${path} owner and mtime`);
    assert.deepEqual(new Map([...mine.xattrs].map(([k, v]) => [k, Buffer.from(v).toString('hex')])), new Map([...node.xattrs].map(([k, v]) => [k, Buffer.from(v).toString('hex')])), `${path} xattrs`);
    if (node.kind === 'file' && mine.kind === 'file') {
      // one tar node per hard-link group: ours must be one node too
      const seen = firstPath.get(node);
      if (seen !== undefined) assert.equal(mine, ours.get(seen), `${path} is a hard link to ${seen}`);
      else {
        firstPath.set(node, path);
        assert.equal(sha256(await readContent(mine.content)), sha256(await readContent(node.content)), `${path} bytes`);
        files++;
      }
    }
    if (node.kind === 'symlink' && mine.kind === 'symlink') assert.equal(mine.target, node.target, path);
    if ((node.kind === 'char' || node.kind === 'block') && (mine.kind === 'char' || mine.kind === 'block')) {
      assert.deepEqual([mine.major, mine.minor], [node.major, node.minor], path);
    }
  }
  return files;
}

for (const v of VARIANTS) {
  test(`reads what gensquashfs -c ${v.comp} ${v.args.join(' ')} writes, as unsquashfs and sqfs2tar do`, async (t) => {
    if (!requireTool(t, 'gensquashfs', 'sqfs2tar', 'unsquashfs', 'setfattr')) return;
    const dir = tempDir(t);
    const src = join(dir, 'src');
    await materialize(sampleTree({ xattrs: true }), src);
    const image = join(dir, 'gen.sqfs');
    run('gensquashfs', ['-D', src, '-k', '-x', '-q', '-j', '2', '-c', v.comp, ...v.args, image]);
    const tree = await open(t, image);
    if (v.comp !== 'lz4') assert.deepEqual(treeListing(tree).sort(), unsquashfsListing(image).sort());
    const files = await sameAsSqfs2tar(t, tree, image, dir);
    assert.ok(files > 300, `${files} distinct files compared`);
    const caps = tree.get('usr/share/doc/caps');
    assert.equal(Buffer.from(caps!.xattrs.get('security.capability')!).toString('hex'), '0100000200200000000000000000000000000000');
  });
}

test('reads a gensquashfs pack-file image (devices and owners from the description, no source tree)', async (t) => {
  if (!requireTool(t, 'gensquashfs', 'sqfs2tar', 'unsquashfs')) return;
  const dir = tempDir(t);
  writeFileSync(join(dir, 'init'), '#!/bin/sh\necho hi\n');
  writeFileSync(join(dir, 'big'), Buffer.alloc(300_000, 'abc'));
  const list = [
    'dir /dev 0755 0 0',
    'nod /dev/console 0600 0 5 c 5 1',
    'nod /dev/sda1 0660 0 6 b 8 1',
    'pipe /dev/initctl 0600 0 0',
    'dir /root 0700 0 0',
    'slink /lib 0777 0 0 /usr/lib',
    'file /sbin/init 0755 0 0 init',
    'link /init 0777 0 0 /sbin/init',
    'file /usr/share/big 0644 1000 1000 big',
    'file "/opt/my app/\\"special\\"/data" 0600 12 34 init',
  ].join('\n');
  writeFileSync(join(dir, 'list'), `${list}\n`);
  const image = join(dir, 'pack.sqfs');
  run('gensquashfs', ['-F', join(dir, 'list'), '-D', dir, '-q', '-c', 'zstd', '-d', 'mtime=1700000000', image]);
  const tree = await open(t, image);
  assert.deepEqual(treeListing(tree).sort(), unsquashfsListing(image).sort());
  assert.equal(await sameAsSqfs2tar(t, tree, image, dir), 3);
  assert.equal(tree.get('init'), tree.get('sbin/init'));
  const con = tree.get('dev/console');
  assert.ok(con?.kind === 'char' && con.major === 5 && con.minor === 1 && con.gid === 5);
  assert.equal(tree.get('opt/my app/"special"/data')?.uid, 12);
});

test('a gensquashfs lzma or lzo image is refused as UNSUPPORTED, not misread', async (t) => {
  if (!requireTool(t, 'gensquashfs')) return;
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), 'data\n'.repeat(1000));
  for (const comp of ['lzma', 'lzo']) {
    const image = join(dir, `${comp}.sqfs`);
    run('gensquashfs', ['-D', dir, '-q', '-c', comp, '-f', image]);
    await assert.rejects(
      async () => {
        const tree = await open(t, image);
        for (const { node } of tree.walk()) if (node.kind === 'file') await readContent(node.content);
      },
      (e: unknown) => isReprimageError(e) && e.code === 'UNSUPPORTED' && e.message.includes(comp),
      comp,
    );
  }
});
