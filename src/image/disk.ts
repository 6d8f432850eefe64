/**
 * Assembles a partitioned disk image in one pass: the partitions' contents are streamed into
 * place one after the other (each starting on the alignment, 1 MiB by default), the backup GPT
 * is appended, and the MBR and primary GPT are written last at the start. Runs of zeros are
 * left as holes, so a disk with a large empty partition costs only its data on disk.
 *
 *   0 ─ MBR, primary GPT ─ 1 MiB ─ partition 1 ─ aligned ─ partition 2 … ─ backup GPT ─ end
 *
 * Every byte depends only on the trees, files and options: identifiers come from the seed
 * (docs/design.md rule 4), each partition's from its type and its rank among partitions of that type,
 * so adding a swap partition does not change the root partition's UUID.
 */
import { open } from 'node:fs/promises';
import { ReprimageError, fromSystemError } from '../errors.js';
import type { Sink } from '../io/sink.js';
import { abortableSink } from '../io/abort.js';
import type { Tree } from '../tree/tree.js';
import { deriveU32, deriveUuid } from '../tree/identifiers.js';
import { ID_PURPOSES as ID, scopedIdentifiers, seededIdentifiers } from '../tree/id-purposes.js';
import type { WriteContext, WriteSettings } from '../formats/format.js';
import { formatById } from '../formats/registry.js';
import {
  mbrTypeFor, normalizeGuid, parseAttributes, partitionTypeGuid, partitionTypeName, writeGpt, writeMbr,
  GPT_DEFAULT_ENTRY_COUNT, GPT_ENTRY_SIZE, type GptEntry, type MbrPartition,
} from '../formats/gpt/index.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';

const SECTOR = 512;
const MIB = 1 << 20;

/** What goes into a partition. */
export type PartitionContent =
  | { kind: 'fat'; tree: Tree; fatType?: 12 | 16 | 32; label?: string }
  | { kind: 'ext4'; tree: Tree; label?: string; blockSize?: 1024 | 4096 }
  | { kind: 'squashfs'; tree: Tree; compressor?: SquashfsCompressorName }
  /** The bytes of a file (a file-system image made elsewhere), streamed. */
  | { kind: 'file'; path: string }
  /** Zeros (a hole): swap, or space for later. Needs `size`. */
  | { kind: 'empty' };

export interface DiskPartitionSpec {
  /** A Discoverable Partitions Specification name (`esp`, `root-x86-64`, …), a GUID, or for MBR tables also `0xNN`. */
  type: string;
  /** GPT partition name; default: the type's name, as systemd-repart labels partitions. */
  name?: string;
  /** GPT partition UUID; default: derived from the seed. */
  uuid?: string;
  /** GPT attribute names or bit numbers (`required`, `no-auto`, `60`). */
  attributes?: readonly string[];
  /** MBR active flag. */
  bootable?: boolean;
  /** Partition size in bytes (a multiple of 512); default: the content rounded up to the alignment. */
  size?: number;
  content: PartitionContent;
}

export interface DiskOptions {
  /** Default 'gpt'. */
  table?: 'gpt' | 'mbr';
  partitions: readonly DiskPartitionSpec[];
  /** Where identifiers come from. */
  seed: string;
  /** File-system creation times; mtimes in the trees should already be clamped to it. */
  buildTime: number;
  diskGuid?: string;
  /** MBR disk signature (MBR tables); default: derived from the seed. */
  diskSignature?: number;
  /** Partition start alignment in bytes, a multiple of 512; default 1 MiB. */
  alignment?: number;
  /** Whole disk size in bytes; default: the partitions plus the backup GPT, rounded up to the alignment. */
  size?: number;
  /** GPT entries; default 128. */
  entryCount?: number;
  workers?: number;
  warn?: (message: string) => void;
  /** Name of the output in messages. */
  subject?: string;
  /** Stops the write at the next block (an ABORTED error). */
  signal?: AbortSignal;
}

export interface DiskPartitionReport {
  number: number;
  type: string;
  typeGuid?: string;
  mbrType?: number;
  uuid?: string;
  name?: string;
  attributes?: string;
  offset: number;
  size: number;
  /** Bytes the content occupies at the start of the partition. */
  contentSize: number;
  content: PartitionContent['kind'];
  /** The file-system UUID or serial the content was given. */
  filesystemId?: string;
}

export interface DiskReport {
  table: 'gpt' | 'mbr';
  size: number;
  diskGuid?: string;
  diskSignature?: number;
  partitions: DiskPartitionReport[];
}

/**
 * Writes the disk to `sink`, which must be empty (position 0) and seekable (a file). USAGE
 * errors for specs that cannot be laid out (unknown types, a content larger than its size, more
 * than 4 MBR partitions, a disk size too small).
 */
export async function writeDisk(sink: Sink, o: DiskOptions): Promise<DiskReport> {
  const subject = o.subject ?? 'disk';
  if (sink.position !== 0) throw new ReprimageError('USAGE', subject, 'a disk image must start at the beginning of its output');
  const table = o.table ?? 'gpt';
  const align = o.alignment ?? MIB;
  if (!Number.isSafeInteger(align) || align < SECTOR || align % SECTOR !== 0) throw new ReprimageError('USAGE', '--align', `alignment must be a multiple of 512 bytes, got ${align}`);
  if (o.partitions.length === 0) throw new ReprimageError('USAGE', subject, 'a disk needs at least one partition');
  const entryCount = o.entryCount ?? GPT_DEFAULT_ENTRY_COUNT;
  if (table === 'mbr' && o.partitions.length > 4) throw new ReprimageError('USAGE', subject, `an MBR holds at most 4 primary partitions, got ${o.partitions.length}`);
  if (table === 'gpt' && o.partitions.length > entryCount) throw new ReprimageError('USAGE', subject, `${o.partitions.length} partitions do not fit ${entryCount} GPT entries`);
  const gptEntrySectors = Math.ceil((entryCount * GPT_ENTRY_SIZE) / SECTOR);
  const headSectors = table === 'gpt' ? 2 + gptEntrySectors : 1;
  const tailBytes = table === 'gpt' ? (1 + gptEntrySectors) * SECTOR : 0;

  // resolve types and identifiers before writing anything, so that usage errors come first
  const rank = new Map<string, number>();
  const plans = o.partitions.map((spec, i) => {
    const where = `partition ${i + 1}`;
    const typeGuid = table === 'gpt' ? partitionTypeGuid(spec.type, `${where} type`) : undefined;
    const mbrType = table === 'mbr' ? mbrTypeFor(spec.type, `${where} type`) : undefined;
    const key = typeGuid ?? `mbr-${mbrType}`;
    const k = rank.get(key) ?? 0;
    rank.set(key, k + 1);
    const uuid = spec.uuid !== undefined ? normalizeGuid(spec.uuid, `${where} uuid`) : deriveUuid(o.seed, ID.diskPartition(key, k));
    if (spec.size !== undefined && (!Number.isSafeInteger(spec.size) || spec.size <= 0 || spec.size % SECTOR !== 0)) {
      throw new ReprimageError('USAGE', `${where} size`, `must be a positive multiple of 512 bytes, got ${spec.size}`);
    }
    if (spec.content.kind === 'empty' && spec.size === undefined) throw new ReprimageError('USAGE', where, 'an empty partition needs a size (e.g. swap:size=64M)');
    const attributes = parseAttributes(spec.attributes ?? [], `${where} attributes`);
    const name = spec.name ?? (typeGuid ? (partitionTypeName(typeGuid) ?? '') : '');
    if (table === 'mbr' && (spec.name !== undefined || spec.uuid !== undefined || attributes !== 0n)) {
      throw new ReprimageError('USAGE', where, 'names, UUIDs and attributes need a GPT (--table gpt)');
    }
    return { spec, typeGuid, mbrType, uuid, attributes, name, where };
  });
  const diskGuid = table === 'gpt' ? (o.diskGuid !== undefined ? normalizeGuid(o.diskGuid, '--disk-guid') : deriveUuid(o.seed, ID.diskGptDiskGuid)) : undefined;
  const diskSignature = table === 'mbr' ? (o.diskSignature ?? deriveU32(o.seed, ID.diskMbrDiskSignature)) : undefined;

  await skip(sink, roundUp(headSectors * SECTOR, align));
  const reports: DiskPartitionReport[] = [];
  for (const [i, p] of plans.entries()) {
    const start = sink.position;
    const { contentSize, filesystemId } = await writeContent(new SparseSink(sink), p.spec, start, p.uuid, o, `${subject} ${p.where}`).catch((e: unknown) => {
      // a file system that cannot be made as asked: say which partition
      if (e instanceof ReprimageError && e.code === 'USAGE') throw new ReprimageError('USAGE', `${subject} ${p.where}`, e.message, { cause: e });
      throw e;
    });
    const size = p.spec.size ?? roundUp(Math.max(contentSize, SECTOR), align);
    if (contentSize > size) throw new ReprimageError('USAGE', `${p.where} size`, `${p.spec.content.kind} content of ${contentSize} bytes does not fit ${size} bytes`);
    await skip(sink, start + size - sink.position);
    await skip(sink, roundUp(sink.position, align) - sink.position);
    reports.push({
      number: i + 1,
      type: p.spec.type,
      typeGuid: p.typeGuid,
      mbrType: p.mbrType,
      uuid: table === 'gpt' ? p.uuid : undefined,
      name: table === 'gpt' ? p.name : undefined,
      attributes: table === 'gpt' ? `0x${p.attributes.toString(16).padStart(16, '0')}` : undefined,
      offset: start,
      size,
      contentSize,
      content: p.spec.content.kind,
      filesystemId,
    });
  }

  const needed = roundUp(sink.position + tailBytes, align);
  const total = o.size ?? needed;
  if (!Number.isSafeInteger(total) || total % SECTOR !== 0 || total < sink.position + tailBytes) {
    throw new ReprimageError('USAGE', '--size', `the disk needs at least ${sink.position + tailBytes} bytes (a multiple of 512), got ${total}`);
  }
  const totalSectors = total / SECTOR;
  if (table === 'gpt') {
    const entries: GptEntry[] = plans.map((p, i) => ({
      typeGuid: p.typeGuid!,
      guid: p.uuid,
      firstLba: reports[i]!.offset / SECTOR,
      lastLba: (reports[i]!.offset + reports[i]!.size) / SECTOR - 1,
      attributes: p.attributes,
      name: p.name,
    }));
    await writeGpt(sink, { totalSectors, diskGuid: diskGuid!, entries, entryCount });
  } else {
    const parts: MbrPartition[] = plans.map((p, i) => ({ bootable: p.spec.bootable ?? false, type: p.mbrType!, firstLba: reports[i]!.offset / SECTOR, sectors: reports[i]!.size / SECTOR }));
    await writeMbr(sink, total, { diskSignature: diskSignature!, partitions: parts });
  }
  await sink.flush();
  return { table, size: total, diskGuid, diskSignature, partitions: reports };
}

async function writeContent(
  sink: Sink, spec: DiskPartitionSpec, start: number, partUuid: string, o: DiskOptions, subject: string,
): Promise<{ contentSize: number; filesystemId?: string }> {
  const c = spec.content;
  switch (c.kind) {
    case 'empty':
      return { contentSize: 0 };
    case 'file':
      return { contentSize: await copyFile(sink, c.path, spec.size) };
    default: {
      // a file system, written by its format in the registry; its identifiers follow from the
      // partition's (the systemd-repart convention), through the partition's scope
      const handler = await formatById(c.kind)!.load();
      const ctx: WriteContext = {
        buildTime: o.buildTime,
        ids: scopedIdentifiers(seededIdentifiers(o.seed), ID.diskPartitionScope(partUuid)),
        warn: (m) => o.warn?.(`${subject}: ${m}`),
        workers: o.workers,
        subject,
        signal: o.signal,
      };
      const to = o.signal ? abortableSink(sink, o.signal, subject) : sink;
      const written = await handler.write!(c.tree, to, ctx, partitionSettings(c, spec.size, start));
      return { contentSize: written.size, filesystemId: written.filesystemId };
    }
  }
}

/** The registry's settings for a partition's file system: its own, and the partition's size. */
function partitionSettings(c: Extract<PartitionContent, { tree: Tree }>, size: number | undefined, start: number): WriteSettings {
  switch (c.kind) {
    case 'fat':
      return { fat: { fatType: c.fatType, label: c.label, size, hiddenSectors: start / SECTOR } };
    case 'ext4':
      return { ext4: { blockSize: c.blockSize, size, label: c.label } };
    case 'squashfs':
      return { squashfs: { compressor: c.compressor } };
  }
}

/** Streams a file into the sink; all-zero blocks become holes. */
async function copyFile(sink: Sink, path: string, limit: number | undefined): Promise<number> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fromSystemError(e, path);
  }
  try {
    const { size } = await fh.stat();
    if (limit !== undefined && size > limit) throw new ReprimageError('USAGE', path, `${size} bytes do not fit the partition size of ${limit} bytes`);
    const buf = new Uint8Array(MIB);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(MIB, size - done), done);
      if (bytesRead === 0) throw new ReprimageError('IO', path, `file shrank to ${done} bytes while reading it`);
      await sink.write(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
    return size;
  } catch (e) {
    throw fromSystemError(e, path);
  } finally {
    await fh.close();
  }
}

const ZERO_BLOCK = 4096;

/**
 * A sink that turns whole 4 KiB blocks of zeros into holes (`skip`) in the sink below. The
 * writers of FAT, SquashFS and ext4 need not know about sparseness.
 */
class SparseSink implements Sink {
  constructor(private readonly inner: Sink) {}

  get position(): number {
    return this.inner.position;
  }

  async write(bytes: Uint8Array): Promise<void> {
    // blocks are cut at the output's 4 KiB boundaries, so holes line up with file-system blocks
    const base = this.inner.position;
    let runStart = 0;
    let runZero = false;
    for (let at = 0; at < bytes.length; ) {
      const end = Math.min(bytes.length, at + ZERO_BLOCK - ((base + at) % ZERO_BLOCK));
      const zero = end - at === ZERO_BLOCK && isZero(bytes, at, end);
      if (zero !== runZero && at > runStart) {
        await this.#emit(bytes.subarray(runStart, at), runZero);
        runStart = at;
      }
      runZero = zero;
      at = end;
    }
    if (runStart < bytes.length) await this.#emit(bytes.subarray(runStart), runZero);
  }

  async #emit(bytes: Uint8Array, zero: boolean): Promise<void> {
    if (zero) await skip(this.inner, bytes.length);
    else await this.inner.write(bytes);
  }

  writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    return this.inner.writeAt(offset, bytes);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  skip(length: number): Promise<void> {
    return skip(this.inner, length);
  }
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Appends `length` zero bytes: a hole where the sink can make one. */
async function skip(sink: Sink, length: number): Promise<void> {
  if (length <= 0) return;
  const s = sink as Sink & { skip?: (n: number) => Promise<void> };
  if (typeof s.skip === 'function') return s.skip(length);
  const zeros = new Uint8Array(Math.min(length, MIB));
  for (let left = length; left > 0; left -= zeros.length) await sink.write(left >= zeros.length ? zeros : zeros.subarray(0, left));
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
