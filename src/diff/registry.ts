/**
 * The comparators, in the order they are tried: images and filesystems first (an isohybrid ISO
 * also carries an MBR), then archives, then compressed streams. Bytes that none recognizes are
 * compared as text or as a hex dump by the engine. Adding a format: one module, one line here.
 */
import type { Comparator } from './comparator.js';
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

export const defaultComparators: readonly Comparator[] = [
  iso9660Comparator,
  squashfsComparator,
  ext4Comparator,
  fatComparator,
  vmDiskComparator,
  diskComparator,
  cpioComparator,
  tarComparator,
  arComparator,
  zipComparator,
  compressedComparator('gzip'),
  compressedComparator('xz'),
  compressedComparator('zstd'),
  compressedComparator('bzip2'),
  compressedComparator('lz4'),
  compressedComparator('lzma'),
  compressedComparator('lzop'),
];
