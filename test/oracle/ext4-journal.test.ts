// ext4 images with an unreplayed journal (needs_recovery), written with debugfs's journal
// commands (e2fsprogs 1.47: `jo [-c]` opens the journal, with checksums v3 when -c; `jw -b BLOCKS
// [-r REVOKED] [-c] FILE` logs FILE's bytes as those blocks, -c leaving the transaction
// uncommitted; `jc` closes it without replaying). The reader must replay the journal in memory
// and give what debugfs shows after `e2fsck -fy` has replayed it on a copy, with no warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openExt4 } from '../../src/formats/ext4/reader.js';
import { openFileSource } from '../../src/io/source.js';
import { materialize, treeListing } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { debugfsTree } from './ext4-reader-support.js';

const EPOCH = 1_700_000_000;
const ENV = { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH), E2FSCK_TIME: String(EPOCH), TZ: 'UTC' };

interface Setup {
  img: string;
  dir: string;
  blockSize: number;
  /** The physical block of a file's first data block. */
  blockOf(path: string): number;
  /** A file of `blocks` blocks, each `text` padded with zeros, for `jw` (one block per listed block number). */
  blockFile(name: string, text: string | Uint8Array, blocks?: number): string;
  /** Runs debugfs -w with these commands. */
  debugfs(...commands: string[]): void;
}

function setup(t: import('node:test').TestContext, mkfs: string[], blockSize: number): Setup {
  const dir = tempDir(t, 'reprimage-journal-');
  const src = join(dir, 'src');
  materialize({
    entries: [
      { type: 'file', path: 'hello', content: 'original hello\n' },
      { type: 'file', path: 'other', content: 'original other\n' },
      { type: 'dir', path: 'd' },
      { type: 'file', path: 'd/kept', content: 'never journaled\n' },
    ],
  }, src, { epoch: EPOCH });
  const img = join(dir, 'fs.img');
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', String(blockSize), ...mkfs, '-E', 'root_owner=0:0', '-d', src, img, '16M'], { env: ENV });
  const s: Setup = {
    img,
    dir,
    blockSize,
    blockOf(path) {
      const out = run('debugfs', ['-R', `bmap /${path} 0`, img]).stdout.toString().trim();
      return Number(out);
    },
    blockFile(name, text, blocks = 1) {
      const file = join(dir, name);
      const b = Buffer.alloc(blockSize * blocks);
      for (let i = 0; i < blocks; i++) Buffer.from(text).copy(b, i * blockSize);
      writeFileSync(file, b);
      return file;
    },
    debugfs(...commands) {
      const file = join(dir, 'cmds');
      writeFileSync(file, commands.join('\n') + '\n');
      const r = run('debugfs', ['-w', '-f', file, img], { env: ENV });
      assert.doesNotMatch(r.stderr.replace(/^debugfs [\d.]+ \(.*\)\n/, ''), /\S/, r.stderr);
    },
  };
  return s;
}

/** Ours on the journaled image vs debugfs on a copy that e2fsck replayed; returns our Tree's listing. */
async function compare(t: import('node:test').TestContext, s: Setup) {
  assert.match(run('dumpe2fs', ['-h', s.img], { allowFail: true }).stdout.toString(), /needs_recovery/, 'the journal is left unreplayed');
  const replayed = join(s.dir, 'replayed.img');
  copyFileSync(s.img, replayed);
  const fsck = run('e2fsck', ['-fy', replayed], { env: ENV, allowFail: true });
  assert.ok(fsck.status <= 1, `e2fsck accepts it: ${fsck.stdout.toString()}`);
  const warnings: string[] = [];
  const source = await openFileSource(s.img);
  t.after(() => source.close());
  const ours = await (await openExt4(source, { warn: (m) => warnings.push(m) })).tree();
  assert.deepEqual(warnings, []);
  const got = await treeListing(ours);
  assert.deepEqual(got, await treeListing(debugfsTree(replayed, s.dir)));
  return { ours, got };
}

async function text(tree: import('../../src/tree/tree.js').Tree, path: string): Promise<string> {
  const node = tree.get(path);
  assert.ok(node?.kind === 'file');
  const parts: Buffer[] = [];
  for await (const c of node.content.chunks()) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString().replace(/\0+$/, '');
}

const LAYOUTS = [
  { name: '4 KiB blocks, 64bit, metadata_csum, journal without checksums', mkfs: [], blockSize: 4096, jo: 'jo' },
  { name: '4 KiB blocks, journal checksums v3 (jo -c)', mkfs: [], blockSize: 4096, jo: 'jo -c' },
  { name: '1 KiB blocks, no 64bit (8-byte tags), no metadata_csum', mkfs: ['-O', '^64bit,^metadata_csum'], blockSize: 1024, jo: 'jo' },
  { name: '1 KiB blocks, no 64bit, journal checksums v3', mkfs: ['-O', '^64bit'], blockSize: 1024, jo: 'jo -c' },
];

for (const L of LAYOUTS) {
  test(`journal replay (${L.name}): data blocks, last transaction wins, revoked and uncommitted ones left out`, async (t) => {
    if (!requireTool(t, 'mke2fs', 'debugfs', 'e2fsck', 'dumpe2fs')) return;
    const s = setup(t, L.mkfs, L.blockSize);
    const hello = s.blockOf('hello');
    const other = s.blockOf('other');
    const kept = s.blockOf('d/kept');
    s.debugfs(
      L.jo,
      `jw -b ${hello} ${s.blockFile('a', 'first write\n')}`,
      `jw -b ${hello},${other} ${s.blockFile('b', 'second wins\n', 2)}`,
      // a block revoked by a later transaction keeps its on-disk bytes
      `jw -b ${kept} ${s.blockFile('c', 'revoked write\n')}`,
      `jw -r ${kept} ${s.blockFile('empty', '')}`,
      'jc',
    );
    // then a transaction never committed: recovery stops before it
    s.debugfs(L.jo, `jw -b ${other} -c ${s.blockFile('d', 'never committed\n')}`, 'jc');
    const { ours } = await compare(t, s);
    assert.equal(await text(ours, 'hello'), 'second wins\n');
    assert.equal(await text(ours, 'other'), 'second wins\n');
    assert.equal(await text(ours, 'd/kept'), 'never journaled\n');
  });
}

test('journal replay of metadata: an inode table block and a directory block changed only in the journal', async (t) => {
  if (!requireTool(t, 'mke2fs', 'debugfs', 'e2fsck', 'dumpe2fs')) return;
  const s = setup(t, [], 4096);
  // make the change on a scratch copy, then log the changed blocks into the original's journal
  const scratch = join(s.dir, 'scratch.img');
  copyFileSync(s.img, scratch);
  run('debugfs', ['-w', '-R', 'sif /hello mode 0100600', scratch], { env: ENV });
  run('debugfs', ['-w', '-R', 'sif /hello uid 4242', scratch], { env: ENV });
  run('debugfs', ['-w', '-R', 'ln /other /d/other-link', scratch], { env: ENV });
  run('debugfs', ['-w', '-R', 'sif /other links_count 2', scratch], { env: ENV });
  const before = readFileSync(s.img);
  const after = readFileSync(scratch);
  const changed: number[] = [];
  for (let b = 0; b * 4096 < after.length; b++) {
    if (!before.subarray(b * 4096, (b + 1) * 4096).equals(after.subarray(b * 4096, (b + 1) * 4096))) changed.push(b);
  }
  assert.ok(changed.length >= 2, `blocks changed: ${changed.join(', ')}`);
  const commands = [`jo -c`];
  for (const b of changed) {
    if (b === 0) continue; // the superblock: its write time only
    commands.push(`jw -b ${b} ${s.blockFile(`m${b}`, after.subarray(b * 4096, (b + 1) * 4096))}`);
  }
  commands.push('jc');
  s.debugfs(...commands);
  const { got, ours } = await compare(t, s);
  const hello = got.find((e) => e.path === 'hello')!;
  assert.equal(hello.mode, '0600');
  assert.equal(hello.uid, 4242);
  assert.equal(ours.get('d/other-link'), ours.get('other'), 'the link made only in the journal is there');
});

test('a logged block that starts with the jbd2 magic (escaped in the log) is restored', async (t) => {
  if (!requireTool(t, 'mke2fs', 'debugfs', 'e2fsck', 'dumpe2fs')) return;
  const s = setup(t, [], 4096);
  const hello = s.blockOf('hello');
  s.debugfs('jo -c', `jw -b ${hello} ${s.blockFile('m', Buffer.concat([Buffer.from('c03b3998', 'hex'), Buffer.from(' magic first\n')]))}`, 'jc');
  const { ours } = await compare(t, s);
  const node = ours.get('hello');
  assert.ok(node?.kind === 'file');
  const first = (await node.content.chunks()[Symbol.asyncIterator]().next()).value as Uint8Array;
  assert.equal(Buffer.from(first.subarray(0, 4)).toString('hex'), 'c03b3998');
});
