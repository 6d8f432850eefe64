/**
 * The codec settings of the live ISO's repacked initramfs (src/image/initramfs-repack.ts). They
 * live below image/, in codec-implementations.ts, so that the codec registry can list them
 * without importing image/ or any codec.
 */
export { INITRAMFS_CODECS, INITRAMFS_GZIP_LEVEL, INITRAMFS_ZSTD_LEVEL } from './codec-implementations.js';
