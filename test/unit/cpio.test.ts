// cpio newc writer and reader without external tools: byte goldens made by GNU cpio 2.13
// (test/fixtures/cpio, see README.md there), reading GNU cpio newc/crc/odc, bsdtar newc and
// concatenated initramfs images (gzip, xz, zstd, lz4 frame and legacy, gzip then xz), the layout
// codecs, hard links, name prefixes, determinism across TZ/umask/insertion order, and a
// fast-check round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { writeCpio, loadCpio, loadCpioSegments, readCpioEntries, sniffCpio, type CpioSegment } from '../../src/formats/cpio/index.js';
import { decodeNewcHeader, decodeOdcHeader, encodeNewcHeader, isFieldError, pad4, splitOdcRdev, CPIO_NEWC_HEADER_SIZE } from '../../src/formats/cpio/layout.js';
import { Tree, newMeta, type Node, type Meta } from '../../src/tree/tree.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { treeToJson } from '../../src/tree/describe.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource, openFileSource, type RandomAccessSource } from '../../src/io/source.js';
import { tempDir } from '../helpers/tools.js';
import { LATE_BUILD_TIME } from '../helpers/sample-tree.js';

/** test/fixtures/cpio, found upwards from the compiled test (dist/ or a build directory at another depth). */
const FIXTURES = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'test', 'fixtures', 'cpio', 'make-fixtures.sh'))) return join(dir, 'test', 'fixtures', 'cpio');
  }
  return join(process.cwd(), 'test', 'fixtures', 'cpio');
})();
const fixture = (name: string) => join(FIXTURES, name);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const m = (mode: number, sec = 1000, extra: Partial<Meta> = {}): Meta => newMeta({ mode, mtime: { sec, nsec: 0 }, ...extra });
const file = (text: string, mode = 0o644, sec = 1000): Node => ({ kind: 'file', ...m(mode, sec), content: bytesContent(Buffer.from(text)) });
const dir = (mode = 0o755, sec = 1000): Node => ({ kind: 'dir', ...m(mode, sec), children: new Map() });

async function cpioBytes(tree: Tree, options: Partial<Parameters<typeof writeCpio>[2]> = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME, ...options });
  return sink.bytes();
}

async function entries(source: RandomAccessSource) {
  const out = [];
  for await (const e of readCpioEntries(source)) out.push(e);
  return out;
}

/** Loads a file, closing the source and every spooled segment afterwards. */
async function loadFile(path: string, t: { after(fn: () => Promise<void>): void }): Promise<{ tree: Tree; segments: CpioSegment[] }> {
  const source = await openFileSource(path);
  const segments: CpioSegment[] = [];
  const tree = await loadCpio(source, { onSegment: (s) => segments.push(s) });
  t.after(async () => {
    for (const s of segments) if (s.compression !== undefined) await s.source.close();
    await source.close();
  });
  return { tree, segments };
}

/** One line per entry: path type mode uid:gid mtime size|target|device [=> first link]. */
function listing(tree: Tree): string[] {
  return treeToJson(tree).map((e) => `${e.path} ${e.type} ${e.mode} ${e.uid}:${e.gid} ${e.mtime} ${e.size ?? e.target ?? e.device?.join(',') ?? '-'}${e.hardlinkTo ? ` => ${e.hardlinkTo}` : ''}`);
}

/** The tree of gnu-links.cpio (make-fixtures.sh), built in memory in another insertion order. */
function linksTree(reverse = false): Tree {
  const f = file('hi\n');
  const z = file('');
  const x = file('data\n');
  const s: Node = { kind: 'symlink', ...m(0o777), target: 'f' };
  const c: Node = { kind: 'char', ...m(0o644), major: 1, minor: 3 };
  const p: Node = { kind: 'fifo', ...m(0o644) };
  const steps: Array<[string, Node]> = [
    ['f', f], ['d/f2', f], ['z', z], ['d/z2', z], ['s', s], ['d/s2', s], ['c', c], ['d/c2', c], ['p', p], ['d/p2', p],
    ['m/x', x], ['d/y', x], ['w', x], ['d/a', x],
  ];
  const tree = new Tree(dir() as Extract<Node, { kind: 'dir' }>);
  for (const d of ['d', 'd/e', 'm']) tree.ensureDir(d, m(0o755));
  for (const [path, node] of reverse ? [...steps].reverse() : steps) tree.set(path, node);
  return tree;
}

/** The tree of gnu-newc.cpio (make-fixtures.sh): what every reader fixture must give back. */
const FIXTURE_LISTING = [
  '. dir 0755 0:0 1700000000 -',
  'bin dir 0755 0:0 1700000000 -',
  'bin/init file 0755 0:0 1700000000 18',
  'bin/init.link file 0755 0:0 1700000000 18 => bin/init',
  'bin/sh symlink 0777 0:0 1700000000 init',
  'dev dir 0755 0:0 1700000000 -',
  'dev/console char 0600 0:5 1700000000 5,1',
  'dev/loop0 block 0644 0:0 1700000000 7,0',
  'etc dir 0755 0:0 1700000000 -',
  'etc/empty file 0644 0:0 1700000000 0',
  'etc/motd file 0644 1000:100 1700000000 6',
];
const MICROCODE_LISTING = [
  'kernel dir 0755 0:0 1700000000 -',
  'kernel/x86 dir 0755 0:0 1700000000 -',
  'kernel/x86/microcode dir 0755 0:0 1700000000 -',
  'kernel/x86/microcode/GenuineIntel.bin file 0644 0:0 1700000000 1000',
];

// --- layout -------------------------------------------------------------------------------------

test('newc header codec: encode/decode round trip, upper-case hex, non-hex reported with its offset', () => {
  const h = { ino: 1, mode: 0o100644, uid: 2, gid: 3, nlink: 4, mtime: 0xdeadbeef, filesize: 5, devmajor: 6, devminor: 7, rdevmajor: 8, rdevminor: 9, namesize: 10, check: 11 };
  const bytes = encodeNewcHeader(h);
  assert.equal(bytes.length, CPIO_NEWC_HEADER_SIZE);
  assert.equal(Buffer.from(bytes).toString('latin1').slice(0, 30), '07070100000001000081A400000002');
  assert.ok(Buffer.from(bytes).toString('latin1').includes('DEADBEEF'));
  assert.deepEqual(decodeNewcHeader(bytes), h);
  const bad = bytes.slice();
  bad[50] = 0x67; // 'g' inside mtime
  const err = decodeNewcHeader(bad);
  assert.ok(isFieldError(err));
  assert.equal(err.field, 'mtime');
  assert.equal(err.offset, 46);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(pad4), [0, 3, 2, 1, 0, 3]);
});

test('odc header codec and rdev split', () => {
  const text = '070707' + '000001' + '000002' + '020644' + '000000' + '000005' + '000001' + '002401' + '00000001750' + '000004' + '00000000000';
  const h = decodeOdcHeader(Buffer.from(text, 'latin1'));
  assert.ok(!isFieldError(h));
  assert.deepEqual([h.dev, h.ino, h.mode, h.gid, h.nlink, h.rdev, h.mtime, h.namesize], [1, 2, 0o20644, 5, 1, 0o2401, 1000, 4]);
  assert.deepEqual(splitOdcRdev(0o2401), { major: 5, minor: 1 });
  assert.ok(isFieldError(decodeOdcHeader(Buffer.from(text.replace('020644', '02064x'), 'latin1'))));
});

test('sniffCpio knows the three magics and nothing else', () => {
  for (const magic of ['070701', '070702', '070707']) assert.ok(sniffCpio(Buffer.from(magic + 'rest')));
  for (const other of ['070703', '07070', '\x1f\x8b\x08', 'ustar0']) assert.ok(!sniffCpio(Buffer.from(other)));
});

// --- writer -------------------------------------------------------------------------------------

test('writer output equals GNU cpio --reproducible byte for byte on hard links of every kind', async () => {
  const gnu = readFileSync(fixture('gnu-links.cpio'));
  for (const reverse of [false, true]) {
    const ours = await cpioBytes(linksTree(reverse));
    assert.equal(sha(ours), sha(gnu), `insertion order reversed: ${reverse}`);
  }
});

test('writer output equals GNU cpio on the fixture tree (devices, owners, symlink, hard link)', async (t) => {
  const { tree } = await loadFile(fixture('gnu-newc.cpio'), t);
  assert.equal(sha(await cpioBytes(tree)), sha(readFileSync(fixture('gnu-newc.cpio'))));
});

test('regular-file links are held back and written newest first before the last; others stay in place', async () => {
  const names = (await entries(bufferSource(await cpioBytes(linksTree()), 'links.cpio'))).map((e) => `${e.name}:${e.ino}:${e.size}`);
  assert.deepEqual(names, [
    '.:0:0', 'c:1:0', 'd:2:0', 'd/c2:1:0', 'd/e:4:0', 'd/p2:6:0', 'd/s2:7:1', 'd/f2:5:0', 'f:5:3', 'm:9:0', 'p:6:0', 's:7:1',
    'm/x:3:0', 'd/y:3:0', 'd/a:3:0', 'w:3:5', 'd/z2:8:0', 'z:8:0',
  ]);
});

test("namePrefix './' writes bsdtar-style names; the root stays '.'; the size stays 512-aligned", async () => {
  const names = (await entries(bufferSource(await cpioBytes(linksTree(), { namePrefix: './' }), 'p.cpio'))).map((e) => e.name);
  assert.equal(names[0], '.');
  assert.ok(names.slice(1).every((n) => n.startsWith('./')), names.join(' '));
  const back = await loadCpio(bufferSource(await cpioBytes(linksTree(), { namePrefix: './' }), 'p.cpio'));
  assert.deepEqual(listing(back), listing(linksTree()));
  await assert.rejects(cpioBytes(linksTree(), { namePrefix: '/' as never }), { code: 'USAGE' });
});

test('an empty tree is the root and the trailer, padded to 512 bytes', async () => {
  const bytes = await cpioBytes(new Tree());
  assert.equal(bytes.length, 512);
  const text = Buffer.from(bytes).toString('latin1');
  assert.ok(text.startsWith('070701000000000000' + '41ED'));
  assert.ok(text.includes('TRAILER!!!'));
  assert.deepEqual((await entries(bufferSource(bytes, 'e.cpio'))).map((e) => e.name), ['.']);
});

test('writer warns about xattrs and sub-second times it cannot keep, and refuses values that do not fit', async () => {
  const tree = new Tree();
  const f = file('x');
  f.xattrs.set('user.a', new Uint8Array([1]));
  f.mtime = { sec: 5, nsec: 7 };
  tree.set('f', f);
  const warnings: string[] = [];
  await cpioBytes(tree, { warn: (w) => warnings.push(w) });
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /extended attributes.*1 entry/);
  assert.match(warnings[1]!, /sub-second/);
  for (const [field, value] of [['uid', 2 ** 32], ['mtime', -1], ['gid', 1.5]] as const) {
    const bad = new Tree();
    const node = file('y');
    if (field === 'mtime') node.mtime = { sec: value, nsec: 0 };
    else node[field] = value;
    bad.set('big', node);
    await assert.rejects(cpioBytes(bad), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && e.message.includes('big') && e.message.includes(field));
  }
});

test('writer refuses contents that change size while being written', async () => {
  const tree = new Tree();
  tree.set('liar', { kind: 'file', ...m(0o644), content: { size: 10, origin: 'liar.src', async *chunks() { yield new Uint8Array(4); } } });
  await assert.rejects(cpioBytes(tree), { code: 'IO' });
});

test('same bytes under other TZ, umask and insertion order (child processes)', async (t) => {
  const work = tempDir(t);
  const writer = new URL('../../src/formats/cpio/index.js', import.meta.url).href;
  const treeMod = new URL('../../src/tree/tree.js', import.meta.url).href;
  const content = new URL('../../src/tree/content.js', import.meta.url).href;
  const atomic = new URL('../../src/io/atomic-output.js', import.meta.url).href;
  const hashes: string[] = [];
  for (const [tz, umask, reverse] of [['UTC', '022', false], ['Pacific/Kiritimati', '077', true], ['America/St_Johns', '002', false]] as const) {
    const out = join(work, `${hashes.length}.cpio`);
    const code = `
      const { writeCpio } = await import(${JSON.stringify(writer)});
      const { Tree, newMeta } = await import(${JSON.stringify(treeMod)});
      const { bytesContent } = await import(${JSON.stringify(content)});
      const { writeAtomically } = await import(${JSON.stringify(atomic)});
      process.umask(0o${umask});
      const tree = new Tree();
      const names = ['b', 'a.b', 'a/x', 'a/y', 'caf\\u00e9', 'z/deep/file'];
      for (const n of ${reverse} ? names.reverse() : names)
        tree.set(n, { kind: 'file', ...newMeta({ mode: 0o644, mtime: { sec: 1234567890, nsec: 0 } }), content: bytesContent(Buffer.from(n)) });
      await writeAtomically(${JSON.stringify(out)}, (sink) => writeCpio(tree, sink, { buildTime: 2 ** 33 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, TZ: tz, LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    hashes.push(sha(readFileSync(out)));
  }
  assert.equal(new Set(hashes).size, 1, hashes.join('\n'));
});

// --- reader -------------------------------------------------------------------------------------

for (const name of ['gnu-newc.cpio', 'gnu-crc.cpio', 'gnu-odc.cpio', 'bsdtar-newc.cpio']) {
  test(`reads ${name} as the tree it was made from`, async (t) => {
    const { tree, segments } = await loadFile(fixture(name), t);
    const want = name.startsWith('bsdtar') ? ['. dir 0755 0:0 0 -', ...FIXTURE_LISTING.slice(1)] : FIXTURE_LISTING; // bsdtar was given ./bin ./etc ./dev, not '.'
    assert.deepEqual(listing(tree), want);
    assert.equal(segments.length, 1);
    const init = tree.get('bin/init');
    assert.equal(init?.kind === 'file' ? Buffer.from(await readContent(init.content)).toString() : '', '#!/bin/sh\necho hi\n');
    assert.equal(tree.get('bin/init.link'), init, 'hard links are one node');
  });
}

for (const [name, segmentKinds] of [
  ['initramfs-gzip.img', ['plain', 'gzip']],
  ['initramfs-xz.img', ['plain', 'xz']],
  ['initramfs-zstd.img', ['plain', 'zstd']],
  ['initramfs-lz4legacy.img', ['plain', 'lz4']],
  ['initramfs-lz4frame.img', ['plain', 'lz4']],
  ['initramfs-gzip-xz.img', ['gzip', 'xz']],
  ['initramfs-xz-gzip.img', ['xz', 'gzip']],
  ['initramfs-pzstd-gzip.img', ['zstd', 'gzip']],
  ['initramfs-zstd-xz.img', ['zstd', 'xz']],
] as const) {
  test(`reads the concatenated initramfs ${name} (segments: ${segmentKinds.join(' + ')})`, async (t) => {
    const { tree, segments } = await loadFile(fixture(name), t);
    assert.deepEqual(segments.map((s) => s.compression ?? 'plain'), segmentKinds);
    assert.deepEqual(listing(tree), [...FIXTURE_LISTING, ...MICROCODE_LISTING]);
    const motd = tree.get('etc/motd');
    assert.equal(motd?.kind === 'file' ? Buffer.from(await readContent(motd.content)).toString() : '', 'hello\n');
    const micro = tree.get('kernel/x86/microcode/GenuineIntel.bin');
    assert.equal(micro?.kind === 'file' ? Buffer.from(await readContent(micro.content)).toString() : '', 'M'.repeat(1000));
  });
}

test('readCpioEntries gives each entry its archive, header offset and data offset', async () => {
  const bytes = readFileSync(fixture('gnu-newc.cpio'));
  const all = await entries(bufferSource(bytes, 'gnu-newc.cpio'));
  assert.equal(all[0]!.offset, 0);
  assert.equal(all[0]!.name, '.');
  for (const e of all) {
    assert.equal(e.archive, 0);
    assert.equal(Buffer.from(bytes.subarray(e.offset, e.offset + 6)).toString(), '070701');
    assert.equal(e.dataOffset % 4, 0);
  }
  const motd = all.find((e) => e.name === 'etc/motd')!;
  assert.equal(Buffer.from(bytes.subarray(motd.dataOffset, motd.dataOffset + motd.size)).toString(), 'hello\n');
});

test('loadCpioSegments gives each segment its own tree', async () => {
  const source = await openFileSource(fixture('initramfs-zstd.img'));
  const segments = await loadCpioSegments(source);
  try {
    assert.equal(segments.length, 2);
    assert.deepEqual(listing(segments[0]!.tree).slice(1), MICROCODE_LISTING);
    assert.deepEqual(listing(segments[1]!.tree), FIXTURE_LISTING);
    assert.equal(segments[1]!.segment.offset, 2048);
  } finally {
    for (const s of segments) if (s.segment.compression) await s.segment.source.close();
    await source.close();
  }
});

test('later archives replace earlier entries; hard links do not cross a trailer', async () => {
  const first = new Tree();
  first.set('etc/conf', file('old'));
  const a = file('shared');
  first.set('x1', a);
  first.set('x2', a);
  const second = new Tree();
  second.set('etc/conf', file('new', 0o600));
  second.set('y', file('other'));
  const bytes = Buffer.concat([await cpioBytes(first), await cpioBytes(second)]);
  // both archives number inodes from 0: x1/x2 in the first and etc/conf in the second share ino 2
  const tree = await loadCpio(bufferSource(bytes, 'two.cpio'));
  const conf = tree.get('etc/conf');
  assert.equal(conf?.kind === 'file' ? Buffer.from(await readContent(conf.content)).toString() : '', 'new');
  assert.equal(conf?.mode, 0o600);
  assert.equal(tree.get('x1'), tree.get('x2'));
  assert.notEqual(tree.get('y'), tree.get('x1'));
});

test('absolute names are made relative with one warning; ./ prefixes are dropped', async () => {
  const bytes = Buffer.concat([entryBytes('/etc', 0o40755), entryBytes('/etc/abs', 0o100644, 'A'), entryBytes('./rel', 0o100644, 'R'), trailerBytes()]);
  const warnings: string[] = [];
  const tree = await loadCpio(bufferSource(bytes, 'abs.cpio'), { warn: (w) => warnings.push(w) });
  assert.deepEqual(listing(tree).map((l) => l.split(' ')[0]), ['.', 'etc', 'etc/abs', 'rel']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /abs\.cpio.*absolute name "\/etc"/);
});

// --- bad input ------------------------------------------------------------------------------------

/** One newc entry, hand-made, with fields overridable as raw text. */
function entryBytes(name: string, mode: number, data = '', fields: Partial<Record<string, number>> = {}): Buffer {
  const nameBytes = Buffer.from(name + '\0');
  const header = encodeNewcHeader({ ino: 7, mode, uid: 0, gid: 0, nlink: 1, mtime: 1, filesize: data.length, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: nameBytes.length, check: 0, ...fields });
  const body = Buffer.from(data);
  return Buffer.concat([header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), body, Buffer.alloc(pad4(body.length))]);
}
const trailerBytes = () => entryBytes('TRAILER!!!', 0);

const hostile: Array<[string, () => Uint8Array, string, RegExp]> = [
  ['truncated header', () => entryBytes('a', 0o100644, 'abc').subarray(0, 60), 'TRUNCATED', /bad\.cpio.*cpio header at byte 0/],
  ['truncated name', () => entryBytes('a-long-name', 0o100644).subarray(0, 115), 'TRUNCATED', /cpio name at byte 110/],
  ['truncated data', () => entryBytes('a', 0o100644, 'x'.repeat(100)).subarray(0, 150), 'TRUNCATED', /cpio data of "a" at byte 112/],
  ['no trailer', () => entryBytes('a', 0o100644, 'abc'), 'TRUNCATED', /no TRAILER/],
  ['bad magic mid-archive', () => Buffer.concat([entryBytes('a', 0o100644, 'abc'), Buffer.from('071701'.padEnd(110, '0'))]), 'CORRUPT_IMAGE', /bad magic "071701".*|at byte 116/],
  ['non-hex field', () => Buffer.from(Buffer.from(entryBytes('a', 0o100644)).toString('latin1').replace(/^(.{22})0/, '$1z'), 'latin1'), 'CORRUPT_IMAGE', /uid is not hexadecimal/],
  ['namesize 0', () => entryBytes('a', 0o100644, '', { namesize: 0 }), 'CORRUPT_IMAGE', /empty name/],
  ['namesize 1 (empty name)', () => entryBytes('', 0o100644), 'CORRUPT_IMAGE', /empty name/],
  ['huge namesize', () => entryBytes('a', 0o100644, '', { namesize: 0xffffffff }), 'OVERFLOW', /name of 4294967295 bytes/],
  ['name without NUL', () => Buffer.concat([encodeNewcHeader({ ino: 0, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: 2, check: 0 }), Buffer.from('ab'), trailerBytes()]), 'CORRUPT_IMAGE', /not NUL-terminated/],
  ['file size beyond the source', () => Buffer.concat([entryBytes('a', 0o100644, '', { filesize: 0xfffffff0 }), trailerBytes()]), 'TRUNCATED', /cpio data of "a"/],
  ['.. name', () => Buffer.concat([entryBytes('../etc/passwd', 0o100644, 'x'), trailerBytes()]), 'PATH_ESCAPE', /climbs out/],
  ['unknown file type', () => Buffer.concat([entryBytes('a', 0o170644), trailerBytes()]), 'UNSUPPORTED', /unknown file type/],
  ['root that is a file', () => Buffer.concat([entryBytes('.', 0o100644, 'x'), trailerBytes()]), 'CORRUPT_IMAGE', /root entry/],
  ['huge symlink target size', () => Buffer.concat([entryBytes('l', 0o120777, 'x'.repeat(70000)), trailerBytes()]), 'OVERFLOW', /symlink target/],
  ['crc mismatch', () => Buffer.concat([Buffer.from(Buffer.from(entryBytes('a', 0o100644, 'abc', { check: 5 })).toString('latin1').replace(/^070701/, '070702'), 'latin1'), trailerBytes()]), 'CORRUPT_IMAGE', /data sum 294 does not match the header's 5/],
  ['garbage after the trailer', () => Buffer.concat([entryBytes('a', 0o100644, 'abc'), trailerBytes(), Buffer.from('GARBAGE!')]), 'CORRUPT_IMAGE', /neither a cpio archive nor compressed/],
  ['corrupt gzip segment', () => Buffer.concat([trailerBytes(), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0])]), 'CORRUPT_IMAGE', /gzip segment at byte 124.*corrupt gzip data/],
  ['truncated zstd segment', () => Buffer.concat([trailerBytes(), readFileSync(fixture('initramfs-zstd.img')).subarray(2048, 2100)]), 'TRUNCATED', /zstd segment at byte 124.*truncated zstd data/],
  ['bzip2 segment', () => Buffer.concat([trailerBytes(), Buffer.from('BZh91AY&SY')]), 'UNSUPPORTED', /bzip2-compressed data is not supported/],
];
for (const [label, make, code, message] of hostile) {
  test(`bad input: ${label} → ${code}`, async () => {
    await assert.rejects(loadCpio(bufferSource(make(), 'bad.cpio')), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'ReprimageError', e.stack);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    });
  });
}

test('a corrupt member inside a real initramfs names the segment and the codec', async () => {
  for (const [name, offset] of [['initramfs-gzip.img', 2100], ['initramfs-xz.img', 2200], ['initramfs-lz4legacy.img', 2100], ['initramfs-lz4frame.img', 2100], ['initramfs-zstd.img', 2150]] as const) {
    const bytes = readFileSync(fixture(name));
    bytes[offset] = bytes[offset]! ^ 0x55;
    await assert.rejects(
      (async () => {
        const tree = await loadCpio(bufferSource(bytes, name));
        for (const { node } of tree.walk()) if (node.kind === 'file') await readContent(node.content);
      })(),
      (e: Error & { code?: string }) => e.name === 'ReprimageError' && ['CORRUPT_IMAGE', 'TRUNCATED'].includes(e.code!) && e.message.includes(name),
      name,
    );
  }
});

test('byte flips and cuts of the fixtures raise only ReprimageErrors and never hang (600 runs)', async () => {
  const seeds = ['gnu-newc.cpio', 'gnu-crc.cpio', 'gnu-odc.cpio', 'initramfs-lz4frame.img', 'initramfs-gzip-xz.img'].map((n) => readFileSync(fixture(n)));
  await fc.assert(
    fc.asyncProperty(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(4095), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(4096), async (which, flips, cut) => {
      const good = seeds[which]!;
      const bad = good.slice(0, Math.max(1, Math.min(good.length, cut)));
      for (const [at, value] of flips) if (at < bad.length) bad[at] = value;
      const segments: CpioSegment[] = [];
      try {
        const tree = await loadCpio(bufferSource(bad, 'fuzz'), { onSegment: (s) => segments.push(s) });
        for (const { node } of tree.walk()) if (node.kind === 'file') await readContent(node.content);
      } catch (e) {
        if (!(e instanceof Error) || e.name !== 'ReprimageError') throw e;
      } finally {
        for (const s of segments) if (s.compression) await s.source.close();
      }
    }),
    { numRuns: 600, seed: 20261123 },
  );
});

// --- round trip -----------------------------------------------------------------------------------

const arbName = fc.constantFrom('a', 'b', 'a.b', 'a-b', 'caf\u00e9', 'n'.repeat(120), '\u{1F600}', 'sp ace');
const arbPath = fc.array(arbName, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const arbEntry = fc.record({
  path: arbPath,
  kind: fc.constantFrom('file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket', 'link'),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  gid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  sec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  data: fc.uint8Array({ maxLength: 300 }),
  target: fc.constantFrom('x', '../up', '/abs/target', 't'.repeat(300)),
  dev: fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  linkTo: fc.nat(),
});

test('Tree → cpio → Tree keeps everything newc holds, hard links of every kind included (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(arbEntry, { maxLength: 14 }), fc.constantFrom('' as const, './' as const), async (list, namePrefix) => {
      const tree = new Tree();
      const made: Node[] = [];
      for (const e of list) {
        const meta = newMeta({ mode: e.mode, uid: e.uid, gid: e.gid, mtime: { sec: e.sec, nsec: 0 } });
        const node: Node | undefined =
          e.kind === 'file' ? { kind: 'file', ...meta, content: bytesContent(e.data) }
          : e.kind === 'dir' ? { kind: 'dir', ...meta, children: new Map() }
          : e.kind === 'symlink' ? { kind: 'symlink', ...meta, target: e.target }
          : e.kind === 'char' || e.kind === 'block' ? { kind: e.kind, ...meta, major: e.dev[0], minor: e.dev[1] }
          : e.kind === 'fifo' || e.kind === 'socket' ? { kind: e.kind, ...meta }
          : made.length > 0 ? made[e.linkTo % made.length] : undefined;
        if (!node) continue;
        try {
          tree.set(e.path, node);
          if (node.kind !== 'dir' && !made.includes(node)) made.push(node);
        } catch (err) {
          if ((err as { code?: string }).code !== 'CONFLICT') throw err;
        }
      }
      const bytes = await cpioBytes(tree, { namePrefix });
      assert.equal(bytes.length % 512, 0);
      const back = await loadCpio(bufferSource(bytes, 'prop.cpio'));
      assert.deepEqual(listing(back), listing(tree));
      for (const { path, node, linkTo } of tree.walk()) {
        if (node.kind !== 'file' || linkTo) continue;
        const got = back.get(path);
        assert.ok(got?.kind === 'file');
        assert.deepEqual(Buffer.from(await readContent(got.content)), Buffer.from(await readContent(node.content)), path);
      }
      // writing what was read gives the same bytes again
      assert.equal(sha(await cpioBytes(back, { namePrefix })), sha(bytes));
    }),
    { numRuns: 200, seed: 1123 },
  );
});

test('a fixture written back to disk and re-read is the same file', async (t) => {
  const work = tempDir(t);
  const { tree } = await loadFile(fixture('gnu-links.cpio'), t);
  writeFileSync(join(work, 'again.cpio'), await cpioBytes(tree));
  assert.equal(sha(readFileSync(join(work, 'again.cpio'))), sha(readFileSync(fixture('gnu-links.cpio'))));
});
