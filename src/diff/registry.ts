/**
 * The comparators, in the order they are tried: the formats in the one sniffing order of the
 * format registry (src/formats/registry.ts), then compressed streams. Bytes that none recognizes
 * are compared as text or as a hex dump by the engine. A format with a comparator of its own
 * (decoded structures, stored order) is listed in FORMAT_COMPARATORS; any other registry format
 * is compared as the Tree its reader gives, so a new format is diffed from its registry line on.
 */
import type { Comparator } from './comparator.js';
import { FORMATS } from '../formats/registry.js';
import type { FormatDefinition, FormatHandler } from '../formats/format.js';
import { withSource } from './comparators/open-helpers.js';
import { treeContainer } from './comparators/tree-members.js';
import { arComparator } from './comparators/ar.js';
import { compressedComparator } from './comparators/compressed.js';
import { cpioComparator } from './comparators/cpio.js';
import { diskComparator } from './comparators/disk.js';
import { ext4Comparator } from './comparators/ext4.js';
import { fatComparator } from './comparators/fat.js';
import { iso9660Comparator } from './comparators/iso9660.js';
import { squashfsComparator } from './comparators/squashfs.js';
import { tarComparator } from './comparators/tar.js';
import { vmDiskComparator } from './comparators/vm-disk.js';
import { zipComparator } from './comparators/zip.js';

/** Each registry format's comparator, by format id (a unit test checks that none is missing). */
export const FORMAT_COMPARATORS: ReadonlyMap<string, Comparator> = new Map([
  ...[iso9660Comparator, squashfsComparator, ext4Comparator, fatComparator, diskComparator, cpioComparator, tarComparator, arComparator, zipComparator].map((c) => [c.id, c] as const),
  // one comparator for every disk, whatever holds it, so that `diff a.qcow2 b.vhd` (or a qcow2
  // against a raw image) compares the disks; it leaves a raw disk to diskComparator
  ...['qcow2', 'vhd', 'vmdk', 'disk'].map((id) => [id, vmDiskComparator] as const),
]);

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

const handlers = await Promise.all(FORMATS.map((f) => f.load()));

export const defaultComparators: readonly Comparator[] = [
  ...FORMATS.map((f, i) => FORMAT_COMPARATORS.get(f.id) ?? treeComparator(f, handlers[i]!)),
  compressedComparator('gzip'),
  compressedComparator('xz'),
  compressedComparator('zstd'),
  compressedComparator('bzip2'),
  compressedComparator('lz4'),
  compressedComparator('lzma'),
  compressedComparator('lzop'),
];
