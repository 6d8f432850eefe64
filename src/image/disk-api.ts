/**
 * `reprimage/disk`: partitioned disk images. `writeDiskImage` lays out a GPT (or MBR) disk from
 * partition specs whose contents are Trees (FAT, ext4, SquashFS), files or empty space, with the
 * metadata policy applied to every Tree first; `writeDisk` is the layout itself, for a Sink and
 * Trees already shaped. Reading a disk back: `readPartitionTable` (reprimage/formats/gpt), or
 * `openTree` (reprimage/image), which opens each partition by its content.
 */
export { writeDiskImage, type DiskImageOptions, type WritePolicy } from './write-image.js';
export { writeDisk, type DiskOptions, type DiskReport, type DiskPartitionSpec, type DiskPartitionReport, type PartitionContent } from './disk.js';
export { readPartitionTable, type DiskPartition, type PartitionTable } from '../formats/gpt/index.js';
