/**
 * The comparators, in the order they are tried: the formats in the one sniffing order of the
 * format registry (src/formats/registry.ts), then compressed streams. Bytes that none recognizes
 * are compared as text or as a hex dump by the engine. Adding a format: its folder and registry
 * line, one comparator module, and its entry in FORMAT_COMPARATORS here.
 */
import type { Comparator } from './comparator.js';
import { FORMATS } from '../formats/registry.js';
import { arComparator } from './comparators/ar.js';
import { compressedComparator } from './comparators/compressed.js';
import { cpioComparator } from './comparators/cpio.js';
import { diskComparator } from './comparators/disk.js';
import { ext4Comparator } from './comparators/ext4.js';
import { fatComparator } from './comparators/fat.js';
import { iso9660Comparator } from './comparators/iso9660.js';
import { squashfsComparator } from './comparators/squashfs.js';
import { tarComparator } from './comparators/tar.js';
import { zipComparator } from './comparators/zip.js';

/** Each registry format's comparator, by format id (a unit test checks that none is missing). */
export const FORMAT_COMPARATORS: ReadonlyMap<string, Comparator> = new Map(
  [iso9660Comparator, squashfsComparator, ext4Comparator, fatComparator, diskComparator, cpioComparator, tarComparator, arComparator, zipComparator].map((c) => [c.id, c]),
);

export const defaultComparators: readonly Comparator[] = [
  ...FORMATS.flatMap((f) => FORMAT_COMPARATORS.get(f.id) ?? []),
  compressedComparator('gzip'),
  compressedComparator('xz'),
  compressedComparator('zstd'),
  compressedComparator('bzip2'),
  compressedComparator('lz4'),
  compressedComparator('lzma'),
  compressedComparator('lzop'),
];
