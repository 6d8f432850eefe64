// Unit tests of disk assembly (src/image/disk.ts) without external tools: the layout of a GPT and
// an MBR disk written into memory, identifiers derived from the seed (stable when another type of
// partition is added), holes in the output file for zeros, and the `--partition` syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readPartitionTable, partitionTypeGuid } from '../../src/formats/gpt/index.js';
import { writeDisk, type DiskOptions, type DiskPartitionSpec } from '../../src/image/disk.js';
import { parseBytes, parsePartitionArgument } from '../../src/cli/disk.js';
import { MemorySink, FileSink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;

function smallTree(): Tree {
  const tree = new Tree(newDir({ mtime: { sec: 1_700_000_000, nsec: 0 } }));
  tree.set('EFI', newDir({ mtime: { sec: 1_700_000_000, nsec: 0 } }));
  tree.set('EFI/hello.txt', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 1_700_000_000, nsec: 0 }, xattrs: new Map(), content: bytesContent(Buffer.from('hello\n')) });
  return tree;
}

async function diskBytes(partitions: DiskPartitionSpec[], options: Partial<DiskOptions> = {}): Promise<{ bytes: Uint8Array; report: Awaited<ReturnType<typeof writeDisk>> }> {
  const sink = new MemorySink();
  const report = await writeDisk(sink, { partitions, seed: 'unit', buildTime: 1_700_000_000, ...options });
  return { bytes: sink.bytes(), report };
}

test('a GPT disk: 1 MiB aligned partitions, sizes from content or size=, backup at the end', async () => {
  const { bytes, report } = await diskBytes([
    { type: 'esp', content: { kind: 'fat', tree: smallTree() } },
    { type: 'swap', size: 3 * MIB + 512, content: { kind: 'empty' } },
    { type: 'linux-generic', name: 'data', attributes: ['read-only'], content: { kind: 'empty' }, size: MIB },
  ]);
  assert.equal(report.table, 'gpt');
  assert.deepEqual(report.partitions.map((p) => [p.offset, p.size]), [[MIB, MIB], [2 * MIB, 3 * MIB + 512], [6 * MIB, MIB]]);
  assert.equal(report.size, 8 * MIB, '7 MiB of partitions + 33 sectors of backup GPT, rounded up to a MiB');
  assert.equal(bytes.length, report.size);
  const table = await readPartitionTable(bufferSource(bytes, 'mem'));
  assert.equal(table.diskGuid, report.diskGuid);
  assert.deepEqual(table.partitions.map((p) => [p.number, p.typeName, p.name, p.guid, p.offset, p.size, p.attributes]), [
    [1, 'esp', 'esp', report.partitions[0]!.uuid, MIB, MIB, 0n],
    [2, 'swap', 'swap', report.partitions[1]!.uuid, 2 * MIB, 3 * MIB + 512, 0n],
    [3, 'linux-generic', 'data', report.partitions[2]!.uuid, 6 * MIB, MIB, 1n << 60n],
  ]);
  assert.equal(table.header!.lastUsableLba, 8 * 2048 - 34);
  // the FAT knows its place on the disk (BPB_HiddSec)
  assert.equal(Buffer.from(bytes).readUInt32LE(MIB + 28), 2048);
});

test('identifiers come from the seed, by type and rank: adding a partition of another type keeps the others', async () => {
  const esp = { type: 'esp', content: { kind: 'fat' as const, tree: smallTree() } };
  const a = (await diskBytes([esp, { type: 'root-x86-64', size: MIB, content: { kind: 'empty' } }])).report;
  const b = (await diskBytes([esp, { type: 'swap', size: MIB, content: { kind: 'empty' } }, { type: 'root-x86-64', size: MIB, content: { kind: 'empty' } }])).report;
  assert.equal(b.diskGuid, a.diskGuid);
  assert.equal(b.partitions[0]!.uuid, a.partitions[0]!.uuid);
  assert.equal(b.partitions[2]!.uuid, a.partitions[1]!.uuid);
  assert.equal(b.partitions[0]!.filesystemId, a.partitions[0]!.filesystemId);
  const c = (await diskBytes([esp, esp])).report;
  assert.notEqual(c.partitions[0]!.uuid, c.partitions[1]!.uuid, 'two ESPs get two UUIDs');
  assert.notEqual(c.partitions[0]!.filesystemId, c.partitions[1]!.filesystemId);
  const d = (await diskBytes([esp], { seed: 'other' })).report;
  assert.notEqual(d.diskGuid, a.diskGuid);
  assert.notEqual(d.partitions[0]!.uuid, a.partitions[0]!.uuid);
  const given = (await diskBytes([{ ...esp, uuid: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE' }], { diskGuid: '11111111-2222-4333-8444-555555555555' })).report;
  assert.equal(given.partitions[0]!.uuid, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  assert.equal(given.diskGuid, '11111111-2222-4333-8444-555555555555');
  const again = await diskBytes([esp, { type: 'root-x86-64', size: MIB, content: { kind: 'empty' } }]);
  const once = await diskBytes([esp, { type: 'root-x86-64', size: MIB, content: { kind: 'empty' } }]);
  assert.deepEqual(again.bytes, once.bytes);
});

test('an MBR disk: types by name or byte, active flag, signature from the seed or given', async () => {
  const { bytes, report } = await diskBytes([
    { type: 'esp', bootable: true, content: { kind: 'fat', tree: smallTree() } },
    { type: '0x0c', size: MIB, content: { kind: 'empty' } },
  ], { table: 'mbr' });
  assert.equal(report.size, 3 * MIB);
  const table = await readPartitionTable(bufferSource(bytes, 'mem'));
  assert.equal(table.scheme, 'mbr');
  assert.equal(table.diskSignature, report.diskSignature);
  assert.deepEqual(table.partitions.map((p) => [p.mbrType, p.bootable, p.offset, p.size]), [[0xef, true, MIB, MIB], [0x0c, false, 2 * MIB, MIB]]);
  const given = await diskBytes([{ type: 'swap', size: MIB, content: { kind: 'empty' } }], { table: 'mbr', diskSignature: 0x1234abcd });
  assert.equal((await readPartitionTable(bufferSource(given.bytes, 'mem'))).diskSignature, 0x1234abcd);
});

test('usage errors come before anything is written', async () => {
  const refuse = async (partitions: DiskPartitionSpec[], pattern: RegExp, options: Partial<DiskOptions> = {}) => {
    const sink = new MemorySink();
    await assert.rejects(writeDisk(sink, { partitions, seed: 's', buildTime: 0, ...options }), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && pattern.test(e.message));
  };
  await refuse([], /at least one partition/);
  await refuse([{ type: 'nope', size: MIB, content: { kind: 'empty' } }], /unknown partition type "nope"/);
  await refuse([{ type: 'swap', content: { kind: 'empty' } }], /needs a size/);
  await refuse([{ type: 'swap', size: 1000, content: { kind: 'empty' } }], /multiple of 512/);
  await refuse([{ type: 'swap', size: MIB, content: { kind: 'empty' } }], /at least \d+ bytes/, { size: MIB });
  await refuse([{ type: 'swap', size: MIB, name: 'x', content: { kind: 'empty' } }], /need a GPT/, { table: 'mbr' });
  await refuse(Array.from({ length: 5 }, () => ({ type: 'swap', size: MIB, content: { kind: 'empty' as const } })), /at most 4/, { table: 'mbr' });
  await refuse([{ type: 'swap', size: MIB, content: { kind: 'empty' } }], /alignment/, { alignment: 100 });
});

test('zeros become holes in the output file; the bytes read back are the same', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'disk.img');
  const fh = await open(path, 'w+');
  const sink = new FileSink(fh, path);
  const report = await writeDisk(sink, {
    partitions: [{ type: 'esp', content: { kind: 'fat', tree: smallTree() } }, { type: 'swap', size: 64 * MIB, content: { kind: 'empty' } }],
    seed: 'unit', buildTime: 1_700_000_000,
  });
  await sink.flush();
  await fh.truncate(sink.position);
  await fh.close();
  const info = await stat(path);
  assert.equal(info.size, report.size);
  assert.ok(info.blocks * 512 < 1 * MIB, `${info.blocks * 512} bytes allocated for a ${info.size}-byte disk`);
  const mem = await diskBytes([{ type: 'esp', content: { kind: 'fat', tree: smallTree() } }, { type: 'swap', size: 64 * MIB, content: { kind: 'empty' } }]);
  const { readFile } = await import('node:fs/promises');
  assert.ok(Buffer.from(mem.bytes).equals(await readFile(path)), 'sparse file and memory image hold the same bytes');
});

test('--partition syntax: TYPE[:FIELD]…[=SOURCE]', () => {
  assert.deepEqual(parsePartitionArgument('esp=boot/'), { type: 'esp', fields: {}, source: 'boot/' });
  assert.deepEqual(parsePartitionArgument('root-x86-64:ext4=/a:b=c'), { type: 'root-x86-64', format: 'ext4', fields: {}, source: '/a:b=c' });
  assert.deepEqual(parsePartitionArgument('swap:size=64M'), { type: 'swap', fields: { size: '64M' } });
  assert.deepEqual(parsePartitionArgument('usr:squashfs:name=usr A:attrs=read-only+60:uuid=01234567-89ab-4cde-8f01-23456789abcd=x.tar'), {
    type: 'usr', format: 'squashfs', fields: { name: 'usr A', attrs: 'read-only+60', uuid: '01234567-89ab-4cde-8f01-23456789abcd' }, source: 'x.tar',
  });
  assert.throws(() => parsePartitionArgument(':ext4=x'), /starts with a partition type/);
  assert.throws(() => parsePartitionArgument('esp:fat:ext4=x'), /two formats/);
  assert.throws(() => parsePartitionArgument('esp:colour=red'), /unknown field "colour"/);
  assert.throws(() => parsePartitionArgument('esp='), /nothing after "="/);
  assert.equal(parseBytes('64M', 'x'), 64 * MIB);
  assert.equal(parseBytes('2GiB', 'x'), 2 * 1024 * MIB);
  assert.equal(parseBytes('4096', 'x'), 4096);
  assert.throws(() => parseBytes('0', 'x'), ReprimageError);
  assert.throws(() => parseBytes('1.5G', 'x'), ReprimageError);
  assert.equal(partitionTypeGuid('usr'), partitionTypeGuid('usr-x86-64'));
});

test('property: any list of partitions written as a disk reads back with the same types, names, attributes, sizes and UUIDs', async () => {
  const { GPT_PARTITION_TYPES } = await import('../../src/formats/gpt/index.js');
  const fc = (await import('fast-check')).default;
  const spec = fc.record({
    type: fc.constantFrom(...GPT_PARTITION_TYPES.map(([n]) => n)),
    name: fc.option(fc.string({ maxLength: 36 }).filter((s) => !s.includes('\u0000')), { nil: undefined }),
    attributes: fc.uniqueArray(fc.constantFrom('required', 'no-block-io', 'legacy-bios-bootable', 'read-only', 'hidden', 'no-auto', '48', '55'), { maxLength: 4 }),
    sectors: fc.integer({ min: 1, max: 5000 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 6 }), fc.constantFrom(4096, 1 << 20), async (specs, alignment) => {
      const { bytes, report } = await diskBytes(specs.map((s) => ({ type: s.type, name: s.name, attributes: s.attributes, size: s.sectors * 512, content: { kind: 'empty' as const } })), { alignment });
      const table = await readPartitionTable(bufferSource(bytes, 'prop'));
      assert.equal(table.partitions.length, specs.length);
      table.partitions.forEach((p, i) => {
        const s = specs[i]!;
        assert.equal(p.typeGuid, partitionTypeGuid(s.type));
        assert.equal(p.name, s.name ?? s.type);
        assert.equal(p.size, s.sectors * 512);
        assert.equal(p.offset % alignment, 0);
        assert.equal(p.guid, report.partitions[i]!.uuid);
        assert.equal(`0x${p.attributes!.toString(16).padStart(16, '0')}`, report.partitions[i]!.attributes);
      });
      assert.equal(new Set(table.partitions.map((p) => p.guid)).size, specs.length, 'partition UUIDs are distinct');
    }),
    { numRuns: 60 },
  );
});
