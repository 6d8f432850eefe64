/**
 * Reads the partition table of a disk image: GPT (primary header, entries and backup, all CRCs
 * checked; the backup stands in for a damaged primary, with a warning) or MBR (four primary entries and the logical partitions of an extended partition).
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
  /** GPT: the header the partitions were read from (the primary, or the backup when the primary is damaged). */
  header?: GptHeader;
  /** GPT: the backup header, when it was found sound. */
  backupHeader?: GptHeader;
  /** GPT: which copy the partitions come from. */
  gptCopy?: 'primary' | 'backup';
  /** GPT: the warnings given while reading (damaged or missing copy), also passed to `warn`. */
  problems?: string[];
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

export interface ReadPartitionTableOptions {
  /**
   * Receives one message (naming the file) per problem that did not stop the reading: a damaged
   * primary GPT replaced by its backup, a damaged or missing backup GPT.
   */
  warn?: (message: string) => void;
}

/** Reads and checks the partition table of `source`. Errors name `source.name`. */
export async function readPartitionTable(source: RandomAccessSource, options: ReadPartitionTableOptions = {}): Promise<PartitionTable> {
  const subject = source.name;
  if (source.size < MBR_SIZE) throw new ReprimageError('TRUNCATED', subject, `truncated disk image: ${source.size} bytes, not even an MBR`);
  const head = await source.read(0, Math.min(source.size, 2 * 4096));
  for (const sectorSize of [512, 4096]) {
    if (head.length >= sectorSize + 8 && hasGptSignature(head.subarray(sectorSize))) {
      if (head.length < 2 * sectorSize) throw new ReprimageError('TRUNCATED', subject, `truncated disk image: ${source.size} bytes end inside the GPT header`);
      return readGpt(source, sectorSize, head, options);
    }
  }
  const mbr = decodeMbr(head.subarray(0, MBR_SIZE), subject);
  if (mbr.partitions.some((p) => p?.type === MBR_TYPE_GPT_PROTECTIVE)) {
    // the primary header is gone: the backup in the last sector tells the sector size
    const sectorSize = (await lastSectorHasGpt(source, 512)) || !(await lastSectorHasGpt(source, 4096)) ? 512 : 4096;
    return readGpt(source, sectorSize, head, options);
  }
  return readMbr(source, mbr);
}

async function lastSectorHasGpt(source: RandomAccessSource, sectorSize: number): Promise<boolean> {
  const sectors = Math.floor(source.size / sectorSize);
  return sectors >= 2 && hasGptSignature(await source.read((sectors - 1) * sectorSize, 8));
}

/** One copy of the GPT (header and entry array), every check passed. */
interface GptCopy {
  header: GptHeader;
  entries: Array<GptEntry | undefined>;
}

/**
 * The primary GPT when it is sound, else the backup in the last sector (as gdisk and the kernel
 * do). Whatever copy is used, a problem with the other one is a warning; both damaged is one
 * error naming both problems.
 */
async function readGpt(source: RandomAccessSource, sectorSize: number, head: Uint8Array, options: ReadPartitionTableOptions): Promise<PartitionTable> {
  const subject = source.name;
  const totalSectors = Math.floor(source.size / sectorSize);
  const problems: string[] = [];
  const warn = (message: string) => {
    problems.push(message);
    options.warn?.(message);
  };
  let used: GptCopy;
  let backupHeader: GptHeader | undefined;
  let from: 'primary' | 'backup' = 'primary';
  const primary = await attempt(() => readGptCopy(source, sectorSize, 'primary', 1, totalSectors));
  if (!(primary instanceof ReprimageError)) {
    used = primary;
    const alternate = primary.header.alternateLba;
    if (alternate >= totalSectors) {
      warn(`${subject}: the backup GPT header belongs at sector ${alternate}, past the end of the image (${totalSectors} sectors): the image is truncated; using the primary GPT`);
      const cut = primary.entries.findIndex((e) => e !== undefined && e.lastLba >= totalSectors);
      if (cut >= 0) {
        const e = primary.entries[cut]!;
        throw new ReprimageError('TRUNCATED', subject, `truncated disk image: GPT partition ${cut + 1} (sectors ${e.firstLba}..${e.lastLba}) reaches past the end of the image (${totalSectors} sectors)`);
      }
    } else {
      const backup = await attempt(() => readGptCopy(source, sectorSize, 'backup', alternate, totalSectors));
      if (backup instanceof ReprimageError) {
        warn(`${subject}: the backup GPT at sector ${alternate} is damaged (${backup.detail}); using the primary GPT`);
      } else {
        backupHeader = backup.header;
        const differs = differences(primary.header, backup.header);
        if (differs.length > 0) warn(`${subject}: the backup GPT at sector ${alternate} differs from the primary (${differs.join(', ')}); using the primary GPT`);
      }
    }
  } else {
    const lastLba = totalSectors - 1;
    const backup = await attempt(() => readGptCopy(source, sectorSize, 'backup', lastLba, totalSectors));
    if (backup instanceof ReprimageError) {
      throw new ReprimageError(primary.code, subject, `both copies of the GPT are damaged: the primary: ${primary.detail}; the backup at sector ${lastLba}: ${backup.detail}`);
    }
    warn(`${subject}: the primary GPT is damaged (${primary.detail}); using the backup GPT at sector ${lastLba}`);
    used = backup;
    backupHeader = backup.header;
    from = 'backup';
  }
  const partitions: DiskPartition[] = [];
  used.entries.forEach((e, i) => {
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
  return { scheme: 'gpt', sectorSize, diskGuid: used.header.diskGuid, diskSignature: mbr?.diskSignature, partitions, header: used.header, backupHeader, gptCopy: from, problems, mbr };
}

/** The result, or the ReprimageError that says what is wrong with the input (I/O errors propagate). */
async function attempt<T>(read: () => Promise<T>): Promise<T | ReprimageError> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ReprimageError && e.code !== 'IO') return e;
    throw e;
  }
}

/** What a sound backup header describes differently from the primary. */
function differences(a: GptHeader, b: GptHeader): string[] {
  const out: string[] = [];
  if (a.diskGuid !== b.diskGuid) out.push(`disk GUID ${b.diskGuid}, not ${a.diskGuid}`);
  if (a.entryCount !== b.entryCount || a.entrySize !== b.entrySize) out.push(`${b.entryCount} entries of ${b.entrySize} bytes, not ${a.entryCount} of ${a.entrySize}`);
  if (a.entriesCrc !== b.entriesCrc) out.push('other partition entries');
  if (a.firstUsableLba !== b.firstUsableLba || a.lastUsableLba !== b.lastUsableLba) out.push(`usable sectors ${b.firstUsableLba}..${b.lastUsableLba}, not ${a.firstUsableLba}..${a.lastUsableLba}`);
  return out;
}

/**
 * Reads and checks one copy of the GPT: the header at `lba` (signature, revision, CRC, where it
 * says it is and where its partner is), its usable range, its entry array (size, place, CRC) and
 * the partitions (inside the usable range, no overlaps). The primary may name a backup past the
 * end of a truncated image; the caller deals with that.
 */
async function readGptCopy(source: RandomAccessSource, sectorSize: number, which: 'primary' | 'backup', lba: number, totalSectors: number): Promise<GptCopy> {
  const subject = source.name;
  const offset = lba * sectorSize;
  if (lba < 1 || offset + sectorSize > source.size) throw new ReprimageError('TRUNCATED', subject, `truncated disk image: no ${which} GPT header at sector ${lba}`);
  const header = decodeGptHeader(await source.read(offset, sectorSize), subject, offset);
  const what = `${which} GPT header`;
  if (header.myLba !== lba) throw corruptError(subject, what, offset, `it says it is at sector ${header.myLba}, not ${lba}`);
  if (which === 'backup' && header.alternateLba !== 1) throw corruptError(subject, what, offset, `it places the primary header at sector ${header.alternateLba}, not 1`);
  if (which === 'primary' && header.alternateLba <= 1) throw corruptError(subject, what, offset, `it places the backup header at sector ${header.alternateLba}`);
  // the usable range lies between the two copies (the primary's end is its backup's sector, which may be past a truncated image)
  const end = which === 'primary' ? header.alternateLba : Math.min(lba, totalSectors);
  if (header.firstUsableLba < 2 || header.firstUsableLba > header.lastUsableLba || header.lastUsableLba >= end) {
    throw new ReprimageError('OUT_OF_BOUNDS', subject, `${which} GPT usable sectors ${header.firstUsableLba}..${header.lastUsableLba} do not fit between sectors 2 and ${end - 1}`);
  }
  const entries = await readEntries(source, header, sectorSize, which);
  checkPartitionLayout(entries, header.firstUsableLba, header.lastUsableLba, (detail, kind) =>
    kind === 'bounds' ? new ReprimageError('OUT_OF_BOUNDS', subject, `${which} GPT ${detail}`) : corruptError(subject, `${which} GPT entries`, header.entriesLba * sectorSize, detail),
  );
  return { header, entries };
}

async function readEntries(source: RandomAccessSource, header: GptHeader, sectorSize: number, which: 'primary' | 'backup'): Promise<Array<GptEntry | undefined>> {
  const subject = source.name;
  const bytes = header.entryCount * header.entrySize;
  if (header.entryCount === 0 || bytes > GPT_MAX_ENTRY_ARRAY_BYTES) {
    throw new ReprimageError('OVERFLOW', subject, `${which} GPT declares ${header.entryCount} entries of ${header.entrySize} bytes, more than the ${GPT_MAX_ENTRY_ARRAY_BYTES} bytes of entries accepted`);
  }
  const offset = header.entriesLba * sectorSize;
  if (header.entriesLba < 2 || offset + bytes > source.size) {
    throw new ReprimageError('OUT_OF_BOUNDS', subject, `${which} GPT entry array at sector ${header.entriesLba} (${bytes} bytes) lies outside the image of ${source.size} bytes`);
  }
  // the array sits between its header and the usable sectors, never on either
  const lastSector = header.entriesLba + Math.ceil(bytes / sectorSize) - 1;
  const clear = which === 'primary' ? lastSector < header.firstUsableLba : header.entriesLba > header.lastUsableLba && lastSector < header.myLba;
  if (!clear) {
    throw new ReprimageError('OUT_OF_BOUNDS', subject, `${which} GPT entry array (sectors ${header.entriesLba}..${lastSector}) overlaps the usable sectors ${header.firstUsableLba}..${header.lastUsableLba} or its header at sector ${header.myLba}`);
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
