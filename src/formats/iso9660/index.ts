/**
 * ISO 9660 (ECMA-119) with Rock Ridge, Joliet, El Torito and isohybrid MBR/GPT: the public
 * surface of the format. See docs/formats/iso9660.md for the layout we write.
 */
export { writeIso, type IsoWriteOptions, type IsoWriteReport } from './writer.js';
export { openIso, sniffIso, type IsoImage, type IsoBootImage, type IsoNamespace } from './reader.js';
export type { VolumeDescriptor } from './volume-descriptor.js';
export type { MbrPartition, GptPartition, GptInfo } from './system-area.js';
export { ISO_SECTOR_SIZE } from './constants.js';
