/**
 * Reads the partition table of a disk image: GPT (primary header, entries and backup, all CRCs
 * checked) or MBR (four primary entries and the logical partitions of an extended partition).
 * Every size and reference is checked against the image before anything is allocated or read.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import {
  crc32, decodeGptEntries, decodeGptHeader, hasGptSignature, type GptEntry, type GptHeader,
} from './gpt.js';
import { decodeMbr, hasBootSignature, MBR_EXTENDED_TYPES, MBR_FIELDS, MBR_SIZE, MBR_TYPE_GPT_PROTECTIVE, type Mbr, type MbrPartition } from './mbr.js';
import { partitionTypeName } from './partition-types.js';
import { checkPartitionLayout } from './tables.js';

/** Entry arrays larger than this are refused as hostile (sgdisk's own ceiling is far below). */
export const GPT_MAX_ENTRY_ARRAY_BYTES = 4 << 20;
/** Logical partitions followed in an extended partition before giving up. */
export const MBR_MAX_LOGICAL = 128;

export interface DiskPartition {
  /** The partition number Linux gives it: the GPT slot, the MBR slot 1-4, logical ones from 5. */
  number: number;
  /** First sector and sector count; `offset`/`size` are the same in bytes. */
  firstLba: number;
  sectors: number;
  offset: number;
  size: number;
  /** GPT only. */
  typeGuid?: string;
  /** The Discoverable Partitions Specification name of the GPT type, when it has one. */
  typeName?: string;
  guid?: string;
  name?: string;
  attributes?: bigint;
  /** MBR only. */
  mbrType?: number;
  bootable?: boolean;
}

export interface PartitionTable {
  scheme: 'gpt' | 'mbr';
  sectorSize: number;
  /** GPT disk GUID. */
  diskGuid?: string;
  /** MBR disk signature (also present on GPT disks in the protective MBR). */
  diskSignature?: number;
  partitions: DiskPartition[];
  /** The decoded primary and backup headers (GPT). */
  header?: GptHeader;
  backupHeader?: GptHeader;
  mbr?: Mbr;
}

/**
 * Whether the first bytes look like a partitioned disk: "EFI PART" at byte 512 or 4096, or a
 * 55 AA sector 0 whose four entries are plausible (status 0/0x80, at least one used entry
 * starting after sector 0). Call it after the file-system sniffers: a FAT boot sector also
 * ends in 55 AA.
 */
export function sniffPartitionTable(head: Uint8Array): boolean {
  if (head.length >= 1024 && hasGptSignature(head.subarray(512))) return true;
  if (head.length >= 4096 + 8 && hasGptSignature(head.subarray(4096))) return true;
  if (!hasBootSignature(head)) return false;
  const v = new DataView(head.buffer, head.byteOffset, MBR_SIZE);
  let used = 0;
  for (let i = 0; i < 4; i++) {
    const at = MBR_FIELDS.partitionTable + 16 * i;
    const status = head[at]!;
    const type = head[at + 4]!;
    if (status !== 0 && status !== 0x80) return false;
    if (type === 0) continue;
    if (v.getUint32(at + 8, true) === 0 || v.getUint32(at + 12, true) === 0) return false;
    used++;
  }
  return used > 0;
}

/** Reads and checks the partition table of `source`. Errors name `source.name`. */
export async function readPartitionTable(source: RandomAccessSource): Promise<PartitionTable> {
  const subject = source.name;
  if (source.size < MBR_SIZE) throw new ReprimageError('TRUNCATED', subject, `truncated disk image: ${source.size} bytes, not even an MBR`);
  const head = await source.read(0, Math.min(source.size, 2 * 4096));
  for (const sectorSize of [512, 4096]) {
    if (head.length >= sectorSize + 8 && hasGptSignature(head.subarray(sectorSize))) {
      if (head.length < 2 * sectorSize) throw new ReprimageError('TRUNCATED', subject, `truncated disk image: ${source.size} bytes end inside the GPT header`);
      return readGpt(source, sectorSize, head);
    }
  }
  const mbr = decodeMbr(head.subarray(0, MBR_SIZE), subject);
  if (mbr.partitions.some((p) => p?.type === MBR_TYPE_GPT_PROTECTIVE)) {
    throw corruptError(subject, 'GPT header', 512, 'the MBR protects a GPT, but there is no "EFI PART" header at LBA 1');
  }
  return readMbr(source, mbr);
}

async function readGpt(source: RandomAccessSource, sectorSize: number, head: Uint8Array): Promise<PartitionTable> {
  const subject = source.name;
  const totalSectors = Math.floor(source.size / sectorSize);
  const header = decodeGptHeader(head.subarray(sectorSize, 2 * sectorSize), subject, sectorSize);
  if (header.myLba !== 1) throw corruptError(subject, 'GPT header', sectorSize, `the primary header says it is at LBA ${header.myLba}, not 1`);
  const entries = await readEntries(source, header, sectorSize, 'primary');
  if (header.alternateLba >= totalSectors) {
    throw new ReprimageError('TRUNCATED', subject, `truncated disk image: the GPT places its backup header at sector ${header.alternateLba}, the file has ${totalSectors} sectors (${source.size} bytes)`);
  }
  if (header.lastUsableLba >= totalSectors || header.firstUsableLba > header.lastUsableLba || header.firstUsableLba < 2) {
    throw new ReprimageError('OUT_OF_BOUNDS', subject, `GPT usable sectors ${header.firstUsableLba}..${header.lastUsableLba} do not fit a disk of ${totalSectors} sectors`);
  }
  const backupOffset = header.alternateLba * sectorSize;
  const backupHeader = decodeGptHeader(await source.read(backupOffset, sectorSize), `${subject} (backup GPT)`, backupOffset);
  if (backupHeader.alternateLba !== 1 || backupHeader.myLba !== header.alternateLba) {
    throw corruptError(subject, 'backup GPT header', backupOffset, `it says it is at LBA ${backupHeader.myLba} with its primary at ${backupHeader.alternateLba}`);
  }
  if (backupHeader.entriesCrc !== header.entriesCrc || backupHeader.entryCount !== header.entryCount || backupHeader.diskGuid !== header.diskGuid) {
    throw corruptError(subject, 'backup GPT header', backupOffset, 'it does not describe the same partitions as the primary header');
  }
  await readEntries(source, backupHeader, sectorSize, 'backup');
  checkPartitionLayout(entries, header.firstUsableLba, header.lastUsableLba, (detail, kind) =>
    kind === 'bounds' ? new ReprimageError('OUT_OF_BOUNDS', subject, `GPT ${detail}`) : corruptError(subject, 'GPT entries', header.entriesLba * sectorSize, detail),
  );
  const partitions: DiskPartition[] = [];
  entries.forEach((e, i) => {
    if (!e) return;
    const sectors = e.lastLba - e.firstLba + 1;
    partitions.push({
      number: i + 1,
      firstLba: e.firstLba,
      sectors,
      offset: e.firstLba * sectorSize,
      size: sectors * sectorSize,
      typeGuid: e.typeGuid,
      typeName: partitionTypeName(e.typeGuid),
      guid: e.guid,
      name: e.name,
      attributes: e.attributes,
    });
  });
  let mbr: Mbr | undefined;
  if (hasBootSignature(head)) mbr = decodeMbr(head.subarray(0, MBR_SIZE), subject);
  return { scheme: 'gpt', sectorSize, diskGuid: header.diskGuid, diskSignature: mbr?.diskSignature, partitions, header, backupHeader, mbr };
}

async function readEntries(source: RandomAccessSource, header: GptHeader, sectorSize: number, which: string): Promise<Array<GptEntry | undefined>> {
  const subject = source.name;
  const bytes = header.entryCount * header.entrySize;
  if (header.entryCount === 0 || bytes > GPT_MAX_ENTRY_ARRAY_BYTES) {
    throw new ReprimageError('OVERFLOW', subject, `${which} GPT declares ${header.entryCount} entries of ${header.entrySize} bytes; at most ${GPT_MAX_ENTRY_ARRAY_BYTES} bytes of entries are accepted`);
  }
  const offset = header.entriesLba * sectorSize;
  if (header.entriesLba < 2 || offset + bytes > source.size) {
    throw new ReprimageError('OUT_OF_BOUNDS', subject, `${which} GPT entry array at sector ${header.entriesLba} (${bytes} bytes) lies outside the image of ${source.size} bytes`);
  }
  const array = await source.read(offset, bytes);
  const sum = crc32(array);
  if (sum !== header.entriesCrc) {
    throw corruptError(subject, `${which} GPT entry array`, offset, `CRC is 0x${header.entriesCrc.toString(16).padStart(8, '0')}, the entries sum to 0x${sum.toString(16).padStart(8, '0')}`);
  }
  return decodeGptEntries(array, header.entryCount, header.entrySize);
}

async function readMbr(source: RandomAccessSource, mbr: Mbr): Promise<PartitionTable> {
  const subject = source.name;
  const totalSectors = Math.floor(source.size / 512);
  const found: Array<{ number: number; p: MbrPartition }> = [];
  const inBounds = (p: MbrPartition, number: number) => {
    if (p.sectors === 0) throw corruptError(subject, `MBR partition ${number}`, undefined, 'it has no sectors');
    if (p.firstLba === 0 || p.firstLba + p.sectors > totalSectors) {
      throw new ReprimageError('OUT_OF_BOUNDS', subject, `MBR partition ${number} (sectors ${p.firstLba}..${p.firstLba + p.sectors - 1}) lies outside the image of ${totalSectors} sectors`);
    }
  };
  let extended: MbrPartition | undefined;
  mbr.partitions.forEach((p, i) => {
    if (!p) return;
    inBounds(p, i + 1);
    if (MBR_EXTENDED_TYPES.has(p.type)) {
      if (extended) throw corruptError(subject, 'MBR', 0, 'more than one extended partition');
      extended = p;
    } else {
      found.push({ number: i + 1, p });
    }
  });
  if (extended) {
    // Each EBR holds one logical partition (relative to the EBR) and a link (relative to the extended partition).
    const seen = new Set<number>();
    let ebrLba = extended.firstLba;
    for (let number = 5; ; number++) {
      if (seen.has(ebrLba)) throw new ReprimageError('LINK_LOOP', subject, `the chain of extended boot records loops back to sector ${ebrLba}`);
      if (seen.size >= MBR_MAX_LOGICAL) throw new ReprimageError('OVERFLOW', subject, `more than ${MBR_MAX_LOGICAL} logical partitions`);
      seen.add(ebrLba);
      const ebr = decodeMbr(await source.read(ebrLba * 512, 512), subject, ebrLba * 512);
      const [logical, link] = ebr.partitions;
      if (logical) {
        const p = { ...logical, firstLba: ebrLba + logical.firstLba };
        inBounds(p, number);
        if (p.firstLba + p.sectors > extended.firstLba + extended.sectors) {
          throw new ReprimageError('OUT_OF_BOUNDS', subject, `logical partition ${number} reaches past its extended partition`);
        }
        found.push({ number, p });
      }
      if (!link || !MBR_EXTENDED_TYPES.has(link.type)) break;
      ebrLba = extended.firstLba + link.firstLba;
      if (ebrLba >= extended.firstLba + extended.sectors) throw new ReprimageError('OUT_OF_BOUNDS', subject, `an extended boot record link points to sector ${ebrLba}, past the extended partition`);
    }
  }
  const spans = found.map(({ number, p }) => ({ number, firstLba: p.firstLba, lastLba: p.firstLba + p.sectors - 1 })).sort((a, b) => a.firstLba - b.firstLba);
  for (let k = 1; k < spans.length; k++) {
    const a = spans[k - 1]!;
    const b = spans[k]!;
    if (b.firstLba <= a.lastLba) throw corruptError(subject, 'MBR', 0, `partitions ${a.number} (sectors ${a.firstLba}..${a.lastLba}) and ${b.number} (sectors ${b.firstLba}..${b.lastLba}) overlap`);
  }
  const partitions = found.map(({ number, p }) => ({
    number,
    firstLba: p.firstLba,
    sectors: p.sectors,
    offset: p.firstLba * 512,
    size: p.sectors * 512,
    mbrType: p.type,
    bootable: p.bootable,
  }));
  return { scheme: 'mbr' as const, sectorSize: 512, diskSignature: mbr.diskSignature, partitions, mbr };
}
