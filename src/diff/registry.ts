/**
 * The comparators, in the order they are tried: the formats in the one sniffing order of the
 * format registry (src/formats/registry.ts), then compressed streams. Bytes that none recognizes
 * are compared as text or as a hex dump by the engine. A format with a comparator of its own
 * (decoded structures, stored order) is listed in OWN_COMPARATORS; a disk-image format (a handler
 * with `openDisk`) is compared as the disk it holds; any other registry format is compared as
 * the Tree its reader gives. So a new format is diffed from its registry line on.
 */
import type { Comparator } from './comparator.js';
import { FORMATS } from '../formats/registry.js';
import type { FormatDefinition, FormatHandler } from '../formats/format.js';
import { withSource } from './comparators/open-helpers.js';
import { treeContainer } from './comparators/tree-members.js';
import { arComparator } from './comparators/ar.js';
import { compressedComparator } from './comparators/compressed.js';
import { cpioComparator } from './comparators/cpio.js';
import { ext4Comparator } from './comparators/ext4.js';
import { fatComparator } from './comparators/fat.js';
import { iso9660Comparator } from './comparators/iso9660.js';
import { squashfsComparator } from './comparators/squashfs.js';
import { tarComparator } from './comparators/tar.js';
import { diskImageComparator } from './comparators/vm-disk.js';
import { zipComparator } from './comparators/zip.js';

/** The formats whose comparator is their own module, by format id. */
const OWN_COMPARATORS: ReadonlyMap<string, Comparator> = new Map(
  [iso9660Comparator, squashfsComparator, ext4Comparator, fatComparator, cpioComparator, tarComparator, arComparator, zipComparator].map((c) => [c.id, c] as const),
);

/** A registry format without a comparator of its own: its reader's Tree, member by member. */
export function treeComparator(format: FormatDefinition, handler: FormatHandler): Comparator {
  return {
    id: format.id,
    recognizes: (head, size) => handler.sniff(head, size),
    open: (input) =>
      withSource(input, async (source) => {
        const { openSource } = await import('../image/open-tree.js');
        const opened = await handler.open(source, { warn: input.warn, openNested: (inner) => openSource(inner, [], { warn: input.warn }) });
        return treeContainer(opened.tree, { close: () => opened.close() });
      }),
  };
}

/**
 * The comparator of a registry format: its own module's; for a disk (a raw partitioned image, or
 * any format whose handler has `openDisk`) one that compares the disk it holds, so that disks in
 * different containers compare; else its reader's Tree.
 */
function comparatorOf(format: FormatDefinition, handler: FormatHandler): Comparator {
  // the raw disk's comparator too opens through the registry: a fixed VHD shows only at its end
  if (format.id === 'disk' || handler.openDisk) return diskImageComparator((head, size) => handler.sniff(head, size));
  const own = OWN_COMPARATORS.get(format.id);
  // recognized by the registry's own sniff, so that diff cannot disagree with ls and pack
  return own ? { ...own, recognizes: (head, size) => handler.sniff(head, size) } : treeComparator(format, handler);
}

const handlers = await Promise.all(FORMATS.map((f) => f.load()));

/** Each registry format's comparator, by format id, in the registry's order. */
export const FORMAT_COMPARATORS: ReadonlyMap<string, Comparator> = new Map(FORMATS.map((f, i) => [f.id, comparatorOf(f, handlers[i]!)] as const));

export const defaultComparators: readonly Comparator[] = [
  ...FORMAT_COMPARATORS.values(),
  compressedComparator('gzip'),
  compressedComparator('xz'),
  compressedComparator('zstd'),
  compressedComparator('bzip2'),
  compressedComparator('lz4'),
  compressedComparator('lzma'),
  compressedComparator('lzop'),
];
