// Oracle tests of the GPT reader's fallback to the backup GPT: disks made by sgdisk, then damaged
// with dd (primary header zeroed, one byte of the primary entry array changed, backup header
// zeroed, both). sgdisk reads the sound copy and says which one was bad; our reader must read the
// same partitions (start, end, type GUID, unique GUID, name, attributes) and warn, or, when both
// copies are gone, refuse the disk where sgdisk finds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openFileSource } from '../../src/io/source.js';
import { readPartitionTable, type PartitionTable } from '../../src/formats/gpt/index.js';
import { ReprimageError } from '../../src/errors.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const SECTORS = 81920; // 40 MiB
const DISK_GUID = '01234567-89ab-4cde-8f01-23456789abcd';

interface SgdiskPartition {
  number: number; start: number; end: number; type: string; guid: string; name: string; attributes: bigint;
}

/** A 40 MiB disk made by sgdisk alone: an ESP, a read-only root with a non-ASCII name, a swap. */
function makeSgdiskDisk(path: string): void {
  run('truncate', ['-s', `${SECTORS * 512}`, path]);
  run('sgdisk', [
    '-o', '-U', DISK_GUID,
    '-n', '1:2048:+8M', '-t', '1:ef00', '-c', '1:EFI system', '-u', '1:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    '-n', '2:0:+16M', '-t', '2:8304', '-c', '2:root ✓', '-A', '2:set:60', '-u', '2:abababab-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    '-n', '3:0:0', '-t', '3:8200', '-u', '3:cdcdcdcd-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    path,
  ]);
}

/** Writes `bytes` at byte `offset` of `path` with dd, as one would damage a disk by hand. */
function ddWrite(dir: string, path: string, offset: number, bytes: Buffer): void {
  const patch = join(dir, 'patch.bin');
  run('sh', ['-c', 'cat > "$1"', 'sh', patch], { input: bytes });
  run('dd', [`if=${patch}`, `of=${path}`, 'bs=1', `seek=${offset}`, 'conv=notrunc', 'status=none']);
}

/** What sgdisk reads: `-p` for the list (start, end), `-i N` for the GUIDs, name and attributes; and its messages. */
function sgdiskRead(path: string): { diskGuid: string; partitions: SgdiskPartition[]; messages: string } {
  const listing = run('sgdisk', ['-p', path]);
  const text = listing.stdout.toString();
  const diskGuid = /Disk identifier \(GUID\): (\S+)/.exec(text)![1]!.toLowerCase();
  const partitions: SgdiskPartition[] = [];
  let messages = text + listing.stderr;
  for (const m of text.matchAll(/^\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+ \S+\s+[0-9A-F]{4}/gm)) {
    const info = run('sgdisk', ['-i', m[1]!, path]);
    const out = info.stdout.toString();
    messages += info.stderr;
    const field = (re: RegExp) => re.exec(out)![1]!;
    partitions.push({
      number: Number(m[1]),
      start: Number(m[2]),
      end: Number(m[3]),
      type: field(/Partition GUID code: (\S+)/).toLowerCase(),
      guid: field(/Partition unique GUID: (\S+)/).toLowerCase(),
      name: field(/Partition name: '(.*)'/),
      attributes: BigInt(`0x${field(/Attribute flags: ([0-9a-f]+)/)}`),
    });
  }
  return { diskGuid, partitions, messages };
}

async function ourRead(path: string): Promise<{ table: PartitionTable; warnings: string[] }> {
  const source = await openFileSource(path);
  const warnings: string[] = [];
  try {
    return { table: await readPartitionTable(source, { warn: (m) => warnings.push(m) }), warnings };
  } finally {
    await source.close();
  }
}

function ours(table: PartitionTable): { diskGuid: string | undefined; partitions: SgdiskPartition[] } {
  return {
    diskGuid: table.diskGuid,
    partitions: table.partitions.map((p) => ({
      number: p.number, start: p.firstLba, end: p.firstLba + p.sectors - 1, type: p.typeGuid!, guid: p.guid!, name: p.name!, attributes: p.attributes!,
    })),
  };
}

test('sgdisk disk, primary header zeroed by dd: we read from the backup what sgdisk reads', async (t) => {
  if (!requireTool(t, 'sgdisk', 'dd', 'truncate')) return;
  const dir = tempDir(t);
  const disk = join(dir, 'disk.img');
  makeSgdiskDisk(disk);
  const intact = sgdiskRead(disk);
  assert.equal(intact.partitions.length, 3);
  run('dd', ['if=/dev/zero', `of=${disk}`, 'bs=512', 'seek=1', 'count=1', 'conv=notrunc', 'status=none']);
  const theirs = sgdiskRead(disk);
  assert.match(theirs.messages, /Main header: ERROR/, 'sgdisk saw the damage');
  assert.deepEqual(theirs.partitions, intact.partitions, 'sgdisk recovered the table from the backup');
  const { table, warnings } = await ourRead(disk);
  assert.deepEqual(ours(table), { diskGuid: theirs.diskGuid, partitions: theirs.partitions });
  assert.equal(table.gptCopy, 'backup');
  assert.deepEqual(warnings, [`${disk}: the primary GPT is damaged (corrupt GPT header at byte 512: no "EFI PART" signature); using the backup GPT at sector ${SECTORS - 1}`]);
});

test('sgdisk disk, one byte of the primary entry array changed by dd: we read the backup entries as sgdisk does', async (t) => {
  if (!requireTool(t, 'sgdisk', 'dd', 'truncate')) return;
  const dir = tempDir(t);
  const disk = join(dir, 'disk.img');
  makeSgdiskDisk(disk);
  ddWrite(dir, disk, 1024 + 128 + 56, Buffer.from('X')); // the "r" of partition 2's name
  const theirs = sgdiskRead(disk);
  assert.match(theirs.messages, /Main partition table: ERROR/, 'sgdisk saw the damage');
  assert.equal(theirs.partitions[1]!.name, 'root ✓', 'sgdisk used the backup entries');
  const { table, warnings } = await ourRead(disk);
  assert.deepEqual(ours(table), { diskGuid: theirs.diskGuid, partitions: theirs.partitions });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /: the primary GPT is damaged \(corrupt primary GPT entry array at byte 1024: CRC .*\); using the backup GPT at sector 81919$/);
});

test('sgdisk disk, backup header zeroed by dd: we read the primary with a warning, as sgdisk does', async (t) => {
  if (!requireTool(t, 'sgdisk', 'dd', 'truncate')) return;
  const dir = tempDir(t);
  const disk = join(dir, 'disk.img');
  makeSgdiskDisk(disk);
  run('dd', ['if=/dev/zero', `of=${disk}`, 'bs=512', `seek=${SECTORS - 1}`, 'count=1', 'conv=notrunc', 'status=none']);
  const theirs = sgdiskRead(disk);
  assert.match(theirs.messages, /Backup header: ERROR/, 'sgdisk saw the damage');
  const { table, warnings } = await ourRead(disk);
  assert.deepEqual(ours(table), { diskGuid: theirs.diskGuid, partitions: theirs.partitions });
  assert.equal(table.gptCopy, 'primary');
  assert.deepEqual(warnings, [`${disk}: the backup GPT at sector ${SECTORS - 1} is damaged (corrupt GPT header at byte ${(SECTORS - 1) * 512}: no "EFI PART" signature); using the primary GPT`]);
});

test('sgdisk disk, both headers zeroed by dd: sgdisk finds no partitions, we refuse the disk naming both problems', async (t) => {
  if (!requireTool(t, 'sgdisk', 'dd', 'truncate')) return;
  const dir = tempDir(t);
  const disk = join(dir, 'disk.img');
  makeSgdiskDisk(disk);
  for (const seek of [1, SECTORS - 1]) run('dd', ['if=/dev/zero', `of=${disk}`, 'bs=512', `seek=${seek}`, 'count=1', 'conv=notrunc', 'status=none']);
  const theirs = sgdiskRead(disk);
  assert.deepEqual(theirs.partitions, [], 'sgdisk starts a new, empty table');
  assert.notEqual(theirs.diskGuid, DISK_GUID);
  await assert.rejects(ourRead(disk), (e: unknown) =>
    e instanceof ReprimageError && e.code === 'CORRUPT_IMAGE' &&
    e.message === `${disk}: both copies of the GPT are damaged: the primary: corrupt GPT header at byte 512: no "EFI PART" signature; the backup at sector ${SECTORS - 1}: corrupt GPT header at byte ${(SECTORS - 1) * 512}: no "EFI PART" signature`);
});
