/**
 * `reprimage/image`: whole images from Trees. `writeImage`/`writeImageFile` write any format the
 * registry writes with the metadata policy applied first (times clamped to the build time);
 * `writeDiskImage` lays out a partitioned disk; `openTree` opens any image, archive or directory
 * as a Tree; `writeLiveIso` assembles a bootable live ISO from a root file system.
 */
export { writeImage, writeImageFile, writeDiskImage, type ImageWriteOptions, type DiskImageOptions, type WritePolicy } from './write-image.js';
export { openTree, type OpenedTree } from './open-tree.js';
export { packTree, type PackOptions } from './pack.js';
export { OUTPUT_FORMATS, chooseOutputFormat, type OutputFormat } from './output-formats.js';
export { writeDisk, type DiskOptions, type DiskReport, type DiskPartitionSpec, type DiskPartitionReport, type PartitionContent } from './disk.js';
export { writeLiveIso, type LiveIsoOptions, type LiveIsoReport } from './live-iso.js';
