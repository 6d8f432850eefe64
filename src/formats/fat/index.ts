/**
 * FAT12/16/32 (EFI system partitions): the public surface of the format. See
 * docs/formats/fat.md for the layout we write and the choices we made.
 */
export { writeFat, normalizeLabel, type FatWriteOptions, type FatWriteReport } from './writer.js';
export { openFat, sniffFat, type FatImage } from './reader.js';
export type { BootSector, FsInfo } from './boot-sector.js';
export { computeGeometry, type Geometry, type GeometryRequest } from './geometry.js';
export type { FatType } from './constants.js';
