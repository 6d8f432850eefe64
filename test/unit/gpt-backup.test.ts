// Unit tests of the GPT reader's fallback to the backup GPT, on disks made by our disk writer in
// memory: a damaged primary header or entry array is replaced by the backup in the last sector
// (with a warning), a damaged or missing backup is a warning, both damaged is one error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildGptTables, crc32, decodeGptHeader, encodeGptHeader, partitionTypeGuid, protectiveMbr, readPartitionTable, sniffPartitionTable, type GptEntry, type GptHeader,
} from '../../src/formats/gpt/index.js';
import { writeDisk } from '../../src/image/disk.js';
import { openTree } from '../../src/image/open-tree.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

const MIB = 1 << 20;
/** 1 MiB ESP + 2 MiB data, then the backup GPT: 5 MiB, 10240 sectors. */
const SECTORS = 10240;
const LAST = SECTORS - 1;
const BACKUP_ENTRIES = SECTORS - 33;

async function ourDisk(): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeDisk(sink, {
    seed: 'gpt-backup', buildTime: 1_700_000_000,
    partitions: [
      { type: 'esp', size: MIB, content: { kind: 'empty' } },
      { type: 'linux-generic', name: 'data ✓', attributes: ['read-only'], size: 2 * MIB, content: { kind: 'empty' } },
    ],
  });
  const bytes = sink.bytes();
  assert.equal(bytes.length, SECTORS * 512);
  return bytes;
}

/** Reads `bytes` as `disk.img`, collecting the warnings. */
async function read(bytes: Uint8Array) {
  const warnings: string[] = [];
  const table = await readPartitionTable(bufferSource(bytes, 'disk.img'), { warn: (m) => warnings.push(m) });
  assert.deepEqual(table.problems, warnings, 'the table lists the warnings it gave');
  return { table, warnings };
}

function layout(t: Awaited<ReturnType<typeof readPartitionTable>>) {
  return { diskGuid: t.diskGuid, parts: t.partitions.map((p) => [p.number, p.offset, p.size, p.typeGuid, p.guid, p.name, p.attributes]) };
}

test('the intact disk reads from the primary without warnings', async () => {
  const { table, warnings } = await read(await ourDisk());
  assert.deepEqual(warnings, []);
  assert.equal(table.gptCopy, 'primary');
  assert.equal(table.header!.myLba, 1);
  assert.equal(table.backupHeader!.myLba, LAST);
  assert.deepEqual(table.partitions.map((p) => [p.offset, p.size, p.name, p.typeGuid]), [
    [MIB, MIB, 'esp', partitionTypeGuid('esp')],
    [2 * MIB, 2 * MIB, 'data ✓', partitionTypeGuid('linux-generic')],
  ]);
});

test('primary header zeroed: the backup in the last sector is used, with a warning', async () => {
  const disk = await ourDisk();
  const intact = layout((await read(disk)).table);
  const damaged = disk.slice();
  damaged.fill(0, 512, 1024);
  assert.ok(sniffPartitionTable(damaged.subarray(0, 65536)), 'the protective MBR still marks it as a disk');
  const { table, warnings } = await read(damaged);
  assert.deepEqual(layout(table), intact);
  assert.equal(table.gptCopy, 'backup');
  assert.equal(table.header!.myLba, LAST);
  assert.deepEqual(warnings, [`disk.img: the primary GPT is damaged (corrupt GPT header at byte 512: no "EFI PART" signature); using the backup GPT at sector ${LAST}`]);
});

test('primary header with a bad CRC or a bad signature: the backup is used', async () => {
  const disk = await ourDisk();
  const intact = layout((await read(disk)).table);
  const badCrc = disk.slice();
  badCrc[512 + 56]! ^= 0x10; // a byte of the disk GUID
  let r = await read(badCrc);
  assert.deepEqual(layout(r.table), intact, 'the disk GUID is the backup\'s, not the altered one');
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /^disk\.img: the primary GPT is damaged \(corrupt GPT header at byte 512: header CRC .*\); using the backup GPT at sector 10239$/);
  const badSignature = disk.slice();
  badSignature[512 + 7] = 0x58; // "EFI PARX"
  r = await read(badSignature);
  assert.deepEqual(layout(r.table), intact);
  assert.match(r.warnings[0]!, /primary GPT is damaged \(.*no "EFI PART" signature\)/);
  // a primary that is sound by its CRC but says it is elsewhere is damaged too
  const moved = disk.slice();
  moved.set(rewriteHeader(disk.subarray(512, 1024), (h) => ({ ...h, myLba: 5 })), 512);
  r = await read(moved);
  assert.equal(r.table.gptCopy, 'backup');
  assert.match(r.warnings[0]!, /primary GPT header at byte 512: it says it is at sector 5, not 1/);
});

test('one byte of the primary entry array flipped: the backup entries are used', async () => {
  const disk = await ourDisk();
  const intact = layout((await read(disk)).table);
  const damaged = disk.slice();
  damaged[1024 + 128 + 56]! ^= 1; // first letter of partition 2's name
  const { table, warnings } = await read(damaged);
  assert.deepEqual(layout(table), intact, 'the name is the backup\'s "data ✓", not the flipped one');
  assert.equal(table.gptCopy, 'backup');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^disk\.img: the primary GPT is damaged \(corrupt primary GPT entry array at byte 1024: CRC is 0x[0-9a-f]{8}, the entries sum to 0x[0-9a-f]{8}\); using the backup GPT at sector 10239$/);
});

test('backup damaged: the primary is used, with a warning', async () => {
  const disk = await ourDisk();
  const intact = layout((await read(disk)).table);
  const badHeader = disk.slice();
  badHeader[LAST * 512 + 40]! ^= 1; // first usable LBA
  let r = await read(badHeader);
  assert.deepEqual(layout(r.table), intact);
  assert.equal(r.table.gptCopy, 'primary');
  assert.equal(r.table.backupHeader, undefined);
  assert.deepEqual(r.warnings, [`disk.img: the backup GPT at sector ${LAST} is damaged (corrupt GPT header at byte ${LAST * 512}: header CRC is 0x${hex(badHeader, LAST * 512 + 16)}, the header sums to 0x${crcOfHeader(badHeader, LAST * 512)}); using the primary GPT`]);
  const badEntries = disk.slice();
  badEntries[BACKUP_ENTRIES * 512 + 40]! ^= 1; // partition 1's last LBA
  r = await read(badEntries);
  assert.deepEqual(layout(r.table), intact);
  assert.match(r.warnings[0]!, new RegExp(`^disk\\.img: the backup GPT at sector ${LAST} is damaged \\(corrupt backup GPT entry array at byte ${BACKUP_ENTRIES * 512}: CRC`));
  // a sound backup that describes other partitions
  const other = disk.slice();
  other.set(rewriteHeader(disk.subarray(LAST * 512), (h) => ({ ...h, diskGuid: '00000000-0000-4000-8000-000000000001' })), LAST * 512);
  r = await read(other);
  assert.deepEqual(layout(r.table), intact);
  assert.match(r.warnings[0]!, /the backup GPT at sector 10239 differs from the primary \(disk GUID 00000000-0000-4000-8000-000000000001, not [0-9a-f-]{36}\); using the primary GPT/);
});

test('both copies damaged: one error naming the file and both problems', async () => {
  const disk = await ourDisk();
  const damaged = disk.slice();
  damaged.fill(0, 512, 1024);
  damaged[BACKUP_ENTRIES * 512 + 200]! ^= 0x80;
  const warnings: string[] = [];
  await assert.rejects(readPartitionTable(bufferSource(damaged, 'disk.img'), { warn: (m) => warnings.push(m) }), (e: unknown) => {
    assert.ok(e instanceof ReprimageError);
    assert.equal(e.code, 'CORRUPT_IMAGE');
    assert.match(e.message, new RegExp(`^disk\\.img: both copies of the GPT are damaged: the primary: corrupt GPT header at byte 512: no "EFI PART" signature; the backup at sector ${LAST}: corrupt backup GPT entry array at byte ${BACKUP_ENTRIES * 512}: CRC`));
    return true;
  });
  assert.deepEqual(warnings, [], 'an error, no warning');
});

test('truncated image: the backup is missing, the primary is read with a warning', async () => {
  const disk = await ourDisk();
  const intact = layout((await read(disk)).table);
  const { table, warnings } = await read(disk.subarray(0, 4 * MIB));
  assert.deepEqual(layout(table), intact);
  assert.equal(table.gptCopy, 'primary');
  assert.deepEqual(warnings, [`disk.img: the backup GPT header belongs at sector ${LAST}, past the end of the image (8192 sectors): the image is truncated; using the primary GPT`]);
  // cut inside partition 2: its bytes are missing, which is an error
  await assert.rejects(readPartitionTable(bufferSource(disk.subarray(0, 3 * MIB), 'disk.img')), (e: unknown) =>
    e instanceof ReprimageError && e.code === 'TRUNCATED' && /^disk\.img: truncated disk image: GPT partition 2 \(sectors 4096\.\.8191\) reaches past the end of the image \(6144 sectors\)$/.test(e.message));
  // truncated with the primary damaged: nothing is left to read
  const both = disk.slice(0, 4 * MIB);
  both.fill(0, 512, 1024);
  await assert.rejects(readPartitionTable(bufferSource(both, 'disk.img')), /disk\.img: both copies of the GPT are damaged: .*no "EFI PART" signature; the backup at sector 8191: .*no "EFI PART" signature/);
});

test('4 KiB sectors, primary zeroed: the backup is found in the last 4 KiB sector', async () => {
  const sectors = 2048;
  const entries: GptEntry[] = [{ typeGuid: partitionTypeGuid('esp'), guid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', firstLba: 256, lastLba: 511, attributes: 0n, name: 'ESP' }];
  const t = buildGptTables({ totalSectors: sectors, diskGuid: '11111111-2222-4333-8444-555555555555', entries, sectorSize: 4096 });
  const disk = new Uint8Array(sectors * 4096);
  disk.set(protectiveMbr(sectors), 0);
  disk.set(t.entries, t.primaryEntriesLba * 4096); // primary header left out
  disk.set(t.entries, t.backupEntriesLba * 4096);
  disk.set(t.backupHeader, t.backupHeaderLba * 4096);
  const { table, warnings } = await read(disk);
  assert.equal(table.sectorSize, 4096);
  assert.deepEqual(table.partitions.map((p) => [p.offset, p.size, p.name]), [[MIB, MIB, 'ESP']]);
  assert.match(warnings[0]!, /using the backup GPT at sector 2047$/);
});

test('opening the disk as a Tree passes the warning on', async (t) => {
  const disk = await ourDisk();
  disk.fill(0, 512, 1024);
  const dir = tempDir(t);
  const path = join(dir, 'disk.img');
  await writeFile(path, disk);
  const warnings: string[] = [];
  const opened = await openTree(path, { warn: (m) => warnings.push(m) });
  try {
    assert.deepEqual([...opened.tree.root.children.keys()].sort(), ['p1-esp', 'p2-data ✓', 'partition-table.txt']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the primary GPT is damaged .*using the backup GPT at sector ${LAST}$`));
  } finally {
    await opened.close();
  }
});

/** The (sound) header in `sector` with fields changed by `change` and its CRC recomputed. */
function rewriteHeader(sector: Uint8Array, change: (h: GptHeader) => GptHeader): Uint8Array {
  return encodeGptHeader(change(decodeGptHeader(sector.subarray(0, 512), 'test', 0)));
}

function hex(bytes: Uint8Array, at: number): string {
  return Buffer.from(bytes).readUInt32LE(at).toString(16).padStart(8, '0');
}

function crcOfHeader(bytes: Uint8Array, at: number): string {
  const copy = bytes.slice(at, at + 92);
  copy.fill(0, 16, 20);
  return crc32(copy).toString(16).padStart(8, '0');
}
