/**
 * Writing a partition table onto a disk image whose partitions are already in the sink: a GPT
 * (backup entries and header appended at the end of the disk, then the protective MBR, the primary
 * header and entries written back at the start) or an MBR (the disk padded to its size, the MBR
 * written back at sector 0). The sink must be able to write back (a file or memory), and must
 * hold no more than the partitions: the backup GPT goes right after them.
 */
import type { Sink } from '../../io/sink.js';
import { encodeMbr, protectiveMbr, type Mbr } from './mbr.js';
import { buildGptTables, type GptTables, type GptTablesRequest } from './tables.js';

const SECTOR = 512;

/** Appends the backup GPT to fill the disk's `totalSectors`, then writes the MBR and primary GPT back. */
export async function writeGpt(sink: Sink, request: GptTablesRequest): Promise<GptTables> {
  const t = buildGptTables(request);
  await zeros(sink, t.backupEntriesLba * SECTOR - sink.position);
  await sink.write(t.entries);
  await sink.write(t.backupHeader);
  await sink.writeAt(0, protectiveMbr(request.totalSectors));
  await sink.writeAt(SECTOR, t.primaryHeader);
  await sink.writeAt(t.primaryEntriesLba * SECTOR, t.entries);
  return t;
}

/** Pads the disk to `totalBytes`, then writes `mbr` back at sector 0. */
export async function writeMbr(sink: Sink, totalBytes: number, mbr: Mbr): Promise<void> {
  await zeros(sink, totalBytes - sink.position);
  await sink.writeAt(0, encodeMbr(mbr));
}

/** Zeros: a hole where the sink makes them (Sink.skip), else written. */
async function zeros(sink: Sink, length: number): Promise<void> {
  if (length <= 0) return;
  if (sink.skip) return sink.skip(length);
  const block = new Uint8Array(Math.min(length, 1 << 20));
  for (let left = length; left > 0; left -= block.length) await sink.write(left >= block.length ? block : block.subarray(0, left));
}
