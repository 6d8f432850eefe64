// The catalogue of identifier purposes (src/tree/id-purposes.ts). Each string is the message of
// the keyed hash that makes a published image's UUIDs, serials and signatures: these are the
// strings image/pack.ts, image/disk.ts and image/live-iso.ts used before the catalogue, and they
// must never change. The scoped and seeded helpers give what deriveUuid/deriveU32 give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ID_PURPOSES as ID, scopedIdentifiers, scopedPurpose, seededIdentifiers } from '../../src/tree/id-purposes.js';
import { deriveBytes, deriveU32, deriveUuid } from '../../src/tree/identifiers.js';

test('every purpose string is the one used before the catalogue', () => {
  assert.deepEqual(
    [
      ID.fatVolumeSerial, ID.ext4Uuid, ID.ext4HashSeed, ID.ext4JournalUuid,
      ID.isoMbrDiskSignature, ID.isoGptDisk, ID.isoGptPartition(0), ID.isoGptPartition(3),
      ID.diskGptDiskGuid, ID.diskMbrDiskSignature, ID.diskPartition('c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 1), ID.diskPartition('mbr-131', 0),
      scopedPurpose(ID.diskPartitionScope('0fc63daf-8483-4772-8e79-3d69d8477de4'), ID.ext4Uuid),
      ID.liveIsoEspSerial, ID.liveIsoMbrDiskSignature, ID.liveIsoGptDisk, ID.liveIsoGptPartition(2),
    ],
    [
      'fat volume serial', 'ext4 uuid', 'ext4 hash seed', 'ext4 journal uuid',
      'iso mbr disk signature', 'iso gpt disk', 'iso gpt partition 0', 'iso gpt partition 3',
      'disk gpt disk guid', 'disk mbr disk signature', 'disk partition c12a7328-f81f-11d2-ba4b-00a0c93ec93b 1', 'disk partition mbr-131 0',
      'disk partition 0fc63daf-8483-4772-8e79-3d69d8477de4 ext4 uuid',
      'live iso esp serial', 'live iso mbr disk signature', 'live iso gpt disk', 'live iso gpt partition 2',
    ],
  );
});

test('seeded and scoped identifiers derive what deriveUuid, deriveU32 and deriveBytes derive', () => {
  const ids = seededIdentifiers('reprimage:1700000000');
  assert.equal(ids(ID.ext4Uuid).uuid(), deriveUuid('reprimage:1700000000', 'ext4 uuid'));
  assert.equal(ids(ID.fatVolumeSerial).u32(), deriveU32('reprimage:1700000000', 'fat volume serial'));
  assert.deepEqual(ids(ID.isoGptDisk).bytes(40), deriveBytes('reprimage:1700000000', 'iso gpt disk', 40));
  const scope = ID.diskPartitionScope('0fc63daf-8483-4772-8e79-3d69d8477de4');
  assert.equal(scopedIdentifiers(ids, scope)(ID.ext4HashSeed).uuid(), deriveUuid('reprimage:1700000000', 'disk partition 0fc63daf-8483-4772-8e79-3d69d8477de4 ext4 hash seed'));
});
