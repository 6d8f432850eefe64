/**
 * SquashFS 4.0: the format's public surface. `writeSquashfs` writes a Tree deterministically
 * (byte-identical to mksquashfs 4.5.1 for gzip with `deflate: 'zlib'` and the same options; see
 * docs/formats/squashfs.md), `openSquashfs` reads any 4.0 image into a Tree, `sniffSquashfs`
 * recognizes one from its first bytes.
 */
export { writeSquashfs, type SquashfsWriteOptions, type SquashfsWriteReport } from './writer.js';
export { openSquashfs, sniffSquashfs, type SquashfsImage } from './reader.js';
export type { Superblock } from './layout/superblock.js';
export {
  SQUASHFS_COMPRESSORS,
  SQUASHFS_CODEC_IMPLEMENTATIONS,
  type SquashfsCompressorName,
  type SquashfsDeflateImplementation,
} from '../../compress/squashfs-codecs.js';
