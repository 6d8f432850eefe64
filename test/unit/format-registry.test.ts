// The format registry (src/formats/registry.ts) as docs/formats/adding-a-format.md describes it: the list itself,
// every format opened the way `ls`, `pack` and `diff` open inputs, every output `pack` writes read
// back as its own format, and one fixture per format sniffed as that format and no other.
// Fixtures made by reference tools where the repository has one (GNU cpio, Go archive/tar,
// mke2fs, mkfs.fat, ar, Info-ZIP zip: see each fixture directory's README); SquashFS, ISO 9660,
// the partitioned disk and the Debian package are made here by our writers, whose oracle tests
// check them against the reference tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FORMATS, SNIFF_HEAD_SIZE, SNIFF_TAIL_SIZE, formatById, sniffFormat, writeFormat } from '../../src/formats/registry.js';
import { seededIdentifiers } from '../../src/tree/id-purposes.js';
import { FORMAT_COMPARATORS, defaultComparators } from '../../src/diff/registry.js';
import { sourceBlob } from '../../src/diff/blob.js';
import { diffBlobs } from '../../src/diff/engine.js';
import { renderText } from '../../src/diff/presenters/text.js';
import { openSource, openTree } from '../../src/image/open-tree.js';
import { packTree, type PackOptions } from '../../src/image/pack.js';
import { OUTPUT_FORMATS, chooseOutput } from '../../src/image/output-formats.js';
import { writeDisk } from '../../src/image/disk.js';
import { writeAr } from '../../src/formats/ar/index.js';
import { writeGceTarball } from '../../src/formats/gce/index.js';
import { writeQcow2 } from '../../src/formats/qcow2/index.js';
import { writeVhd } from '../../src/formats/vhd/index.js';
import { writeVmdk } from '../../src/formats/vmdk/index.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, newMeta } from '../../src/tree/tree.js';
import { REPO } from '../helpers/cli.js';

const FIXTURES = join(REPO, 'test', 'fixtures');
const EPOCH = 1_700_000_000;

function sampleTree(withSymlink = true): Tree {
  const tree = new Tree(newDir({ mtime: { sec: EPOCH, nsec: 0 } }));
  const meta = newMeta({ mode: 0o644, mtime: { sec: EPOCH, nsec: 0 } });
  tree.set('etc/hostname', { kind: 'file', ...meta, content: bytesContent(new TextEncoder().encode('registry\n')) }, { mtime: { sec: EPOCH, nsec: 0 } });
  tree.set('usr/share/doc/readme', { kind: 'file', ...meta, content: bytesContent(new TextEncoder().encode('x'.repeat(5000))) }, { mtime: { sec: EPOCH, nsec: 0 } });
  if (withSymlink) tree.set('etc/link', { kind: 'symlink', ...meta, mode: 0o777, target: 'hostname' });
  return tree;
}

function packOptions(): PackOptions {
  return {
    tarFormat: 'gnu', gzipLevel: 9, buildTime: EPOCH, seed: 'registry-test', workers: 1, warn: () => undefined,
    squashfs: { compressor: 'gzip', blockSize: 131072, noFragments: false, noDuplicates: false },
    iso: { volumeId: 'REGISTRY', gpt: false },
    fat: { skipUnsupported: true },
  };
}

async function packed(output: string, tree = sampleTree(output !== 'fat')): Promise<Uint8Array> {
  const sink = new MemorySink();
  await packTree(tree, output, sink, packOptions());
  return sink.bytes();
}

/** One input per registry format: the bytes, and where they came from. */
async function fixtures(): Promise<Map<string, { bytes: Uint8Array; from: string }>> {
  const file = (rel: string) => ({ bytes: new Uint8Array(readFileSync(join(FIXTURES, rel))), from: rel });
  const gz = (rel: string) => ({ bytes: new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, rel)))), from: rel });
  const disk = new MemorySink();
  await writeDisk(disk, {
    partitions: [{ type: 'esp', content: { kind: 'fat', tree: sampleTree(false) } }, { type: 'linux-generic', size: 1 << 20, content: { kind: 'empty' } }],
    seed: 'registry-test', buildTime: EPOCH,
  });
  return new Map([
    ['cpio', file('cpio/gnu-newc.cpio')],
    ['tar', file('tar/go-archive.tar')],
    ['ext4', gz('ext4/ext2.img.gz')],
    ['fat', gz('fat/fat12.img.gz')],
    ['ar', file('normalize/ar-static.a')],
    ['zip', file('normalize/zip-infozip.zip')],
    ['squashfs', { bytes: await packed('squashfs'), from: 'our SquashFS writer' }],
    ['iso9660', { bytes: await packed('iso'), from: 'our ISO 9660 writer' }],
    ['disk', { bytes: disk.bytes(), from: 'our disk writer (GPT, FAT partition)' }],
    // the same disk in the VM image formats (their oracle tests check them against qemu-img)
    ['qcow2', { bytes: await vmImage(disk.bytes(), (src, s) => writeQcow2(src, s)), from: 'our qcow2 writer (the GPT disk)' }],
    ['vhd', { bytes: await vmImage(disk.bytes(), (src, s) => writeVhd(src, s, { type: 'dynamic', seed: 'registry-test', buildTime: EPOCH })), from: 'our dynamic VHD writer (the GPT disk)' }],
    ['vmdk', { bytes: await vmImage(disk.bytes(), (src, s) => writeVmdk(src, s, { seed: 'registry-test', workers: 1 })), from: 'our VMDK writer (the GPT disk)' }],
  ]);
}

async function vmImage(raw: Uint8Array, write: (source: ReturnType<typeof bufferSource>, sink: MemorySink) => Promise<unknown>): Promise<Uint8Array> {
  const sink = new MemorySink();
  await write(bufferSource(raw, 'disk'), sink);
  return sink.bytes();
}

/**
 * Disks in VM image formats (handlers with `openDisk`) share the disk comparator's id, so that
 * `diff a.qcow2 b.vhd` compares two disks (src/diff/comparators/vm-disk.ts).
 */
const comparatorId = (id: string) => (['qcow2', 'vhd', 'vmdk'].includes(id) ? 'disk' : id);

/** A Debian package: debian-binary, control.tar, data.tar (uncompressed, as dpkg-deb -Znone writes it). */
async function debPackage(): Promise<Uint8Array> {
  const control = new Tree(newDir());
  control.set('control', { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(new TextEncoder().encode('Package: t\n')) });
  const members = [
    { name: 'debian-binary', data: new TextEncoder().encode('2.0\n') },
    { name: 'control.tar', data: await packed('tar', control) },
    { name: 'data.tar.xz', data: await packed('tar.xz') },
  ];
  const sink = new MemorySink();
  await writeAr(sink, members.map((m) => ({ name: m.name, mtime: EPOCH, uid: 0, gid: 0, mode: 0o100644, size: m.data.length, data: m.data })));
  return sink.bytes();
}

test('the registry: unique ids and suffixes, writers where it says so, a comparator for each, one order for ls, pack and diff', async () => {
  assert.deepEqual(FORMATS.map((f) => f.id), ['cpio', 'squashfs', 'iso9660', 'ext4', 'fat', 'qcow2', 'vhd', 'vmdk', 'disk', 'ar', 'zip', 'tar']);
  assert.equal(new Set(FORMATS.map((f) => f.id)).size, FORMATS.length);
  const suffixes = FORMATS.flatMap((f) => f.suffixes);
  assert.equal(new Set(suffixes).size, suffixes.length, 'a suffix names one format');
  for (const f of FORMATS) {
    const handler = await f.load();
    assert.equal(handler.write !== undefined, f.writable, `${f.id}: writable says whether load() gives a writer`);
    assert.equal(f.outputNames.length > 0, f.writable, `${f.id}: an output name exactly when written`);
    assert.ok(FORMAT_COMPARATORS.has(f.id), `${f.id}: diff has a comparator`);
    assert.equal(formatById(f.id), f);
    // pack writes every format that has a writer, under its first output name
    if (f.writable) assert.ok(OUTPUT_FORMATS.includes(f.outputNames[0]!), `${f.id}: pack writes it as ${f.outputNames[0]}`);
  }
  // the disk-image formats are those whose handler opens a disk; diff compares them as disks
  const diskImages: string[] = [];
  for (const f of FORMATS) if ((await f.load()).openDisk) diskImages.push(f.id);
  assert.deepEqual(diskImages, ['qcow2', 'vhd', 'vmdk']);
  assert.deepEqual(FORMATS.filter((f) => f.diskImage).map((f) => f.id), diskImages, 'diskImage says whether load() gives openDisk');
  // diff tries the formats in the registry's order, then the compressed streams
  assert.deepEqual(defaultComparators.slice(0, FORMATS.length).map((c) => c.id), FORMATS.map((f) => comparatorId(f.id)));
  assert.deepEqual(OUTPUT_FORMATS, ['tar', 'tar.gz', 'tar.xz', 'tar.zst', 'cpio', 'cpio.gz', 'cpio.xz', 'cpio.zst', 'squashfs', 'iso', 'fat', 'ext4']);
  for (const [name, output] of [['a.tgz', 'tar.gz'], ['a.tar.zst', 'tar.zst'], ['a.txz', 'tar.xz'], ['A.CPIO.XZ', 'cpio.xz'], ['a.sqfs', 'squashfs'], ['a.esp', 'fat']]) {
    assert.equal(chooseOutput(name!, undefined).name, output, name);
  }
});

test('a fixture of each format is sniffed as that format and no other', async () => {
  const all = await fixtures();
  all.set('ar', { bytes: await debPackage(), from: 'a Debian package' });
  assert.deepEqual([...all.keys()].sort(), FORMATS.map((f) => f.id).sort(), 'one fixture per registry format');
  for (const [id, { bytes, from }] of all) {
    const head = bytes.subarray(0, SNIFF_HEAD_SIZE);
    const claimed: string[] = [];
    for (const f of FORMATS) if ((await f.load()).sniff(head, bytes.length)) claimed.push(f.id);
    assert.deepEqual(claimed, [id], `${from} is sniffed as ${id} only`);
    // diff's comparators agree, one of them only
    const comparators = [...new Set(defaultComparators.filter((c) => c.recognizes(head, bytes.length)))].map((c) => c.id);
    assert.deepEqual(comparators, [comparatorId(id)], `${from}: diff recognizes it as ${comparatorId(id)} only`);
  }
});

test('a hybrid ISO as the live and installer ISOs are (MBR, GPT, an appended ESP) is sniffed as ISO 9660 and as a disk, and the one order opens it as ISO 9660', async () => {
  const ctx = { buildTime: EPOCH, ids: seededIdentifiers('registry-test'), warn: () => undefined };
  const esp = new MemorySink();
  await writeFormat('fat', sampleTree(false), esp, ctx, { fat: { label: 'EFIBOOT' } });
  const medium = sampleTree();
  medium.set('isolinux/isolinux.bin', { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(new Uint8Array(4096).fill(0xeb)) });
  const iso = new MemorySink();
  await writeFormat('iso9660', medium, iso, ctx, { iso: { volumeId: 'HYBRID', biosBoot: 'isolinux/isolinux.bin', hybridMbr: new Uint8Array(432).fill(0x90), gpt: true, efiAppended: bytesContent(esp.bytes(), 'efi.img') } });
  const bytes = iso.bytes();
  const head = bytes.subarray(0, SNIFF_HEAD_SIZE);
  const claimed: string[] = [];
  for (const f of FORMATS) if ((await f.load()).sniff(head, bytes.length)) claimed.push(f.id);
  assert.deepEqual(claimed, ['iso9660', 'disk'], 'its MBR and GPT are a disk too');
  // the registry's order decides: ISO 9660 comes before the partitioned disk, for ls, pack and diff
  const tail = bytes.subarray(bytes.length - SNIFF_TAIL_SIZE);
  assert.equal((await sniffFormat(head, bytes.length, tail))?.format.id, 'iso9660');
  assert.equal(defaultComparators.find((c) => c.recognizes(head, bytes.length))?.id, 'iso9660');
  const opened = await openSource(bufferSource(bytes, 'hybrid.iso'), [], { warn: () => undefined });
  try {
    assert.equal(opened.format, 'iso9660');
  } finally {
    await opened.close();
  }
  await assert.rejects(writeFormat('qcow2', sampleTree(), new MemorySink(), ctx), { name: 'ReprimageError', code: 'USAGE' });
});

test('a fixed VHD, known only by its footer, is claimed by the tail sniff of vhd alone, before any head', async () => {
  const raw = (await fixtures()).get('disk')!.bytes;
  const fixed = await vmImage(raw, (src, s) => writeVhd(src, s, { type: 'fixed', seed: 'registry-test', buildTime: EPOCH }));
  const tail = fixed.subarray(fixed.length - SNIFF_TAIL_SIZE);
  const claimed: string[] = [];
  for (const f of FORMATS) if ((await f.load()).sniffTail?.(tail, fixed.length)) claimed.push(f.id);
  assert.deepEqual(claimed, ['vhd']);
  // its head is the raw disk's: without the tail it would be taken for one
  assert.equal((await sniffFormat(fixed.subarray(0, SNIFF_HEAD_SIZE), fixed.length))?.format.id, 'disk');
  assert.equal((await sniffFormat(fixed.subarray(0, SNIFF_HEAD_SIZE), fixed.length, tail))?.format.id, 'vhd');
  const opened = await openSource(bufferSource(fixed, 'fixed.vhd'), [], { warn: () => undefined });
  try {
    assert.match(opened.format, /^vhd ▸ gpt \(p1-.*: fat/);
  } finally {
    await opened.close();
  }
});

test('diff compares a qcow2 and a fixed VHD (known by its tail) as the disks they hold, through the registry', async () => {
  const diskOf = async (hostname: string) => {
    const tree = sampleTree(false);
    tree.set('etc/hostname', { kind: 'file', ...newMeta({ mode: 0o644, mtime: { sec: EPOCH, nsec: 0 } }), content: bytesContent(new TextEncoder().encode(hostname)) });
    const sink = new MemorySink();
    await writeDisk(sink, { partitions: [{ type: 'esp', content: { kind: 'fat', tree } }], seed: 'registry-test', buildTime: EPOCH });
    return sink.bytes();
  };
  const qcow2 = await vmImage(await diskOf('one\n'), (src, s) => writeQcow2(src, s));
  const vhd = await vmImage(await diskOf('two\n'), (src, s) => writeVhd(src, s, { type: 'fixed', seed: 'registry-test', buildTime: EPOCH }));
  const side = (bytes: Uint8Array, name: string) => ({ name, blob: sourceBlob(bufferSource(bytes, name)) });
  const d = await diffBlobs(side(qcow2, 'a.qcow2'), side(vhd, 'b.vhd'));
  assert.ok(d);
  const text = renderText(d);
  assert.doesNotMatch(text, /formats differ/);
  // both image headers are described, the disks' partitions are paired, the one file differs
  assert.match(text, /│\s+-format: qcow2/);
  assert.match(text, /│\s+\+format: vhd/);
  assert.match(text, /etc\/hostname/);
  assert.match(text, /-one\n.*\+two/s);
});

test('a GCE image is no format of its own: a gzip layer, then a tar sniffed as tar only, holding disk.raw', async () => {
  const fixture = (await fixtures()).get('disk')!;
  const sink = new MemorySink();
  await writeGceTarball(bufferSource(fixture.bytes, 'disk'), sink, { buildTime: EPOCH });
  const tar = new Uint8Array(gunzipSync(sink.bytes()));
  const claimed: string[] = [];
  for (const f of FORMATS) if ((await f.load()).sniff(tar.subarray(0, SNIFF_HEAD_SIZE), tar.length)) claimed.push(f.id);
  assert.deepEqual(claimed, ['tar']);
  const opened = await openSource(bufferSource(sink.bytes(), 'disk.tar.gz'), [], { warn: () => undefined });
  try {
    assert.equal(opened.format, 'gzip ▸ tar');
    assert.deepEqual([...opened.tree.walk()].map((e) => e.path).filter((p) => p !== ''), ['disk.raw']);
  } finally {
    await opened.close();
  }
});

test('every format opens as ls and pack open inputs, converts to tar as pack does, and opens in diff', async () => {
  const all = await fixtures();
  all.set('deb', { bytes: await debPackage(), from: 'a Debian package' });
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-registry-'));
  try {
    for (const [id, { bytes, from }] of all) {
      // ls and pack: openTree on a file
      const path = join(dir, `input-${id}`);
      writeFileSync(path, bytes);
      const opened = await openTree(path, { warn: () => undefined });
      try {
        const expected = id === 'disk' ? /^gpt \(p1-.*: fat/ : ['qcow2', 'vhd', 'vmdk'].includes(id) ? new RegExp(`^${id} ▸ gpt \\(p1-.*: fat`) : id === 'deb' ? /^deb \(data\.tar\.xz: xz ▸ tar\)$/ : new RegExp(`^${id}$`);
        assert.match(opened.format, expected, from);
        assert.ok([...opened.tree.walk()].length > 1, `${from}: entries`);
        const sink = new MemorySink();
        await packTree(opened.tree, 'tar', sink, packOptions());
        assert.ok(sink.position > 1024, `${from}: pack wrote it as tar`);
      } finally {
        await opened.close();
      }
      // diff: the comparator of the format opens it and lists members
      const comparator = FORMAT_COMPARATORS.get(id === 'deb' ? 'ar' : id)!;
      const container = await comparator.open({ name: from, path: from, blob: sourceBlob(bufferSource(bytes, from)), warn: () => undefined });
      try {
        assert.ok((await container.members()).length > 0, `${from}: diff sees members`);
      } finally {
        await container.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every output pack writes reads back as its own format with the same entries', async () => {
  for (const output of OUTPUT_FORMATS) {
    const choice = chooseOutput('', output);
    const tree = sampleTree(choice.format.id !== 'fat');
    const bytes = await packed(output, tree);
    const opened = await openSource(bufferSource(bytes, output), [], { warn: () => undefined });
    try {
      const layer = choice.compression === undefined ? '' : `${choice.compression} ▸ `;
      assert.equal(opened.format, `${layer}${choice.format.id}`, output);
      const paths = (t: Tree) => [...t.walk()].map((e) => e.path).filter((p) => p !== 'lost+found');
      assert.deepEqual(paths(opened.tree), paths(tree), `${output}: entries`);
    } finally {
      await opened.close();
    }
  }
});

test('pack stops at the next write once its AbortSignal is aborted', async () => {
  const controller = new AbortController();
  const sink = new MemorySink();
  let writes = 0;
  const counting = { ...sink, get position() { return sink.position; }, write: (b: Uint8Array) => (++writes === 3 && controller.abort(new Error('stop here')), sink.write(b)), writeAt: sink.writeAt.bind(sink), flush: sink.flush.bind(sink) };
  await assert.rejects(packTree(sampleTree(), 'tar', counting, { ...packOptions(), signal: controller.signal }), /stop here/);
  assert.ok(writes >= 3 && writes < 10, `stopped after ${writes} writes`);
  await assert.rejects(packTree(sampleTree(), 'squashfs', new MemorySink(), { ...packOptions(), signal: AbortSignal.abort() }), { name: 'ReprimageError', code: 'ABORTED' });
});

test('disk, the live and installer ISOs and pack reach writers only through the registry', () => {
  for (const file of ['src/image/disk.ts', 'src/image/live-iso.ts', 'src/image/installer-iso.ts', 'src/image/pack.ts', 'src/image/write-image.ts']) {
    const text = readFileSync(join(REPO, file), 'utf8');
    // a type import is fine; a value import of a format's writer would bypass the registry
    const direct = text.split('\n').filter((line) => !/^import type /.test(line) && /formats\/(tar|cpio|squashfs|iso9660|ext4|fat|zip|ar)\/(index|writer)\.js/.test(line));
    assert.deepEqual(direct, [], `${file} imports a writer directly`);
  }
});
