/**
 * A whole GPT for a disk of a given size: primary header and entries after the (protective) MBR,
 * backup entries and header in the last sectors, with both CRCs. The entry count and the LBA of
 * the primary entries are options, so an isohybrid ISO can keep its 248 entries at LBA 2..63
 * inside the 32 KiB system area, as xorriso does.
 *
 *   LBA 0            MBR (protective or hybrid)
 *   LBA 1            primary header
 *   LBA entriesLba…  primary entry array  (entryCount × entrySize bytes)
 *   firstUsable … lastUsable   partitions
 *   last-n … last-1  backup entry array
 *   last             backup header
 */
import { ReprimageError } from '../../errors.js';
import { crc32, encodeGptEntries, encodeGptHeader, GPT_DEFAULT_ENTRY_COUNT, GPT_ENTRY_SIZE, type GptEntry } from './gpt.js';

export interface GptTablesRequest {
  /** Sectors of the whole disk, including the backup GPT. */
  totalSectors: number;
  diskGuid: string;
  /** Entries by slot; undefined slots stay unused. */
  entries: ReadonlyArray<GptEntry | undefined>;
  /** Default 128. */
  entryCount?: number;
  /** LBA of the primary entry array; default 2. */
  entriesLba?: number;
  /** Default: the first sector after the primary entry array. */
  firstUsableLba?: number;
  /** Default: the sector before the backup entry array. */
  lastUsableLba?: number;
  sectorSize?: number;
}

export interface GptTables {
  /** Primary header sector, to go at `sectorSize` bytes (LBA 1). */
  primaryHeader: Uint8Array;
  /** The entry array, written twice: at `primaryEntriesLba` and at `backupEntriesLba`. */
  entries: Uint8Array;
  primaryEntriesLba: number;
  backupEntriesLba: number;
  /** Backup header sector, to go in the last sector. */
  backupHeader: Uint8Array;
  backupHeaderLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
}

/**
 * Encodes both copies. A USAGE error when the tables do not fit, or a partition lies outside
 * the usable sectors or overlaps another.
 */
export function buildGptTables(r: GptTablesRequest): GptTables {
  const sectorSize = r.sectorSize ?? 512;
  const entryCount = r.entryCount ?? GPT_DEFAULT_ENTRY_COUNT;
  if (!Number.isInteger(entryCount) || entryCount < 1 || entryCount > 65536) throw new ReprimageError('USAGE', 'GPT', `entry count ${entryCount} is outside 1..65536`);
  const entriesLba = r.entriesLba ?? 2;
  const entrySectors = Math.ceil((entryCount * GPT_ENTRY_SIZE) / sectorSize);
  const backupHeaderLba = r.totalSectors - 1;
  const backupEntriesLba = backupHeaderLba - entrySectors;
  const firstUsableLba = r.firstUsableLba ?? entriesLba + entrySectors;
  const lastUsableLba = r.lastUsableLba ?? backupEntriesLba - 1;
  if (entriesLba < 2 || firstUsableLba < entriesLba + entrySectors || lastUsableLba >= backupEntriesLba || firstUsableLba > lastUsableLba) {
    throw new ReprimageError('USAGE', 'GPT', `a disk of ${r.totalSectors} sectors cannot hold a GPT with ${entryCount} entries at LBA ${entriesLba} and usable sectors ${firstUsableLba}..${lastUsableLba}`);
  }
  checkPartitionLayout(r.entries, firstUsableLba, lastUsableLba, (detail) => new ReprimageError('USAGE', 'GPT', detail));
  const entries = encodeGptEntries(r.entries, entryCount);
  const entriesCrc = crc32(entries);
  const common = { firstUsableLba, lastUsableLba, diskGuid: r.diskGuid, entryCount, entrySize: GPT_ENTRY_SIZE, entriesCrc };
  const primaryHeader = encodeGptHeader({ ...common, myLba: 1, alternateLba: backupHeaderLba, entriesLba }, sectorSize);
  const backupHeader = encodeGptHeader({ ...common, myLba: backupHeaderLba, alternateLba: 1, entriesLba: backupEntriesLba }, sectorSize);
  return { primaryHeader, entries, primaryEntriesLba: entriesLba, backupEntriesLba, backupHeader, backupHeaderLba, firstUsableLba, lastUsableLba };
}

/**
 * Every used entry lies within first..last usable with firstLba <= lastLba, and no two overlap.
 * `fail(detail)` makes the error to throw (USAGE when writing, CORRUPT_IMAGE when reading).
 */
export function checkPartitionLayout(
  entries: ReadonlyArray<{ firstLba: number; lastLba: number } | undefined>,
  firstUsable: number,
  lastUsable: number,
  fail: (detail: string, kind: 'bounds' | 'overlap') => Error,
): void {
  const used: Array<{ slot: number; firstLba: number; lastLba: number }> = [];
  entries.forEach((e, i) => {
    if (!e) return;
    if (e.firstLba > e.lastLba) throw fail(`partition ${i + 1} ends (sector ${e.lastLba}) before it starts (sector ${e.firstLba})`, 'bounds');
    if (e.firstLba < firstUsable || e.lastLba > lastUsable) {
      throw fail(`partition ${i + 1} (sectors ${e.firstLba}..${e.lastLba}) lies outside the usable sectors ${firstUsable}..${lastUsable}`, 'bounds');
    }
    used.push({ slot: i + 1, firstLba: e.firstLba, lastLba: e.lastLba });
  });
  used.sort((a, b) => a.firstLba - b.firstLba);
  for (let k = 1; k < used.length; k++) {
    const a = used[k - 1]!;
    const b = used[k]!;
    if (b.firstLba <= a.lastLba) throw fail(`partitions ${a.slot} (sectors ${a.firstLba}..${a.lastLba}) and ${b.slot} (sectors ${b.firstLba}..${b.lastLba}) overlap`, 'overlap');
  }
}
