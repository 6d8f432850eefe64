/**
 * What writes each codec's bytes, as constant strings with the settings that decide them
 * (docs/design.md rule 6). They live here, in a module that imports nothing, so that
 * `reprimage --version` and the manifests can name every codec without loading one: start-up is
 * paid by every call (docs/benchmarks.md). The codec modules take their package names and settings
 * from here too, so the names cannot drift from what runs.
 */

/** The npm package whose WebAssembly libdeflate writes deflate (libdeflate/compressor.ts). */
export const LIBDEFLATE_PACKAGE = 'libdeflate@0.1.0';
/** The npm package whose WebAssembly libzstd writes zstd (zstd/compressor.ts). */
export const ZSTD_PACKAGE = '@hpcc-js/wasm-zstd@1.12.5';
/** The npm package whose .wasm reads and writes xz (liblzma/module.ts). */
export const LIBLZMA_PACKAGE = 'node-liblzma 4.0.2';

/** LZMA2 preset 6's dictionary, as `xz -6` (the default). */
export const XZ_OUTPUT_DICTIONARY = 8 << 20;
/** Uncompressed bytes per block of .xz outputs. */
export const XZ_OUTPUT_BLOCK = 3 * XZ_OUTPUT_DICTIONARY;
/** What writes .xz outputs (xz-sink.ts). */
export const XZ_OUTPUT_CODEC = `${LIBLZMA_PACKAGE} (liblzma in WebAssembly), LZMA2 preset 6, 8 MiB dictionary, ${XZ_OUTPUT_BLOCK >> 20} MiB blocks, CRC32`;

/**
 * The level of .zst outputs: 19, the highest without --ultra; images are written once and read
 * often. It costs: 45 MB of tar took 31 s of CPU here (native zstd -19: 28 s) for 8.96 MB, where
 * level 15 gives 10.2 MB and level 3 12.4 MB (docs/compression.md).
 */
export const ZSTD_OUTPUT_LEVEL = 19;
/** Uncompressed bytes per frame of .zst outputs (when the stream is cut into frames). */
export const ZSTD_OUTPUT_FRAME = 32 << 20;
/** What writes .zst outputs (zstd-sink.ts). */
export const ZSTD_OUTPUT_CODEC = `${ZSTD_PACKAGE} level ${ZSTD_OUTPUT_LEVEL}, frames of ${ZSTD_OUTPUT_FRAME >> 20} MiB (a cpio archive: one frame)`;

/** Name, implementation and version of each SquashFS block codec (squashfs-codecs.ts). */
export const SQUASHFS_CODEC_IMPLEMENTATIONS = {
  gzip: `${LIBDEFLATE_PACKAGE} (libdeflate in WebAssembly), level 9`,
  xz: `${LIBLZMA_PACKAGE} (liblzma 5.8.2 in WebAssembly)`,
  zstd: ZSTD_PACKAGE,
  lz4: 'reprimage lz4-block 1 (pure TypeScript)',
} as const;

/** The SquashFS gzip implementation with `deflate: 'zlib'`. */
export const SQUASHFS_GZIP_ZLIB_IMPLEMENTATION = 'pako 2.1.0 (zlib deflate)';

/**
 * zstd level of the live ISO's repacked initramfs (initramfs-codecs.ts): 3, zstd's own default.
 * mkinitramfs uses 9, which in our WebAssembly zstd runs at ≈ 15-20 MB/s on a loaded 2-core
 * machine (9 s for a 130 MB archive); 6 took ≈ 5 s for 4 % more bytes, 3 takes ≈ 1.6 s for 14 %
 * more (35.0 MB instead of 30.7 MB).
 */
export const INITRAMFS_ZSTD_LEVEL = 3;
/**
 * libdeflate level of a gzip main archive (what mkinitramfs falls back to when the root has no
 * zstd binary). pako at level 9 took 80 s for 150 MB; libdeflate 6 takes ≈ 4 s and its output
 * is smaller than pako's 9; libdeflate 9 took 21 s for 1 % less.
 */
export const INITRAMFS_GZIP_LEVEL = 6;
/** How the repacked initramfs is compressed, for manifests and docs. */
export const INITRAMFS_CODECS = {
  gzip: `${LIBDEFLATE_PACKAGE} (libdeflate in WebAssembly) level ${INITRAMFS_GZIP_LEVEL}, one gzip member`,
  zstd: `${ZSTD_PACKAGE} level ${INITRAMFS_ZSTD_LEVEL}, one frame`,
} as const;
