/**
 * Every format reprimage reads or writes, in the one order inputs are sniffed in: by `ls`,
 * `pack`, `diff`, and every other command that opens an image (src/image/open-tree.ts,
 * src/diff/registry.ts). Adding a format is one folder with a `format.ts` and one line here
 * (docs/formats/adding-a-format.md).
 *
 * The order puts strong magic numbers at byte 0 first (cpio `0707`, SquashFS `hsqs`), then
 * formats recognized further in: ISO 9660 (`CD001` at 32 KiB) before partition tables, since an
 * isohybrid ISO also carries an MBR and a GPT; ext4 (superblock at 1 KiB) before FAT, whose
 * boot sector checks are weaker; then ar and zip; tar last, as its only mark is a header checksum.
 * Compressed data (gzip, xz, zstd …) is not a format here but a layer, peeled off first by the
 * caller (src/compress/decompress.ts).
 */
import { ReprimageError } from '../errors.js';
import { abortableSink } from '../io/abort.js';
import type { Sink } from '../io/sink.js';
import type { Tree } from '../tree/tree.js';
import type { RandomAccessSource } from '../io/source.js';
import type { DiskImage, FormatDefinition, FormatHandler, WriteContext, WriteSettings, WrittenImage } from './format.js';
import { arFormat } from './ar/format.js';
import { cpioFormat } from './cpio/format.js';
import { ext4Format } from './ext4/format.js';
import { fatFormat } from './fat/format.js';
import { diskFormat } from './gpt/format.js';
import { qcow2Format } from './qcow2/format.js';
import { vhdFormat } from './vhd/format.js';
import { vmdkFormat } from './vmdk/format.js';
import { iso9660Format } from './iso9660/format.js';
import { squashfsFormat } from './squashfs/format.js';
import { tarFormat } from './tar/format.js';
import { zipFormat } from './zip/format.js';

export const FORMATS: readonly FormatDefinition[] = [
  cpioFormat,
  squashfsFormat,
  iso9660Format,
  ext4Format,
  fatFormat,
  qcow2Format,
  vhdFormat,
  vmdkFormat,
  diskFormat,
  arFormat,
  zipFormat,
  tarFormat,
];

/** Bytes read before sniffing: enough for ISO 9660's first volume descriptor at 32 KiB. */
export const SNIFF_HEAD_SIZE = 64 * 1024;

export function formatById(id: string): FormatDefinition | undefined {
  return FORMATS.find((f) => f.id === id);
}

/**
 * Writes `tree` as the registry format `id` (one with a writer: `cpio`, `fat`, `iso9660` …) from
 * the sink's position. Once `ctx.signal` aborts, the sink refuses the next write, so the writer
 * stops within one block with an ABORTED error naming `ctx.subject` (or the format).
 */
export async function writeFormat(id: string, tree: Tree, sink: Sink, ctx: WriteContext, settings: WriteSettings = {}): Promise<WrittenImage> {
  const format = formatById(id);
  const handler = await format?.load();
  if (!handler?.write) {
    const writable = FORMATS.filter((f) => f.writable).map((f) => f.id);
    throw new ReprimageError('USAGE', id, `no format with a writer has this id (one of ${writable.join(', ')})`);
  }
  return handler.write(tree, ctx.signal ? abortableSink(sink, ctx.signal, ctx.subject ?? id) : sink, ctx, settings);
}

/** Bytes read from the end of an input for the formats known by their end (`sniffTail`). */
export const SNIFF_TAIL_SIZE = 512;

/**
 * The first format, in registry order, that recognizes the input's `tail` (its last
 * SNIFF_TAIL_SIZE bytes, when given), else the first that recognizes its `head`; its handler is
 * loaded.
 */
export async function sniffFormat(head: Uint8Array, size: number, tail?: Uint8Array): Promise<{ format: FormatDefinition; handler: FormatHandler } | undefined> {
  if (tail !== undefined) {
    for (const format of FORMATS) {
      const handler = await format.load();
      if (handler.sniffTail?.(tail, size)) return { format, handler };
    }
  }
  for (const format of FORMATS) {
    const handler = await format.load();
    if (handler.sniff(head, size)) return { format, handler };
  }
  return undefined;
}

/** sniffFormat on the head and tail of `source` (the tail only when the input holds more than it). */
export async function sniffSource(source: RandomAccessSource): Promise<{ format: FormatDefinition; handler: FormatHandler } | undefined> {
  const head = await source.read(0, Math.min(SNIFF_HEAD_SIZE, source.size));
  const tail = source.size >= 2 * SNIFF_TAIL_SIZE ? await source.read(source.size - SNIFF_TAIL_SIZE, SNIFF_TAIL_SIZE) : undefined;
  return sniffFormat(head, source.size, tail);
}

/**
 * The guest disk inside `source` when the registry sniffs it as a disk-image format (one whose
 * handler has `openDisk`: qcow2, VHD, VMDK), with that format's id; undefined for anything else.
 * Damaged images throw (CORRUPT_IMAGE, OUT_OF_BOUNDS, TRUNCATED naming the file); `source` is not
 * closed then.
 */
export async function openDiskImage(source: RandomAccessSource): Promise<(DiskImage & { format: string }) | undefined> {
  const head = await source.read(0, Math.min(SNIFF_HEAD_SIZE, source.size));
  const tail = source.size >= 2 * SNIFF_TAIL_SIZE ? await source.read(source.size - SNIFF_TAIL_SIZE, SNIFF_TAIL_SIZE) : undefined;
  // the disk-image formats' own sniffs first: for anything else no other reader is loaded (diff
  // checks its arguments with this before comparing); a candidate is then decided by the one order
  let candidate = false;
  for (const format of FORMATS.filter((f) => f.diskImage)) {
    const handler = await format.load();
    if ((tail !== undefined && handler.sniffTail?.(tail, source.size)) || handler.sniff(head, source.size)) candidate = true;
  }
  if (!candidate) return undefined;
  const found = await sniffFormat(head, source.size, tail);
  if (!found?.handler.openDisk) return undefined;
  const image = await found.handler.openDisk(source);
  return { format: found.format.id, disk: image.disk, describe: () => image.describe() };
}

/** `tar, cpio, SquashFS …`: what an error says reprimage reads. */
export function readableFormatsText(): string {
  return FORMATS.map((f) => f.title.replace(/ \(.*$/, '')).join(', ');
}
