// Unit tests of the FAT format without external tools: short names and long-name entries, FAT
// dates, geometry pinned to mkfs.fat's numbers, the reader on committed mkfs.fat + mtools
// fixtures, round trips (examples and fast-check), hard links, and determinism across TZ,
// umask and insertion order in child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { openFat, sniffFat, writeFat, computeGeometry, type FatWriteOptions } from '../../src/formats/fat/index.js';
import { chooseShortNames, foldName, longNameProblem, shortNameChecksum, displayShortName } from '../../src/formats/fat/names.js';
import { decodeFatTime, encodeFatTime, encodeLongNameEntries, decodeLongNameEntry } from '../../src/formats/fat/dir-entry.js';
import { bufferSource } from '../../src/io/source.js';
import { MemorySink } from '../../src/io/sink.js';
import { readContent } from '../../src/tree/content.js';
import { Tree, newDir, type DirNode } from '../../src/tree/tree.js';
import { tempDir } from '../helpers/tools.js';
import { FAT_EPOCH, expectedFatListing, fatSampleTree, fileNode, noise, parseMdir, treeContents, treeFatListing, fatFixtures } from './fat-support.js';

const FIXTURES = fatFixtures();

async function writeToMemory(tree: Tree, options: Partial<FatWriteOptions> = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeFat(tree, sink, { volumeSerial: 0x01020304, buildTime: FAT_EPOCH, ...options });
  return sink.bytes();
}

test('short names: 8.3 names keep their case through the NT bits, others get ~N tails as Linux/Windows do', () => {
  const names = ['README', 'lower.txt', 'Makefile', 'MixedCase.Txt', 'a long name.txt', '.bashrc', 'foo.bar.txt', 'a+b.c', 'ünï.txt', 'UPPER.txt', 'x', 'data.tar.gz'];
  const got = chooseShortNames(names).map((c) => `${c.short}|${c.caseFlags}|${c.needsLongName ? 'L' : '-'}`);
  assert.deepEqual(got, [
    'README     |0|-', 'LOWER   TXT|24|-', 'MAKEFILE   |0|L', 'MIXEDC~1TXT|0|L', 'ALONGN~1TXT|0|L', 'BASHRC~1   |0|L',
    'FOOBAR~1TXT|0|L', 'A_B~1   C  |0|L', '_N_~1   TXT|0|L', 'UPPER   TXT|16|-', 'X          |8|-', 'DATATA~1GZ |0|L',
  ]);
  const many = chooseShortNames(Array.from({ length: 12 }, (_, i) => `long file name ${i}.txt`)).map((c) => c.short);
  assert.deepEqual(many.slice(7), ['LONGFI~8TXT', 'LONGFI~9TXT', 'LONGF~10TXT', 'LONGF~11TXT', 'LONGF~12TXT']);
  // A name that is its own short name is placed first, even when a generated alias sorts earlier.
  assert.deepEqual(chooseShortNames(['123456 78.txt', '123456~1.txt']).map((c) => c.short), ['123456~2TXT', '123456~1TXT']);
});

test('long names: what FAT refuses, case folding, checksum and entry layout', () => {
  for (const bad of ['a/b', 'a:b', 'a*', 'q?', 'tab\t', 'end.', 'end ', '.', '..', 'x'.repeat(256), 'lone\ud800']) assert.ok(longNameProblem(bad), bad);
  for (const good of ['a b', '.hidden', 'x'.repeat(255), 'ünïcödé ✓', '😀.txt', 'a+b=c;[d]']) assert.equal(longNameProblem(good), undefined, good);
  assert.equal(foldName('Straße.TXT'), 'STRAßE.TXT'); // ß has no one-unit upper case: kept
  assert.equal(foldName('émile'), 'ÉMILE');
  // The checksum mtools wrote for "ALONGF~1TEX" (long-name entry at byte 0xb40 of fixtures/fat/fat12.img.gz).
  assert.equal(shortNameChecksum(new Uint8Array(Buffer.from('ALONGF~1TEX', 'latin1'))), 0x7d);
  const out = new Uint8Array(64);
  assert.equal(encodeLongNameEntries('a long name.txt', 0x5a, out, 0), 64);
  const first = decodeLongNameEntry(out, 0);
  const second = decodeLongNameEntry(out, 32);
  assert.deepEqual([first.ord, first.last, second.ord, second.last, first.checksum], [2, true, 1, false, 0x5a]);
  assert.deepEqual(first.units, [0x78, 0x74, 0, ...new Array(10).fill(0xffff)]); // "xt", NUL, padding
  assert.equal(displayShortName(new Uint8Array(Buffer.from('LOWER   TXT')), 0x18), 'lower.txt');
  assert.equal(displayShortName(new Uint8Array(Buffer.from('\x05BC     D  ', 'latin1')), 0), '\u00e5BC.D');
});

test('FAT dates: UTC, two-second steps, clamped to 1980–2107, decoded without throwing', () => {
  const t = encodeFatTime(FAT_EPOCH + 1); // 2023-11-14 22:13:21
  assert.deepEqual(t, { date: ((2023 - 1980) << 9) | (11 << 5) | 14, time: (22 << 11) | (13 << 5) | 10, tenths: 100 });
  assert.equal(decodeFatTime(t.date, t.time), FAT_EPOCH);
  assert.equal(decodeFatTime(t.date, t.time, t.tenths), FAT_EPOCH + 1);
  assert.equal(decodeFatTime(encodeFatTime(-5).date, encodeFatTime(-5).time), 315532800);
  assert.equal(decodeFatTime(encodeFatTime(2 ** 40).date, encodeFatTime(2 ** 40).time), 4354819198);
  assert.ok(Number.isFinite(decodeFatTime(0, 0xffff)) && Number.isFinite(decodeFatTime(0xffff, 0)));
});

test('geometry: the numbers mkfs.fat 4.2 picks (pinned from its -v output)', () => {
  const g = (kib: number, fatType?: 12 | 16 | 32) => {
    const r = computeGeometry({ size: kib * 1024, sectorSize: 512, numFats: 2, fatType });
    return [r.fatType, r.sectorsPerCluster, r.reservedSectors, r.fatSectors, r.rootEntries, r.clusterCount, r.totalSectors, r.sectorsPerTrack, r.numHeads];
  };
  assert.deepEqual(g(8192), [12, 4, 4, 12, 512, 4081, 16384, 32, 2]);
  assert.deepEqual(g(1440), [12, 1, 1, 9, 224, 2847, 2880, 18, 2]);
  assert.deepEqual(g(1024), [12, 4, 1, 2, 512, 502, 2048, 16, 2]);
  assert.deepEqual(g(20480, 16), [16, 4, 4, 40, 512, 10211, 40960, 32, 4]);
  assert.deepEqual(g(34816, 32), [32, 1, 32, 536, 0, 68528, 69632, 32, 8]);
  assert.throws(() => computeGeometry({ size: 8192 * 1024, sectorSize: 512, numFats: 2, fatType: 32 }), /cannot be FAT32/);
  assert.throws(() => computeGeometry({ size: 1000, sectorSize: 512, numFats: 2 }), /multiple of 512/);
});

for (const name of ['fat12', 'fat16', 'fat32'] as const) {
  test(`reads ${name}.img.gz made by mkfs.fat + mcopy: the tree mdir listed, contents by sha256, the fragmented file`, async () => {
    const bytes = new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, `${name}.img.gz`))));
    assert.ok(sniffFat(bytes.subarray(0, 512)));
    const image = await openFat(bufferSource(bytes, `${name}.img`));
    assert.equal(image.type, Number(name.slice(3)));
    assert.equal(image.label, name.toUpperCase());
    assert.equal(image.serial, Number.parseInt(`0a0b0c${name.slice(3)}`, 16));
    const tree = await image.tree();
    assert.deepEqual(treeFatListing(tree), parseMdir(readFileSync(join(FIXTURES, `${name}.mdir.txt`), 'utf8')));
    const expected = new Map(readFileSync(join(FIXTURES, 'contents.sha256'), 'utf8').trim().split('\n').map((l) => {
      const [hash, path] = l.split(/ {2}/);
      return [path!.replace(/^\.\//, ''), hash!] as const;
    }));
    const got = new Map([...(await treeContents(tree))].map(([p, b]) => [p, createHash('sha256').update(b).digest('hex')]));
    assert.deepEqual(got, expected);
    assert.match(readFileSync(join(FIXTURES, `${name}.fragmented.txt`), 'utf8'), /<\d+-\d+> <\d+-\d+>/);
    assert.equal((tree.get('lower.txt') as { mode: number }).mode, 0o644);
  });
}

test('round trip of the sample tree for each FAT type: names, sizes, times, modes, contents', async () => {
  const tree = fatSampleTree({ wide: 100 });
  const expectedContents = await treeContents(tree);
  for (const fatType of [12, 16, 32] as const) {
    const bytes = await writeToMemory(tree, { fatType, label: 'Sample' });
    const image = await openFat(bufferSource(bytes, `sample-${fatType}.img`));
    assert.equal(image.type, fatType);
    assert.equal(image.label, 'SAMPLE');
    assert.equal(image.serial, 0x01020304);
    const back = await image.tree();
    assert.deepEqual(treeFatListing(back), expectedFatListing(tree, FAT_EPOCH));
    const contents = await treeContents(back);
    assert.deepEqual([...contents.keys()].sort(), [...expectedContents.keys()].sort());
    for (const [p, b] of expectedContents) assert.ok(Buffer.from(contents.get(p)!).equals(Buffer.from(b)), p);
    assert.equal(back.get('read-only.dat')!.mode, 0o444);
    assert.equal(back.get('README')!.mode, 0o644);
    // Hard links become two files with the same bytes.
    assert.notEqual(back.get('links/first'), back.get('links/second'));
    if (fatType === 32) assert.deepEqual(image.fsInfo, { freeCount: image.clusterCount - (await usedClusters(bytes, fatType)), nextFree: 2 + (await usedClusters(bytes, fatType)), valid: true });
  }
});

/** Clusters in use according to the first FAT, counted the slow way. */
async function usedClusters(bytes: Uint8Array, fatType: 32): Promise<number> {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const fatAt = v.getUint16(14, true) * 512;
  const image = await openFat(bufferSource(bytes, 'x'));
  let used = 0;
  for (let c = 2; c < image.clusterCount + 2; c++) if ((v.getUint32(fatAt + c * (fatType / 8), true) & 0x0fffffff) !== 0) used++;
  return used;
}

test('default size: whole MiB with at least 10 % of the clusters free; given sizes are honoured or refused', async () => {
  const tree = new Tree();
  tree.set('EFI/BOOT/BOOTX64.EFI', fileNode(noise(3 * 1024 * 1024, 5)));
  const sink = new MemorySink();
  const report = await writeFat(tree, sink, { volumeSerial: 1, buildTime: FAT_EPOCH });
  assert.equal(report.size % (1024 * 1024), 0);
  assert.equal(sink.bytes().length, report.size);
  assert.ok(report.clusterCount - report.usedClusters >= report.usedClusters / 10, JSON.stringify(report));
  assert.equal(report.size, 4 * 1024 * 1024);
  const fat32 = await writeFat(tree, new MemorySink(), { volumeSerial: 1, buildTime: FAT_EPOCH, fatType: 32 });
  assert.ok(fat32.clusterCount >= 65525 && fat32.warnings.length === 0, JSON.stringify(fat32));
  await assert.rejects(writeFat(tree, new MemorySink(), { volumeSerial: 1, buildTime: FAT_EPOCH, size: 2 * 1024 * 1024 }), (e: Error & { code?: string }) => e.code === 'USAGE' && /needs \d+ clusters/.test(e.message));
  const huge = new Tree();
  huge.set('big', { ...fileNode(''), content: { size: 400 * 1024 * 1024, origin: 'never read', chunks: () => { throw new Error('read'); } } });
  const started = performance.now();
  await assert.rejects(writeFat(huge, new MemorySink(), { volumeSerial: 1, buildTime: 0, fatType: 12 }), (e: Error & { code?: string }) => e.code === 'USAGE' && /does not fit in a FAT12 volume of 300 MiB/.test(e.message));
  assert.ok(performance.now() - started < 2000);
  const small32 = await writeFat(new Tree(), new MemorySink(), { volumeSerial: 1, buildTime: FAT_EPOCH, fatType: 32, size: 16 * 1024 * 1024 });
  assert.match(small32.warnings.join('\n'), /FAT32 with only \d+ clusters/);
  // Inside a larger sink: the volume starts where the sink stands, hiddenSectors is recorded.
  const disk = new MemorySink();
  await disk.write(new Uint8Array(1024 * 1024));
  const r = await writeFat(tree, disk, { volumeSerial: 7, buildTime: FAT_EPOCH, hiddenSectors: 2048 });
  const volume = disk.bytes().subarray(1024 * 1024);
  assert.equal(volume.length, r.size);
  assert.equal((await openFat(bufferSource(volume, 'part'))).bootSector.hiddenSectors, 2048);
});

test('bad options and trees: USAGE, CONFLICT, UNSUPPORTED with the entry named', async () => {
  const code = (c: string, re: RegExp) => (e: Error & { code?: string }) => e.code === c && re.test(e.message);
  const t = new Tree();
  t.set('EFI/a.txt', fileNode('x'));
  t.set('EFI/A.TXT', fileNode('y'));
  await assert.rejects(writeToMemory(t), code('CONFLICT', /EFI: the names "A.TXT" and "a.txt" differ only in case/));
  const named = new Tree();
  named.set('what?', fileNode('x'));
  await assert.rejects(writeToMemory(named), code('UNSUPPORTED', /what\?: the name contains "\?"/));
  const skipped = await writeFat(named, new MemorySink(), { volumeSerial: 1, buildTime: 0, skipUnsupported: true });
  assert.deepEqual(skipped.warnings, ['what?: left out: the name contains "?", which FAT cannot store']);
  const dev = new Tree();
  dev.set('dev/null', { kind: 'char', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 }, xattrs: new Map() });
  await assert.rejects(writeToMemory(dev), code('UNSUPPORTED', /dev\/null: it is a char/));
  await assert.rejects(writeToMemory(new Tree(), { label: 'ELEVEN CHARS' }), code('USAGE', /longer than 11/));
  await assert.rejects(writeToMemory(new Tree(), { label: 'A.B' }), code('USAGE', /contains "\."/));
  await assert.rejects(writeToMemory(new Tree(), { volumeSerial: -1 }), code('USAGE', /volumeSerial/));
  await assert.rejects(writeToMemory(new Tree(), { size: 1000 }), code('USAGE', /multiple of 512/));
  await assert.rejects(writeToMemory(new Tree(), { clusterSize: 3000 }), code('USAGE', /power of two/));
  await assert.rejects(writeToMemory(new Tree(), { oemName: 'TOO LONG NAME' }), code('USAGE', /oemName/));
  const lying = new Tree();
  lying.set('f', { ...fileNode('abc'), content: { size: 10, origin: 'liar', async *chunks() { yield new Uint8Array(3); } } });
  await assert.rejects(writeToMemory(lying), code('IO', /f: its contents \(liar\) gave 3 of the declared 10 bytes/));
});

// --- property: Tree → FAT → Tree ------------------------------------------------------------

const nameUnit = fc.constantFrom(...'abcxyzABCXYZ0189 .+_~-;ü€'.split(''), '😀');
const fatName = fc.string({ unit: nameUnit, minLength: 1, maxLength: 16 }).filter((n) => longNameProblem(n) === undefined);
const entryArb = fc.record({
  path: fc.array(fatName, { minLength: 1, maxLength: 3 }),
  dir: fc.boolean(),
  size: fc.oneof(fc.constant(0), fc.nat(3000), fc.nat(70000)),
  mtime: fc.integer({ min: -2e9, max: 5e9 }),
  readOnly: fc.boolean(),
});

/** Builds a tree from entries, dropping any that would collide with a sibling that differs only in case. */
function buildTree(entries: Array<{ path: string[]; dir: boolean; size: number; mtime: number; readOnly: boolean }>): Tree {
  const tree = new Tree();
  entries.forEach((e, i) => {
    let dir: DirNode = tree.root;
    for (let k = 0; k < e.path.length; k++) {
      const name = e.path[k]!;
      const clash = [...dir.children.keys()].find((n) => n !== name && foldName(n) === foldName(name));
      if (clash !== undefined) return;
      const last = k === e.path.length - 1;
      const existing = dir.children.get(name);
      if (existing) {
        if (existing.kind !== 'dir' || last) return;
        dir = existing;
        continue;
      }
      if (last && !e.dir) {
        dir.children.set(name, fileNode(noise(e.size, i + 1), e.mtime, e.readOnly ? 0o444 : 0o640));
        return;
      }
      const child = newDir({ mtime: { sec: e.mtime, nsec: 0 } });
      dir.children.set(name, child);
      dir = child;
    }
  });
  return tree;
}

test('property: any tree FAT can hold comes back with the same names, sizes, times, modes and bytes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(entryArb, { maxLength: 25 }), fc.constantFrom(undefined, 12, 16, 32), fc.integer({ min: 315532800, max: 4e9 }), async (entries, fatType, epoch) => {
      const tree = buildTree(entries);
      const bytes = await writeToMemory(tree, { fatType, buildTime: epoch });
      const back = await (await openFat(bufferSource(bytes, 'prop.img'))).tree();
      assert.deepEqual(treeFatListing(back), expectedFatListing(tree, epoch));
      for (const { path, node } of tree.walk()) {
        if (node.kind !== 'file') continue;
        const got = back.get(path)!;
        assert.equal(got.kind, 'file');
        assert.equal(got.mode, node.mode & 0o222 ? 0o644 : 0o444);
        const clamped = Math.max(315532800, Math.min(node.mtime.sec, epoch));
        assert.equal(got.mtime.sec, clamped - (clamped % 2));
        if (got.kind === 'file') assert.ok(Buffer.from(await readContent(got.content)).equals(Buffer.from(await readContent(node.content))), path);
      }
    }),
    { numRuns: 80, seed: 20240501 },
  );
});

// --- determinism ------------------------------------------------------------------------------

test('same bytes under other TZ, umask and insertion order (child processes)', async (t) => {
  const dir = tempDir(t);
  const writer = new URL('../../src/formats/fat/index.js', import.meta.url).href;
  const sample = new URL('./fat-support.js', import.meta.url).href;
  const atomic = new URL('../../src/io/atomic-output.js', import.meta.url).href;
  const hashes: string[] = [];
  for (const [tz, umask, reverse, fatType] of [['UTC', '022', false, 12], ['Pacific/Kiritimati', '077', true, 12], ['America/St_Johns', '002', false, 12],
    ['UTC', '022', false, 32], ['Asia/Kolkata', '077', true, 32]] as const) {
    const out = join(dir, `${hashes.length}.img`);
    const code = `
      const { writeFat } = await import(${JSON.stringify(writer)});
      const { fatSampleTree, FAT_EPOCH } = await import(${JSON.stringify(sample)});
      const { writeAtomically } = await import(${JSON.stringify(atomic)});
      process.umask(0o${umask});
      await writeAtomically(${JSON.stringify(out)}, (sink) => writeFat(fatSampleTree({ reverse: ${reverse}, wide: 30 }), sink,
        { volumeSerial: 0xcafe, buildTime: FAT_EPOCH, label: 'DET', fatType: ${fatType} }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, TZ: tz, LANG: 'tr_TR.UTF-8' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    hashes.push(`${fatType}:${createHash('sha256').update(readFileSync(out)).digest('hex')}`);
  }
  assert.equal(new Set(hashes).size, 2, hashes.join('\n'));
  assert.equal(hashes[0], hashes[1]);
  assert.equal(hashes[3], hashes[4]);
});

test('a FAT12/16 root with more entries than the default 512 slots gets a larger root directory', async () => {
  const tree = new Tree();
  for (let i = 0; i < 700; i++) tree.set(`root file with long name ${i}`, fileNode(`f${i}`));
  const sink = new MemorySink();
  const report = await writeFat(tree, sink, { volumeSerial: 1, buildTime: FAT_EPOCH, fatType: 16 });
  assert.equal(report.rootEntries, 2816); // 700 × (3 long-name slots + 1), rounded up to whole clusters
  const back = await (await openFat(bufferSource(sink.bytes(), 'root.img'))).tree();
  assert.deepEqual(treeFatListing(back), expectedFatListing(tree, FAT_EPOCH));
});
