/**
 * `reprimage/formats`: the format registry, every format reprimage reads or writes in the one order
 * inputs are sniffed in, and the contract each format folder fulfils. Each format's own API is
 * `reprimage/formats/<id>` (tar, cpio, squashfs, iso9660, ext4, fat, gpt, zip, ar).
 */
export { FORMATS, SNIFF_HEAD_SIZE, formatById, sniffFormat, readableFormatsText, writeFormat } from './registry.js';
export type { FormatDefinition, FormatHandler, OpenContext, OpenedImage, WriteContext, WriteSettings } from './format.js';
