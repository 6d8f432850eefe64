/**
 * The codec settings of the live ISO's repacked initramfs (src/image/initramfs-repack.ts). They
 * live here, below image/, so that the codec registry can list them without importing image/.
 */
import { LIBDEFLATE_PACKAGE } from './libdeflate/compressor.js';
import { ZSTD_PACKAGE } from './zstd/compressor.js';

/**
 * zstd level of the main archive: 3, zstd's own default. mkinitramfs uses 9, which in our
 * WebAssembly zstd runs at ≈ 15-20 MB/s on a loaded 2-core machine (9 s for a 130 MB archive);
 * 6 took ≈ 5 s for 4 % more bytes, 3 takes ≈ 1.6 s for 14 % more (35.0 MB instead of 30.7 MB).
 */
export const INITRAMFS_ZSTD_LEVEL = 3;
/**
 * libdeflate level of a gzip main archive (what mkinitramfs falls back to when the root has no
 * zstd binary). pako at level 9 took 80 s for 150 MB; libdeflate 6 takes ≈ 4 s and its output
 * is smaller than pako's 9; libdeflate 9 took 21 s for 1 % less.
 */
export const INITRAMFS_GZIP_LEVEL = 6;

/** How the repack compresses, for manifests and docs. */
export const INITRAMFS_CODECS = {
  gzip: `${LIBDEFLATE_PACKAGE} (libdeflate in WebAssembly) level ${INITRAMFS_GZIP_LEVEL}, one gzip member`,
  zstd: `${ZSTD_PACKAGE} level ${INITRAMFS_ZSTD_LEVEL}, one frame`,
} as const;
