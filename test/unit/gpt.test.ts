// Unit tests of the GPT/MBR codecs and reader without external tools: GUID byte order (pinned to
// the UEFI specification's example), type names, attributes, CHS, MBR and GPT round trips with
// their CRCs, and every bad input the reader refuses (truncated, bad CRCs, entry arrays out of
// bounds, overlapping partitions, absurd entry counts, EBR loops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildGptTables, crc32, decodeGptEntries, decodeGptHeader, decodeGuid, decodeMbr, describeAttributes, encodeChs, encodeGptEntries,
  encodeGuid, encodeMbr, mbrTypeFor, parseAttributes, partitionTypeGuid, partitionTypeName, protectiveMbr, readPartitionTable,
  sniffPartitionTable, type GptEntry,
} from '../../src/formats/gpt/index.js';
import { bufferSource } from '../../src/io/source.js';
import { ReprimageError } from '../../src/errors.js';

const DISK_GUID = '11111111-2222-4333-8444-555555555555';

/** A GPT disk image of `sectors` sectors in memory, with the given entries. */
function gptDisk(sectors: number, entries: Array<GptEntry | undefined>, entryCount = 128): Uint8Array {
  const disk = new Uint8Array(sectors * 512);
  const t = buildGptTables({ totalSectors: sectors, diskGuid: DISK_GUID, entries, entryCount });
  disk.set(protectiveMbr(sectors, { diskSignature: 0x12345678 }), 0);
  disk.set(t.primaryHeader, 512);
  disk.set(t.entries, t.primaryEntriesLba * 512);
  disk.set(t.entries, t.backupEntriesLba * 512);
  disk.set(t.backupHeader, t.backupHeaderLba * 512);
  return disk;
}

const ESP: GptEntry = { typeGuid: partitionTypeGuid('esp'), guid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', firstLba: 2048, lastLba: 4095, attributes: 1n, name: 'EFI System' };
const ROOT: GptEntry = { typeGuid: partitionTypeGuid('root-x86-64'), guid: 'abababab-bbbb-4ccc-8ddd-eeeeeeeeeeee', firstLba: 4096, lastLba: 8191, attributes: 1n << 60n, name: 'root ✓' };

test('GUID byte order is mixed-endian as the UEFI specification shows', () => {
  // UEFI 2.10 appendix A: the EFI system partition type C12A7328-F81F-11D2-BA4B-00A0C93EC93B
  const bytes = encodeGuid('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  assert.equal(Buffer.from(bytes).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  assert.equal(decodeGuid(bytes), 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
  assert.throws(() => encodeGuid('not-a-guid'), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE');
  fc.assert(fc.property(fc.uuid(), (u) => decodeGuid(encodeGuid(u)) === u.toLowerCase()));
});

test('partition type names follow the Discoverable Partitions Specification', () => {
  assert.equal(partitionTypeGuid('esp'), 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
  assert.equal(partitionTypeGuid('root-x86-64'), '4f68bce3-e8cd-4db1-96e7-fbcaf984b709');
  assert.equal(partitionTypeGuid('root'), '4f68bce3-e8cd-4db1-96e7-fbcaf984b709');
  assert.equal(partitionTypeGuid('usr-arm64'), 'b0e01050-ee5f-4390-949a-9101b17104e9');
  assert.equal(partitionTypeGuid('swap'), '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f');
  assert.equal(partitionTypeGuid('bios-boot'), '21686148-6449-6e6f-744e-656564454649');
  assert.equal(partitionTypeGuid('root-x86-64-verity'), '2c7357ed-ebd2-46d9-aec1-23d437ec2bf5');
  assert.equal(partitionTypeGuid('XBOOTLDR'), 'bc13c2ff-59e6-4262-a352-b275fd6f7172');
  assert.equal(partitionTypeGuid('01234567-89AB-4CDE-8F01-23456789ABCD'), '01234567-89ab-4cde-8f01-23456789abcd');
  assert.equal(partitionTypeName('0FC63DAF-8483-4772-8E79-3D69D8477DE4'), 'linux-generic');
  assert.equal(partitionTypeName('01234567-89ab-4cde-8f01-23456789abcd'), undefined);
  assert.throws(() => partitionTypeGuid('rooot'), /unknown partition type "rooot"/);
  assert.equal(mbrTypeFor('esp'), 0xef);
  assert.equal(mbrTypeFor('root-x86-64'), 0x83);
  assert.equal(mbrTypeFor('0x0c'), 0x0c);
  assert.throws(() => mbrTypeFor('0x00'), ReprimageError);
});

test('attributes by name and bit number', () => {
  const flags = parseAttributes(['required', 'legacy-bios-bootable', 'read-only', 'no-auto', '48']);
  assert.equal(flags, (1n << 0n) | (1n << 2n) | (1n << 48n) | (1n << 60n) | (1n << 63n));
  assert.deepEqual(describeAttributes(flags), ['required', 'legacy-bios-bootable', '48', 'read-only', 'no-auto']);
  assert.throws(() => parseAttributes(['sticky']), /unknown attribute "sticky"/);
  assert.throws(() => parseAttributes(['64']), ReprimageError);
});

test('CHS addresses with 255/63 and 64/32 geometry, clamped past cylinder 1023', () => {
  assert.deepEqual(encodeChs(0), [0, 1, 0]);
  assert.deepEqual(encodeChs(2048), [32, 33, 0]); // what fdisk writes for a partition at 1 MiB
  assert.deepEqual(encodeChs(2048, { heads: 64, sectorsPerTrack: 32 }), [0, 1, 1]);
  assert.deepEqual(encodeChs(1024 * 255 * 63), [254, 0xff, 0xff]);
});

test('MBR encode/decode round trip with boot code and geometry', () => {
  const boot = new Uint8Array(440).fill(0x90);
  const sector = encodeMbr({
    bootCode: boot,
    diskSignature: 0xdeadbeef,
    partitions: [{ bootable: true, type: 0xef, firstLba: 2048, sectors: 2048 }, undefined, { bootable: false, type: 0x83, firstLba: 4096, sectors: 8192 }],
  });
  assert.equal(sector.length, 512);
  assert.equal(sector[510], 0x55);
  assert.equal(sector[511], 0xaa);
  const m = decodeMbr(sector);
  assert.equal(m.diskSignature, 0xdeadbeef);
  assert.deepEqual(m.bootCode, boot);
  assert.equal(m.partitions[1], undefined);
  assert.deepEqual({ ...m.partitions[0]!, chsFirst: undefined, chsLast: undefined }, { bootable: true, type: 0xef, firstLba: 2048, sectors: 2048, chsFirst: undefined, chsLast: undefined });
  assert.deepEqual(m.partitions[2]!.chsFirst, encodeChs(4096));
  assert.throws(() => encodeMbr({ diskSignature: 0, partitions: [undefined, undefined, undefined, undefined, undefined] }), /at most 4/);
  assert.throws(() => encodeMbr({ diskSignature: 0, partitions: [{ bootable: false, type: 0x83, firstLba: 2 ** 32, sectors: 1 }] }), ReprimageError);
  assert.throws(() => encodeMbr({ diskSignature: 0, bootCode: new Uint8Array(441), partitions: [] }), /at most 440/);
});

test('protective MBR covers the disk from sector 1 (clamped at 2^32-1 sectors)', () => {
  const m = decodeMbr(protectiveMbr(100_000));
  assert.equal(m.partitions[0]!.type, 0xee);
  assert.equal(m.partitions[0]!.firstLba, 1);
  assert.equal(m.partitions[0]!.sectors, 99_999);
  assert.deepEqual(m.partitions[0]!.chsFirst, [0, 2, 0]);
  assert.equal(decodeMbr(protectiveMbr(2 ** 33)).partitions[0]!.sectors, 0xffffffff);
});

test('GPT header and entries round trip; CRCs are those of the bytes written', () => {
  const entries = encodeGptEntries([ESP, undefined, ROOT], 128);
  assert.equal(entries.length, 128 * 128);
  const back = decodeGptEntries(entries, 128, 128);
  assert.deepEqual(back[0], ESP);
  assert.equal(back[1], undefined);
  assert.deepEqual(back[2], ROOT);
  const t = buildGptTables({ totalSectors: 10_000, diskGuid: DISK_GUID, entries: [ESP, undefined, ROOT] });
  assert.equal(t.firstUsableLba, 34);
  assert.equal(t.backupHeaderLba, 9999);
  assert.equal(t.backupEntriesLba, 9967);
  assert.equal(t.lastUsableLba, 9966);
  const h = decodeGptHeader(t.primaryHeader, 'disk', 512);
  assert.equal(h.entriesCrc, crc32(t.entries));
  assert.equal(h.alternateLba, 9999);
  assert.equal(h.diskGuid, DISK_GUID);
  const b = decodeGptHeader(t.backupHeader, 'disk', 9999 * 512);
  assert.equal(b.myLba, 9999);
  assert.equal(b.entriesLba, 9967);
  // an isohybrid layout: 248 entries at LBA 2..63
  const iso = buildGptTables({ totalSectors: 100_000, diskGuid: DISK_GUID, entries: [ESP], entryCount: 248, firstUsableLba: 64 });
  assert.equal(decodeGptHeader(iso.primaryHeader, 'iso', 512).entryCount, 248);
  assert.equal(iso.entries.length, 248 * 128);
});

test('the builder refuses overlaps, partitions outside the usable sectors, and names too long', () => {
  assert.throws(() => buildGptTables({ totalSectors: 10_000, diskGuid: DISK_GUID, entries: [ESP, { ...ROOT, firstLba: 4000 }] }), /partitions 1 .* and 2 .* overlap/);
  assert.throws(() => buildGptTables({ totalSectors: 5000, diskGuid: DISK_GUID, entries: [ESP, ROOT] }), /outside the usable sectors/);
  assert.throws(() => buildGptTables({ totalSectors: 10_000, diskGuid: DISK_GUID, entries: [{ ...ESP, name: 'x'.repeat(37) }] }), /longer than 36/);
  assert.throws(() => buildGptTables({ totalSectors: 20, diskGuid: DISK_GUID, entries: [] }), /cannot hold a GPT/);
});

test('the reader gives back what was built, with type names', async () => {
  const disk = gptDisk(10_000, [ESP, undefined, ROOT]);
  assert.ok(sniffPartitionTable(disk.subarray(0, 65536)));
  const table = await readPartitionTable(bufferSource(disk, 'disk.img'));
  assert.equal(table.scheme, 'gpt');
  assert.equal(table.diskGuid, DISK_GUID);
  assert.equal(table.diskSignature, 0x12345678);
  assert.deepEqual(table.partitions.map((p) => [p.number, p.typeName, p.name, p.offset, p.size, p.attributes]), [
    [1, 'esp', 'EFI System', 2048 * 512, 2048 * 512, 1n],
    [3, 'root-x86-64', 'root ✓', 4096 * 512, 4096 * 512, 1n << 60n],
  ]);
});

test('the reader reads MBR tables with logical partitions and refuses EBR loops', async () => {
  const disk = new Uint8Array(20_000 * 512);
  disk.set(encodeMbr({ diskSignature: 0xcafe, partitions: [{ bootable: true, type: 0x0c, firstLba: 2048, sectors: 2048 }, { bootable: false, type: 0x05, firstLba: 8192, sectors: 8192 }] }));
  // EBR 1 at 8192: logical at +2048, link to EBR 2 at extended+4096
  disk.set(encodeMbr({ diskSignature: 0, partitions: [{ bootable: false, type: 0x83, firstLba: 2048, sectors: 1024 }, { bootable: false, type: 0x05, firstLba: 4096, sectors: 4096 }] }), 8192 * 512);
  disk.set(encodeMbr({ diskSignature: 0, partitions: [{ bootable: false, type: 0x82, firstLba: 2048, sectors: 1024 }] }), (8192 + 4096) * 512);
  assert.ok(sniffPartitionTable(disk.subarray(0, 65536)));
  const table = await readPartitionTable(bufferSource(disk, 'mbr.img'));
  assert.equal(table.scheme, 'mbr');
  assert.equal(table.diskSignature, 0xcafe);
  assert.deepEqual(table.partitions.map((p) => [p.number, p.mbrType, p.bootable, p.firstLba, p.sectors]), [
    [1, 0x0c, true, 2048, 2048],
    [5, 0x83, false, 10240, 1024],
    [6, 0x82, false, 14336, 1024],
  ]);
  // EBR 2 links back to EBR 1
  disk.set(encodeMbr({ diskSignature: 0, partitions: [{ bootable: false, type: 0x82, firstLba: 2048, sectors: 1024 }, { bootable: false, type: 0x05, firstLba: 0, sectors: 4096 }] }), (8192 + 4096) * 512);
  await assert.rejects(readPartitionTable(bufferSource(disk, 'mbr.img')), (e: unknown) => e instanceof ReprimageError && e.code === 'LINK_LOOP');
});

/** Asserts that reading `bytes` fails with `code` and a message matching `pattern`. */
async function refuses(bytes: Uint8Array, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readPartitionTable(bufferSource(bytes, 'bad.img')), (e: unknown) => {
    assert.ok(e instanceof ReprimageError, `not a ReprimageError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, /^bad\.img/);
    assert.match(e.message, pattern);
    return true;
  });
}

/** Rewrites a field of both headers (primary and backup) and their CRCs, as a hostile tool would. */
function patchHeaders(disk: Uint8Array, at: number, value: number | bigint, width: 4 | 8): Uint8Array {
  const copy = disk.slice();
  for (const header of [512, copy.length - 512]) {
    const v = new DataView(copy.buffer, header, 512);
    if (width === 4) v.setUint32(at, Number(value), true);
    else v.setBigUint64(at, BigInt(value), true);
    v.setUint32(16, 0, true);
    v.setUint32(16, crc32(copy.subarray(header, header + 92)), true);
  }
  return copy;
}

/** The same byte flipped in both copies: `primaryAt` and its place in the backup (header or entries). */
function flipBoth(disk: Uint8Array, primaryAt: number): Uint8Array {
  const copy = disk.slice();
  const sectors = disk.length / 512;
  copy[primaryAt]! ^= 1;
  copy[primaryAt < 1024 ? (sectors - 1) * 512 + primaryAt - 512 : (sectors - 33) * 512 + primaryAt - 1024]! ^= 1;
  return copy;
}

test('bad input: every damage is a ReprimageError naming the file and the problem', async () => {
  // one copy damaged is read from the other (test/unit/gpt-backup.test.ts): here both are
  const disk = gptDisk(10_000, [ESP, ROOT]);
  const both = (primary: string, backup: string) => new RegExp(`both copies of the GPT are damaged: the primary: ${primary}[^;]*; the backup at sector 9999: ${backup}`);
  await refuses(disk.subarray(0, 100), 'TRUNCATED', /not even an MBR/);
  await refuses(disk.subarray(0, 6000 * 512), 'TRUNCATED', /GPT partition 2 \(sectors 4096\.\.8191\) reaches past the end of the image \(6000 sectors\)/);
  await refuses(flipBoth(disk, 512 + 60), 'CORRUPT_IMAGE', both('corrupt GPT header at byte 512: header CRC', 'corrupt GPT header at byte 5119488: header CRC'));
  await refuses(flipBoth(disk, 1024 + 60), 'CORRUPT_IMAGE', both('corrupt primary GPT entry array at byte 1024: CRC', 'corrupt backup GPT entry array at byte 5103104: CRC'));
  await refuses(patchHeaders(disk, 72, 9990, 8), 'OUT_OF_BOUNDS', both('primary GPT entry array at sector 9990 .* lies outside', 'backup GPT entry array at sector 9990 .* lies outside'));
  await refuses(patchHeaders(disk, 72, 3, 8), 'OUT_OF_BOUNDS', both('primary GPT entry array \\(sectors 3\\.\\.34\\) overlaps the usable sectors 34\\.\\.9966', 'backup GPT entry array \\(sectors 3\\.\\.34\\) overlaps'));
  await refuses(patchHeaders(disk, 72, 2n ** 60n, 8), 'CORRUPT_IMAGE', both('.*beyond any disk', '.*beyond any disk'));
  await refuses(patchHeaders(disk, 80, 0xffffffff, 4), 'OVERFLOW', both('primary GPT declares 4294967295 entries', 'backup GPT declares 4294967295 entries'));
  await refuses(patchHeaders(disk, 84, 100, 4), 'CORRUPT_IMAGE', both('.*entry size 100', '.*entry size 100'));
  await refuses(patchHeaders(disk, 12, 4000, 4), 'CORRUPT_IMAGE', both('.*header size 4000', '.*header size 4000'));
  await refuses(patchHeaders(disk, 48, 9999, 8), 'OUT_OF_BOUNDS', both('primary GPT usable sectors 34\\.\\.9999 do not fit', 'backup GPT usable sectors 34\\.\\.9999 do not fit'));
  await refuses(patchHeaders(disk, 24, 7, 8), 'CORRUPT_IMAGE', both('.*it says it is at sector 7, not 1', '.*it says it is at sector 7, not 9999'));
  // overlapping and out-of-range partitions, with CRCs that are right (in both copies)
  await refuses(gptRaw(10_000, [ESP, { ...ROOT, firstLba: 3000 }]), 'CORRUPT_IMAGE', both('.*partitions 1 .* and 2 .* overlap', '.*partitions 1 .* and 2 .* overlap'));
  await refuses(gptRaw(10_000, [ESP, { ...ROOT, lastLba: 9999 }]), 'OUT_OF_BOUNDS', both('.*outside the usable sectors', '.*outside the usable sectors'));
  await refuses(gptRaw(10_000, [{ ...ESP, firstLba: 3000, lastLba: 2999 }]), 'OUT_OF_BOUNDS', /ends .* before it starts/);
  const noGpt = disk.slice();
  noGpt.fill(0, 512, 1024);
  noGpt.fill(0, 9999 * 512);
  await refuses(noGpt, 'CORRUPT_IMAGE', both('corrupt GPT header at byte 512: no "EFI PART" signature', 'corrupt GPT header at byte 5119488: no "EFI PART" signature'));
  const mbr = new Uint8Array(4096 * 512);
  mbr.set(encodeMbr({ diskSignature: 1, partitions: [{ bootable: false, type: 0x83, firstLba: 2048, sectors: 4096 }] }));
  await refuses(mbr, 'OUT_OF_BOUNDS', /MBR partition 1 .* lies outside the image/);
  mbr.set(encodeMbr({ diskSignature: 1, partitions: [{ bootable: false, type: 0x83, firstLba: 100, sectors: 1000 }, { bootable: false, type: 0x83, firstLba: 1000, sectors: 100 }] }));
  await refuses(mbr, 'CORRUPT_IMAGE', /partitions 1 .* and 2 .* overlap/);
  mbr[446] = 0x12;
  await refuses(mbr, 'CORRUPT_IMAGE', /status byte 0x12/);
});

/** A GPT whose tables are consistent but whose entries the builder would refuse. */
function gptRaw(sectors: number, entries: GptEntry[]): Uint8Array {
  const disk = gptDisk(sectors, []);
  const array = encodeGptEntries(entries, 128);
  const sum = crc32(array);
  for (const [hdr, arr] of [[512, 1024], [(sectors - 1) * 512, (sectors - 33) * 512]] as const) {
    disk.set(array, arr);
    const v = new DataView(disk.buffer, hdr, 512);
    v.setUint32(88, sum, true);
    v.setUint32(16, 0, true);
    v.setUint32(16, crc32(disk.subarray(hdr, hdr + 92)), true);
  }
  return disk;
}

/** `disk` cut to `cut` bytes (at least one sector) with `edits` ([offset, byte]) applied. */
function damaged(disk: Uint8Array, edits: Array<[number, number]>, cut: number): Uint8Array {
  const copy = disk.slice(0, Math.max(cut, 512));
  for (const [at, b] of edits) if (at < copy.length) copy[at] = b;
  return copy;
}

/** Reading a damaged disk gives a table whose partitions lie inside it, or a ReprimageError: nothing else. */
async function expectTableOrError(copy: Uint8Array): Promise<void> {
  try {
    const table = await readPartitionTable(bufferSource(copy, 'fuzz.img'));
    for (const p of table.partitions) assert.ok(p.offset + p.size <= copy.length, 'every partition read lies inside the image');
  } catch (e) {
    if (!(e instanceof ReprimageError)) throw e;
  }
}

test('fuzz: random damage to either GPT copy gives a table or a ReprimageError, nothing else', async () => {
  const disk = gptDisk(8192, [ESP]);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 34 * 512 - 1 }), fc.integer({ min: (8192 - 33) * 512, max: 8192 * 512 - 1 })), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 8192 * 512 }), async (edits, cut) => {
      await expectTableOrError(damaged(disk, edits, cut));
    }),
    { numRuns: 300 },
  );
});

test('a GPT with 4 KiB logical blocks is found at byte 4096 and read in 4 KiB sectors', async () => {
  const sectors = 2048; // 8 MiB
  const disk = new Uint8Array(sectors * 4096);
  const entries: GptEntry[] = [{ ...ESP, firstLba: 256, lastLba: 511 }, { ...ROOT, firstLba: 512, lastLba: 1023 }];
  const t = buildGptTables({ totalSectors: sectors, diskGuid: DISK_GUID, entries, sectorSize: 4096 });
  assert.equal(t.firstUsableLba, 6, '16 KiB of entries are 4 sectors after LBA 2');
  disk.set(protectiveMbr(sectors), 0);
  disk.set(t.primaryHeader, 4096);
  disk.set(t.entries, t.primaryEntriesLba * 4096);
  disk.set(t.entries, t.backupEntriesLba * 4096);
  disk.set(t.backupHeader, t.backupHeaderLba * 4096);
  assert.ok(sniffPartitionTable(disk.subarray(0, 65536)));
  const table = await readPartitionTable(bufferSource(disk, 'disk4k.img'));
  assert.equal(table.sectorSize, 4096);
  assert.deepEqual(table.partitions.map((p) => [p.offset, p.size, p.name]), [[1 << 20, 1 << 20, 'EFI System'], [2 << 20, 2 << 20, 'root ✓']]);
});

test('fuzz: random damage to an MBR disk with logical partitions gives a table or a ReprimageError', async () => {
  const disk = new Uint8Array(20_000 * 512);
  disk.set(encodeMbr({ diskSignature: 1, partitions: [{ bootable: true, type: 0x0c, firstLba: 2048, sectors: 2048 }, { bootable: false, type: 0x05, firstLba: 8192, sectors: 8192 }] }));
  disk.set(encodeMbr({ diskSignature: 0, partitions: [{ bootable: false, type: 0x83, firstLba: 2048, sectors: 1024 }, { bootable: false, type: 0x05, firstLba: 4096, sectors: 4096 }] }), 8192 * 512);
  disk.set(encodeMbr({ diskSignature: 0, partitions: [{ bootable: false, type: 0x82, firstLba: 2048, sectors: 1024 }] }), (8192 + 4096) * 512);
  const hot = [0, 8192 * 512, (8192 + 4096) * 512].map((base) => fc.integer({ min: base + 446, max: base + 511 }));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.oneof(...hot), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: disk.length }), async (edits, cut) => {
      await expectTableOrError(damaged(disk, edits, cut));
    }),
    { numRuns: 400 },
  );
});
