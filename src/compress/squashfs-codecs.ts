/**
 * The block codecs of SquashFS: each compresses one data, fragment or metadata block on its own,
 * in the framing the Linux kernel decompresses (zlib stream, xz stream with CRC32 check, zstd
 * frame, raw LZ4 block). The implementations are pinned npm packages whose output depends only
 * on their own version (docs/design.md rule 6):
 *
 * | name | implementation | framing |
 * |---|---|---|
 * | gzip | libdeflate in WebAssembly from the npm package libdeflate 0.1.0 (`libdeflate/`; equal to native libdeflate 1.14), level 9 | zlib stream |
 * | gzip, `deflate: 'zlib'` | pako 2.1.0 (zlib 1.2.x deflate; bytes equal to system zlib, so to mksquashfs), level 9, window 15 | zlib stream |
 * | xz | liblzma 5.8.2 in WebAssembly from the npm package node-liblzma 4.0.2 (`liblzma/`), `lzma_stream_buffer_encode` as mksquashfs calls it: LZMA2 preset 6 with dictionary = block size, optional x86 BCJ | .xz stream, CRC32 |
 * | zstd | @hpcc-js/wasm-zstd 1.12.5 (libzstd 1.5.7 in WebAssembly, `zstd/`; same bytes as @bokuweb/zstd-wasm 0.0.27 before it), level 15 | zstd frame |
 * | lz4 | `lz4-block.ts` here (pure TypeScript, greedy; lz4js 0.2.0 breaks the block end rules) | LZ4 block |
 *
 * gzip defaults to libdeflate: ~8x faster than pako per core and ~1.7 % smaller at level 9,
 * where pako's only advantage is bytes equal to mksquashfs's (docs/formats/squashfs.md).
 *
 * xz no longer compresses with lzma-native: its prebuilt linux-x64 addon carries a liblzma
 * built without optimisation (-O0) that needs ~1.6x the CPU (docs/compression.md).
 *
 * Decompression (for the reader) uses node:zlib for zlib, the same liblzma for xz, fzstd for zstd
 * and a bounds-checked LZ4 block decoder written here.
 */
import { inflateSync } from 'node:zlib';
import pako from 'pako';
import { ReprimageError } from '../errors.js';
import { createDeflateCompressor } from './libdeflate/compressor.js';
import { createZstdCompressor } from './zstd/compressor.js';
import { lz4CompressBlock } from './lz4-block.js';
import { xzBufferEncoder } from './liblzma/buffer-encoder.js';
import { SQUASHFS_CODEC_IMPLEMENTATIONS, SQUASHFS_GZIP_ZLIB_IMPLEMENTATION } from './codec-implementations.js';
import { decodeXzBlock } from './liblzma/decoder.js';
import { decodeBlockInto } from './lz4-frame.js';
import { ZstdFrameGuard } from './zstd-window.js';

export type SquashfsCompressorName = 'gzip' | 'xz' | 'zstd' | 'lz4';
export const SQUASHFS_COMPRESSORS: readonly SquashfsCompressorName[] = ['gzip', 'xz', 'zstd', 'lz4'];

/** Everything that decides a codec's output bytes; plain data, so it can be sent to a worker. */
export interface SquashfsCodecSettings {
  compressor: SquashfsCompressorName;
  /** Codec level; defaults: gzip 9, zstd 15 (xz and lz4 take no level). */
  level?: number;
  /** xz only: also try the x86 BCJ filter and keep the smaller result, as mksquashfs -Xbcj x86. */
  xzBcj?: 'x86';
  /**
   * gzip only: the deflate implementation. 'libdeflate' (default) is fast; 'zlib' (pako, zlib
   * 1.2.x's algorithm) is slower but gives the bytes mksquashfs gives.
   */
  deflate?: SquashfsDeflateImplementation;
  blockSize: number;
}

export type SquashfsDeflateImplementation = 'libdeflate' | 'zlib';

export const SQUASHFS_DEFAULT_LEVEL: Record<SquashfsCompressorName, number | undefined> = {
  gzip: 9,
  xz: undefined,
  zstd: 15,
  lz4: undefined,
};

// name, implementation and version of each codec, for manifests and reports
export { SQUASHFS_CODEC_IMPLEMENTATIONS, SQUASHFS_GZIP_ZLIB_IMPLEMENTATION } from './codec-implementations.js';

/** The implementation that writes the bytes for these settings, for manifests and reports. */
export function codecImplementation(s: SquashfsCodecSettings): string {
  return s.compressor === 'gzip' && s.deflate === 'zlib' ? SQUASHFS_GZIP_ZLIB_IMPLEMENTATION : SQUASHFS_CODEC_IMPLEMENTATIONS[s.compressor];
}

/** Compresses one block; `metadata` selects the metadata-block settings (xz dictionary 8 KiB). */
export interface SquashfsBlockCodec {
  compress(data: Uint8Array, metadata: boolean): Promise<Uint8Array>;
}

/** Checks settings and fills in defaults; throws USAGE for an unknown compressor or bad level. */
export function resolveCodecSettings(s: SquashfsCodecSettings): Required<Omit<SquashfsCodecSettings, 'xzBcj' | 'level' | 'deflate'>> & SquashfsCodecSettings {
  if (!SQUASHFS_COMPRESSORS.includes(s.compressor)) {
    throw new ReprimageError('USAGE', '--comp', `unknown squashfs compressor '${String(s.compressor)}' (known: ${SQUASHFS_COMPRESSORS.join(', ')})`);
  }
  const level = s.level ?? SQUASHFS_DEFAULT_LEVEL[s.compressor];
  if (s.compressor === 'gzip' && (level === undefined || !Number.isInteger(level) || level < 1 || level > 9)) {
    throw new ReprimageError('USAGE', 'compression level', `gzip level must be 1..9, not ${level}`);
  }
  if (s.compressor === 'zstd' && (level === undefined || !Number.isInteger(level) || level < 1 || level > 22)) {
    throw new ReprimageError('USAGE', 'compression level', `zstd level must be 1..22, not ${level}`);
  }
  if ((s.compressor === 'xz' || s.compressor === 'lz4') && s.level !== undefined) {
    throw new ReprimageError('USAGE', 'compression level', `${s.compressor} takes no compression level`);
  }
  if (s.xzBcj !== undefined && (s.compressor !== 'xz' || s.xzBcj !== 'x86')) {
    throw new ReprimageError('USAGE', 'xz BCJ filter', 'only x86 is supported, and only with xz');
  }
  if (s.deflate !== undefined && s.deflate !== 'libdeflate' && s.deflate !== 'zlib') {
    throw new ReprimageError('USAGE', 'deflate implementation', `expected libdeflate or zlib, not '${String(s.deflate)}'`);
  }
  if (s.deflate !== undefined && s.compressor !== 'gzip') {
    throw new ReprimageError('USAGE', 'deflate implementation', `only the gzip compressor takes one, not ${s.compressor}`);
  }
  return { ...s, level };
}

/**
 * The compression options block mksquashfs writes after the superblock, or undefined when the
 * settings are the defaults (mksquashfs then writes none). lz4 always has one: the kernel
 * requires its version field.
 */
export function encodeCompressorOptions(s: SquashfsCodecSettings): Uint8Array | undefined {
  const level = s.level ?? SQUASHFS_DEFAULT_LEVEL[s.compressor];
  switch (s.compressor) {
    case 'gzip': {
      if (level === 9) return undefined;
      const out = new Uint8Array(8);
      const v = new DataView(out.buffer);
      v.setUint32(0, level!, true);
      v.setUint16(4, 15, true); // window size
      v.setUint16(6, 0, true); // strategies: default only
      return out;
    }
    case 'xz': {
      if (s.xzBcj === undefined) return undefined;
      const out = new Uint8Array(8);
      const v = new DataView(out.buffer);
      v.setUint32(0, s.blockSize, true); // dictionary size
      v.setUint32(4, 1, true); // filter bit 0: x86
      return out;
    }
    case 'zstd': {
      if (level === 15) return undefined;
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, level!, true);
      return out;
    }
    case 'lz4': {
      const out = new Uint8Array(8);
      const v = new DataView(out.buffer);
      v.setUint32(0, 1, true); // LZ4_LEGACY
      v.setUint32(4, 0, true); // not HC
      return out;
    }
  }
}

/** Creates a codec instance; call once per thread. */
export async function createSquashfsCodec(settings: SquashfsCodecSettings): Promise<SquashfsBlockCodec> {
  const s = resolveCodecSettings(settings);
  switch (s.compressor) {
    case 'gzip': {
      if (s.deflate === 'zlib') {
        const level = s.level as pako.DeflateOptions['level'];
        return {
          compress: (data) => Promise.resolve(pako.deflate(data, { level, windowBits: 15, memLevel: 8, strategy: 0 })),
        };
      }
      const deflater = await createDeflateCompressor(s.level!);
      return { compress: (data) => Promise.resolve(deflater.zlib(data)) };
    }
    case 'xz':
      return await xzCodec(s.blockSize, s.xzBcj === 'x86');
    case 'zstd': {
      const compress = await createZstdCompressor(s.level!);
      return { compress: (data) => Promise.resolve(compress(data)) };
    }
    case 'lz4': {
      return { compress: (data) => Promise.resolve(lz4CompressBlock(data)) };
    }
  }
}

async function xzCodec(blockSize: number, bcj: boolean): Promise<SquashfsBlockCodec> {
  const encoder = await xzBufferEncoder();
  return {
    compress(data, metadata) {
      // mksquashfs: metadata blocks with an 8 KiB dictionary, data blocks with the block size;
      // with -Xbcj x86 both chains are tried and the smaller stream kept (the plain one on a tie).
      const dictSize = metadata ? 8192 : blockSize;
      const plain = encoder.encode(data, { dictSize, x86: false });
      if (!bcj || metadata) return Promise.resolve(plain);
      const x86 = encoder.encode(data, { dictSize, x86: true });
      return Promise.resolve(x86.length < plain.length ? x86 : plain);
    },
  };
}

/** Decompresses one block into at most `maxOutput` bytes; throws CORRUPT_IMAGE on bad data. */
export type SquashfsBlockDecompressor = (data: Uint8Array, maxOutput: number) => Promise<Uint8Array>;

/** The decompressor for a superblock compressor id; UNSUPPORTED for lzo and unknown ids. */
export function createSquashfsDecompressor(compressorId: number, subject: string): SquashfsBlockDecompressor {
  const bad = (e: unknown) =>
    new ReprimageError('CORRUPT_IMAGE', subject, `corrupt compressed squashfs block: ${e instanceof Error ? e.message : String(e)}`);
  const checked = (out: Uint8Array, max: number) => {
    if (out.length > max) throw bad(`decompresses to more than ${max} bytes`);
    return out;
  };
  switch (compressorId) {
    case 1:
      return async (data, max) => {
        try {
          return checked(new Uint8Array(inflateSync(data, { maxOutputLength: Math.max(max, 1) })), max);
        } catch (e) {
          throw bad(e);
        }
      };
    case 4:
      return async (data, max) => {
        try {
          return await decodeXzBlock(data, max);
        } catch (e) {
          throw bad(e);
        }
      };
    case 5:
      return async (data, max) => lz4DecompressBlock(data, max, subject);
    case 6:
      return async (data, max) => {
        const size = zstdContentSize(data);
        if (size === undefined || size > max) throw bad(`zstd frame declares ${size ?? 'no'} content size (at most ${max} allowed)`);
        const { decompress } = (await import('fzstd')) as { decompress(d: Uint8Array, b?: Uint8Array): Uint8Array };
        new ZstdFrameGuard(subject).push(data); // what fzstd would spin on or over-allocate for
        try {
          return decompress(data, new Uint8Array(size));
        } catch (e) {
          throw bad(e);
        }
      };
    case 2:
    case 3:
      // Legacy lzma (.lzma blocks from the LZMA SDK) and lzo: not read yet.
      throw new ReprimageError('UNSUPPORTED', subject, `squashfs compressor ${compressorId === 2 ? 'lzma' : 'lzo'} is not supported`);
    default:
      throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt squashfs superblock: unknown compressor id ${compressorId}`);
  }
}

/** A raw LZ4 block decoder that checks every length and offset against its buffers. */
export function lz4DecompressBlock(src: Uint8Array, maxOutput: number, subject: string): Uint8Array {
  const dst = new Uint8Array(maxOutput);
  const end = decodeBlockInto(src, dst, 0, maxOutput, (what) => new ReprimageError('CORRUPT_IMAGE', subject, `corrupt lz4 block: ${what}`));
  return dst.subarray(0, end);
}

/** The Frame_Content_Size of a zstd frame header (RFC 8878 §3.1.1.1), or undefined if absent. */
export function zstdContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 6) return undefined;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint32(0, true) !== 0xfd2fb528) return undefined;
  const fhd = frame[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0 || at + fcsBytes > frame.length) return undefined;
  switch (fcsBytes) {
    case 1:
      return frame[at]!;
    case 2:
      return v.getUint16(at, true) + 256;
    case 4:
      return v.getUint32(at, true);
    default: {
      const n = v.getBigUint64(at, true);
      return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
    }
  }
}
