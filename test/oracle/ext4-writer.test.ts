// Oracle tests of the ext4 writer: e2fsck -fn finds nothing to fix in any image we build (small
// and larger trees, 1 KiB and 4 KiB blocks, 50,000 entries in one directory, a 5 GiB sparse file,
// xattrs and ACLs, devices, hard links, random trees); debugfs gives back exactly our tree
// (names, modes, owners, times, link targets, devices, xattrs, contents via rdump); dumpe2fs -h
// shows our features, identifiers and times; the kernel mounts it read-only where it may; and
// the CLI gives byte-identical images from a tree, its `cp -a` copy, a shuffled listing
// (disorderfs), under other TZ and umask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { dirHash, seedWords, uuidBytes, writeExt4, type Ext4WriteOptions, type Ext4WriteReport } from '../../src/formats/ext4/index.js';
import { HASH } from '../../src/formats/ext4/layout.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { bytesContent, streamContent } from '../../src/tree/content.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { Tree, newDir, newMeta, type Node } from '../../src/tree/tree.js';
import { hasTool, requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';
import { runCli, sha256 } from '../helpers/cli.js';
import { buildTimeFor, materialize, pattern, sampleSpec, specToTree, treeListing, type SampleSpec } from '../helpers/sample-tree.js';
import { debugfsBatch, debugfsTree, normalizeAcls } from './ext4-reader-support.js';

type T = import('node:test').TestContext;
const EPOCH = 1_700_000_000;
const IDS = {
  uuid: '6d1a3f52-8b1e-4c35-9a8e-2f5d7b9c0e11',
  journalUuid: '0f0e0d0c-0b0a-4908-8706-050403020100',
  hashSeed: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
};
// e2fsck judges times against its clock: E2FSCK_TIME (2106) lets a tree with times in 2100,
// written with a build time after them (writers store no later time), pass as built then
const TOOL_ENV = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', E2FSCK_TIME: String(2 ** 32) };

async function build(t: T, tree: Tree, options: Partial<Ext4WriteOptions> = {}): Promise<{ img: string; report: Ext4WriteReport; dir: string }> {
  const dir = tempDir(t);
  const img = join(dir, 'fs.ext4');
  const report = await writeAtomically(img, (sink) => writeExt4(tree, sink, { ...IDS, buildTime: buildTimeFor(tree, EPOCH), ...options }));
  return { img, report, dir };
}

/** e2fsck -fn must exit 0 and print only its five pass lines and the summary. */
function assertClean(img: string): string {
  const r = run('e2fsck', ['-fn', img], { allowFail: true, env: TOOL_ENV });
  const out = `${r.stdout.toString('utf8')}${r.stderr}`;
  assert.equal(r.status, 0, `e2fsck exit ${r.status}:\n${out}`);
  const lines = out.split('\n').filter((l) => l.trim() !== '' && !/^e2fsck \d/.test(l) && !/^Pass [1-5]: /.test(l));
  assert.equal(lines.length, 1, `e2fsck said more than its summary:\n${out}`);
  return lines[0]!;
}

/** The sample tree plus what ext4 adds to it: sockets, ACLs, xattrs too big for the inode, big ids and device numbers, sparse files, old and far-future times. */
function richSpec(): SampleSpec {
  const spec = sampleSpec();
  const acl = Buffer.from('02000000' + '01000600ffffffff' + '02000600e8030000' + '04000400ffffffff' + '10000600ffffffff' + '20000400ffffffff', 'hex');
  spec.entries.push(
    { type: 'file', path: 'xattr/in-block', content: 'x', xattrs: { 'user.big': 'B'.repeat(700), 'user.small': 's', 'trusted.t': 'T'.repeat(90), 'security.selinux': 'system_u:object_r:etc_t:s0\0' } },
    { type: 'file', path: 'xattr/acl', content: 'acl', xattrs: { 'system.posix_acl_access': acl } },
    { type: 'dir', path: 'xattr/default-acl', xattrs: { 'system.posix_acl_default': acl, 'system.posix_acl_access': acl } },
    { type: 'file', path: 'ids/big', content: 'ids', uid: 100_000, gid: 2_000_000_000 },
    { type: 'char', path: 'dev/big-numbers', major: 300, minor: 70_000 },
    { type: 'file', path: 'sparse/holes', content: { size: 3 << 20, regions: [{ offset: 5, text: 'start' }, { offset: 2 << 20, text: 'middle' }, { offset: (3 << 20) - 3, text: 'end' }] } },
    { type: 'file', path: 'times/1950', content: '', mtime: { sec: -631_152_000, nsec: 1 } },
    { type: 'file', path: 'times/2100', content: '', mtime: { sec: 4_102_444_800, nsec: 999_999_999 } },
    { type: 'file', path: 'big/file', content: pattern(3_000_000, 7) },
  );
  for (let i = 0; i < 400; i++) spec.entries.push({ type: 'file', path: `wide/entry-${String(i).padStart(4, '0')}-caf\u00e9`, content: `${i}\n` });
  return spec;
}

/** What debugfs must show for `tree`: the tree plus mke2fs's lost+found (0700, at the epoch). */
function withLostAndFound(tree: Tree): Tree {
  tree.set('lost+found', newDir({ mode: 0o700, mtime: { sec: EPOCH, nsec: 0 } }));
  return tree;
}

function addSocket(tree: Tree): Tree {
  tree.set('run/socket', { kind: 'socket', ...newMeta({ mode: 0o755, mtime: { sec: EPOCH, nsec: 5 } }) });
  return tree;
}

for (const blockSize of [1024, 4096] as const) {
  test(`${blockSize}-byte blocks: e2fsck -fn is clean and debugfs (ls, stat, ea_get, rdump) gives back exactly the tree`, async (t) => {
    if (!requireTool(t, 'e2fsck', 'debugfs')) return;
    const { img, dir } = await build(t, addSocket(specToTree(richSpec(), { epoch: EPOCH })), { blockSize });
    assert.match(assertClean(img), /fs\.ext4: \d+\/\d+ files/);
    const work = join(dir, 'work');
    mkdirSync(work);
    const got = debugfsTree(img, work);
    normalizeAcls(got);
    const want = withLostAndFound(addSocket(specToTree(richSpec(), { epoch: EPOCH })));
    // debugfs rdump cannot make a socket; its type, mode and times come from stat
    const socket = got.get('run/socket');
    assert.equal(socket?.kind, 'socket');
    assert.deepEqual(await treeListing(got), await treeListing(want));
  });
}

test('a real tree ($REFERENCE_ROOTFS, else /usr/share/doc): e2fsck clean and debugfs gives back the loaded tree', async (t) => {
  if (!requireTool(t, 'e2fsck', 'debugfs')) return;
  const source = process.env.REFERENCE_ROOTFS ?? '/usr/share/doc';
  const loaded = await loadDirectory(source, { warn: () => undefined });
  if (loaded.size < 500) {
    skipOrFailInCi(t, `${source} has too few entries`);
    return;
  }
  const { img, dir } = await build(t, loaded);
  assertClean(img);
  const work = join(dir, 'work');
  mkdirSync(work);
  const got = debugfsTree(img, work);
  got.remove('lost+found');
  normalizeAcls(got);
  assert.deepEqual(await treeListing(got), await treeListing(loaded));
});

test('dumpe2fs -h shows the Debian ext4 features (without resize_inode), our UUID, hash seed, label and SOURCE_DATE_EPOCH times', async (t) => {
  if (!requireTool(t, 'dumpe2fs')) return;
  const { img } = await build(t, specToTree(sampleSpec(), { epoch: EPOCH }), { label: 'rootfs', mountOptions: 'discard' });
  const out = run('dumpe2fs', ['-h', img], { env: TOOL_ENV }).stdout.toString('utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1];
  assert.equal(field('Filesystem features'), 'has_journal ext_attr dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum');
  assert.equal(field('Filesystem UUID'), IDS.uuid);
  assert.equal(field('Directory Hash Seed'), IDS.hashSeed);
  assert.equal(field('Filesystem volume name'), 'rootfs');
  assert.equal(field('Mount options'), 'discard');
  assert.equal(field('Default directory hash'), 'half_md4');
  assert.equal(field('Filesystem flags'), 'signed_directory_hash ');
  assert.equal(field('Filesystem state'), 'clean');
  const when = 'Tue Nov 14 22:13:20 2023';
  assert.equal(field('Filesystem created'), when);
  assert.equal(field('Last write time'), when);
  assert.equal(field('Last checked'), when);
  assert.equal(field('Last mount time'), 'n/a');
  assert.equal(field('Inode size'), '256');
  assert.equal(field('Journal start'), '0');
  assert.equal(field('Checksum type'), 'crc32c');
  // atime, ctime and crtime equal the (policy-clamped) mtime, nanoseconds included
  const stat = run('debugfs', ['-R', 'stat /etc/passwd', img], { env: TOOL_ENV }).stdout.toString('utf8');
  const times = [...stat.matchAll(/^\s*(\w+): (0x[0-9a-f]+:[0-9a-f]+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(times, ['ctime 0x59682f00:3b9aca00', 'atime 0x59682f00:3b9aca00', 'mtime 0x59682f00:3b9aca00', 'crtime 0x59682f00:3b9aca00']);
});

for (const blockSize of [4096, 1024] as const) {
  test(`a directory of 50,000 entries becomes a valid htree (${blockSize}-byte blocks)`, async (t) => {
    if (!requireTool(t, 'e2fsck', 'debugfs')) return;
    const tree = new Tree();
    const big = tree.ensureDir('big');
    for (let i = 0; i < 50_000; i++) {
      // names with bytes >= 0x80 exercise the signed hash
      big.children.set(`${i % 3 === 0 ? '\u00fc' : 'f'}-${i}-${'x'.repeat(i % 37)}`, { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(new Uint8Array(0)) });
    }
    const { img, dir } = await build(t, tree, { blockSize });
    assertClean(img);
    const [stat, htree] = debugfsBatch(img, ['stat /big', 'htree /big'], dir);
    assert.match(stat!, /Flags: 0x81000/, 'extents and the htree index flag');
    // 4 KiB: the root points at every leaf; 1 KiB: a root over a level of index blocks
    assert.match(htree!, new RegExp(`Indirect levels: ${blockSize === 1024 ? 1 : 0}\\n`));
    assert.doesNotMatch(htree!, /corrupt|invalid|mismatch|does not match/i);
    const ls = run('debugfs', ['-R', 'ls /big', img], { env: TOOL_ENV }).stdout.toString('utf8');
    // debugfs escapes bytes >= 0x80: ü is \xc3\xbc
    assert.equal(ls.split(/\s+/).filter((w) => /^(f|\\xc3\\xbc)-\d+-x*$/.test(w)).length, 50_000);
  });
}

test('two names with the same hash split across leaves: the collision bit is set, e2fsck is clean and the kernel finds both', async (t) => {
  if (!requireTool(t, 'e2fsck', 'debugfs')) return;
  // a hash collision under our seed, found by search (about 50,000 names of 8 bytes suffice)
  const seed = seedWords(uuidBytes(IDS.hashSeed, 'seed'));
  const hashOf = (n: string) => dirHash(new TextEncoder().encode(n), HASH.halfMd4, seed).hash;
  const byHash = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const n = `c${String(i).padStart(7, '0')}`;
    const h = hashOf(n);
    const other = byHash.get(h);
    if (other !== undefined) pair = [other, n];
    byHash.set(h, n);
  }
  const h = hashOf(pair[0]);
  // 8-byte names take 16 bytes; a 4 KiB leaf holds 255: 254 smaller hashes put the pair at the boundary
  const smaller = [...byHash].filter(([k]) => k < h).map(([, n]) => n).slice(0, 254);
  const larger = [...byHash].filter(([k]) => k > h).map(([, n]) => n).slice(0, 300);
  assert.equal(smaller.length, 254);
  const tree = new Tree();
  const d = tree.ensureDir('d');
  for (const n of [...smaller, ...pair, ...larger]) d.children.set(n, { kind: 'fifo', ...newMeta({ mode: 0o644 }) });
  const { img, dir } = await build(t, tree);
  assertClean(img);
  const [htree] = debugfsBatch(img, ['htree /d'], dir);
  assert.match(htree!, new RegExp(`Hash 0x${((h | 1) >>> 0).toString(16).padStart(8, '0')}, block 2`), 'the second leaf continues the first');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  if (run('mount', ['-t', 'ext4', '-o', 'loop,ro', img, mnt], { allowFail: true }).status !== 0) {
    t.diagnostic('loop mount not allowed: kernel lookups not checked');
    return;
  }
  try {
    for (const n of pair) assert.ok(statSync(join(mnt, 'd', n)).isFIFO(), `the kernel finds ${n}`);
  } finally {
    run('umount', [mnt], { allowFail: true });
  }
});

test('an 80 MB file at 1 KiB blocks runs around superblock copies and flex metadata: an extent tree, e2fsck clean, debugfs dumps the same bytes', async (t) => {
  if (!requireTool(t, 'e2fsck', 'debugfs')) return;
  const bytes = pattern(80_000_000, 11);
  const tree = new Tree();
  tree.set('big', { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(bytes) });
  for (let i = 0; i < 40; i++) tree.set(`small/${i}`, { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(pattern(5000 * i, i)) });
  const { img, dir } = await build(t, tree, { blockSize: 1024 });
  assertClean(img);
  const out = join(dir, 'big.out');
  const [stat] = debugfsBatch(img, ['stat /big', `dump /big ${out}`], dir);
  assert.match(stat!, /\(ETB0\)/, 'more than four extents: a tree block');
  assert.equal(sha256(out), createHash('sha256').update(bytes).digest('hex'));
});

test('a 5 GiB sparse file stays sparse: three extents, a small image file, e2fsck clean', async (t) => {
  if (!requireTool(t, 'e2fsck', 'debugfs')) return;
  const size = 5 * 1024 ** 3;
  const regions = [{ offset: 0, length: 10 }, { offset: 3 * 1024 ** 3 + 5, length: 5000 }, { offset: size - 7, length: 7 }];
  const content = streamContent(size, 'sparse', async function* () {
    for (let at = 0; at < size; at += 1 << 20) {
      const c = new Uint8Array(Math.min(1 << 20, size - at));
      for (const r of regions) for (let i = Math.max(r.offset, at); i < Math.min(r.offset + r.length, at + c.length); i++) c[i - at] = 0x41 + (i % 26);
      yield c;
    }
  }, regions);
  const tree = new Tree();
  tree.set('disk.raw', { kind: 'file', ...newMeta({ mode: 0o600 }), content });
  const { img, dir } = await build(t, tree);
  assertClean(img);
  assert.ok(statSync(img).blocks * 512 < 16 << 20, `the image file is sparse (${statSync(img).blocks * 512} bytes allocated)`);
  const [stat, tail] = debugfsBatch(img, ['stat /disk.raw', 'bd -f /disk.raw 1310719'], dir);
  assert.match(stat!, /Size: 5368709120/);
  assert.match(stat!, /EXTENTS:\n\(0\):\d+, \(786432-786433\):\d+-\d+, \(1310719\):\d+\n/);
  // the last 7 bytes of the file, at the end of its last block
  const letters = String.fromCharCode(...Array.from({ length: 7 }, (_, k) => 0x41 + ((size - 7 + k) % 26)));
  assert.ok(tail!.includes(`..${letters}`), `block dump ends with ${letters}:\n${tail}`);
});

test('random trees (fast-check) all pass e2fsck -fn', async (t) => {
  if (!requireTool(t, 'e2fsck')) return;
  const dir = tempDir(t);
  const name = fc.stringMatching(/^[a-z\u00e9]{1,12}$/);
  const leaf: fc.Arbitrary<Node> = fc.oneof(
    fc.uint8Array({ maxLength: 20_000 }).map((b) => ({ kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(b) }) as Node),
    fc.stringMatching(/^[a-z/]{1,120}$/).map((target) => ({ kind: 'symlink', ...newMeta({ mode: 0o777 }), target }) as Node),
    fc.dictionary(fc.stringMatching(/^user\.[a-z]{1,30}$/), fc.uint8Array({ maxLength: 500 }), { maxKeys: 5 }).map(
      (x) => ({ kind: 'fifo', ...newMeta({ mode: 0o600, xattrs: new Map(Object.entries(x)) }) }) as Node,
    ),
  );
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.array(name, { minLength: 1, maxLength: 4 }), leaf), { maxLength: 300 }), fc.constantFrom(1024 as const, 4096 as const), async (entries, blockSize) => {
      const tree = new Tree();
      for (const [parts, node] of entries) {
        try {
          tree.set(parts.join('/'), node);
        } catch {
          // a parent is a file
        }
      }
      const img = join(dir, `random-${n++}.ext4`);
      await writeAtomically(img, (sink) => writeExt4(tree, sink, { ...IDS, buildTime: buildTimeFor(tree, EPOCH), blockSize }));
      assertClean(img);
    }),
    { numRuns: 12 },
  );
});

test('a large, mostly empty volume: untouched groups are INODE_UNINIT / BLOCK_UNINIT and unwritten; e2fsck clean, also after the kernel writes into them', async (t) => {
  if (!requireTool(t, 'e2fsck', 'dumpe2fs')) return;
  const { img, dir } = await build(t, specToTree(sampleSpec(), { epoch: EPOCH }), { size: 64 * 1024 ** 3 });
  assertClean(img);
  assert.ok(statSync(img).blocks * 512 < 4 << 20, `few blocks written (${statSync(img).blocks * 512} bytes)`);
  const groups = run('dumpe2fs', [img], { env: TOOL_ENV }).stdout.toString('utf8');
  assert.match(groups, /^Group 0: .*\[ITABLE_ZEROED\]$/m);
  assert.match(groups, /^Group 100: .*\[INODE_UNINIT, BLOCK_UNINIT, ITABLE_ZEROED\]$/m);
  assert.match(groups, /^Group 511: .*\[INODE_UNINIT, ITABLE_ZEROED\]$/m, 'the last group keeps its block bitmap');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  if (run('mount', ['-t', 'ext4', '-o', 'loop', img, mnt], { allowFail: true }).status !== 0) {
    t.diagnostic('loop mount not allowed: kernel writes into uninitialized groups not checked');
    return;
  }
  try {
    run('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1M', 'count=1500', 'status=none']);
    for (let i = 0; i < 40; i++) mkdirSync(join(mnt, `dir-${i}`));
  } finally {
    run('umount', [mnt], { allowFail: true });
  }
  assertClean(img);
});

test('without resize_inode, resize2fs still grows the image offline (5 MiB to 8 GiB) and e2fsck stays clean', async (t) => {
  if (!requireTool(t, 'resize2fs', 'e2fsck')) return;
  const { img } = await build(t, specToTree(sampleSpec(), { epoch: EPOCH }));
  run('truncate', ['-s', '8G', img]);
  run('resize2fs', [img], { env: TOOL_ENV });
  assert.match(assertClean(img), /\/2097152 blocks$/);
});

test('the kernel mounts the image read-only and shows the tree (where loop mounts are allowed)', async (t) => {
  if (!requireTool(t, 'mount', 'umount')) return;
  const { img, dir } = await build(t, specToTree(sampleSpec(), { epoch: EPOCH }));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const m = run('mount', ['-t', 'ext4', '-o', 'loop,ro', img, mnt], { allowFail: true });
  if (m.status !== 0) {
    skipOrFailInCi(t, `loop mount not allowed here: ${m.stderr.trim()}`);
    return;
  }
  try {
    const got = await loadDirectory(mnt);
    got.remove('lost+found');
    assert.deepEqual(await treeListing(got), await treeListing(specToTree(sampleSpec(), { epoch: EPOCH })));
  } finally {
    run('umount', [mnt], { allowFail: true });
  }
});

test('CLI: a tree, its cp -a copy and a shuffled listing (disorderfs) give byte-identical images under other TZ and umask', async (t) => {
  if (!requireTool(t, 'e2fsck')) return;
  const dir = tempDir(t);
  const a = join(dir, 'a');
  mkdirSync(a);
  const spec = materialize(richSpec(), a, { epoch: EPOCH });
  const b = join(dir, 'b');
  run('cp', ['-a', a, b]); // keeps owners, modes, times, xattrs, hard links; new ctimes and inode numbers
  const pack = (src: string, out: string, env: Record<string, string>, umask: number) => {
    const r = runCli(['pack', src, '-o', out, '--seed', 'oracle'], { env: { SOURCE_DATE_EPOCH: String(EPOCH), ...env }, umask });
    assert.equal(r.status, 0, r.stderr);
    return sha256(out);
  };
  const first = pack(a, join(dir, '1.ext4'), { TZ: 'UTC' }, 0o022);
  assertClean(join(dir, '1.ext4'));
  assert.equal(pack(b, join(dir, '2.ext4'), { TZ: 'Pacific/Kiritimati' }, 0o077), first, 'cp -a copy, other TZ and umask');
  assert.equal(pack(a, join(dir, '3.ext4'), { TZ: 'America/St_Johns', LC_ALL: 'C' }, 0o002), first, 'same tree again');
  if (requireTool(t, 'disorderfs')) {
    const shuffled = join(dir, 'shuffled');
    mkdirSync(shuffled);
    const m = run('disorderfs', ['--shuffle-dirents=yes', '--multi-user=yes', a, shuffled], { allowFail: true });
    if (m.status !== 0) {
      t.diagnostic(`disorderfs could not mount here (${m.stderr.trim()}); shuffled listing not checked`);
    } else {
      try {
        assert.equal(pack(shuffled, join(dir, '4.ext4'), { TZ: 'UTC' }, 0o022), first, 'shuffled directory listing');
      } finally {
        const unmount = hasTool('fusermount3') ? 'fusermount3' : hasTool('fusermount') ? 'fusermount' : 'umount';
        run(unmount, unmount === 'umount' ? [shuffled] : ['-u', shuffled], { allowFail: true });
      }
    }
  }
  assert.ok(spec.entries.length > 400);
});

test('CLI: bad ext4 options and a tree that does not fit are one line on stderr and exit 2', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  materialize({ entries: [{ type: 'file', path: 'big', content: pattern(3 << 20, 3) }] }, src, { epoch: EPOCH });
  const cases: Array<[string[], RegExp]> = [
    [['--block-size', '2048'], /--block-size: ext4 block size must be 1024 or 4096/],
    [['--size', String(2 << 20)], /does not fit|larger size/],
    [['--uuid', 'nope'], /--uuid: not a UUID/],
    [['--label', 'a label longer than sixteen'], /--label: at most 16 bytes/],
    [['--reserved-percent', '90'], /--reserved-percent/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(['pack', src, '-o', join(dir, 'out.ext4'), ...args], { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
  }
});
