/**
 * libdeflate's compressor as WebAssembly, from the npm package `libdeflate` (pinned exactly in
 * package.json; its module is libdeflate's C code built with Emscripten, no SIMD, no threads).
 * WebAssembly computes the same bytes on every machine and Node.js version, so the output
 * depends only on the pinned package and the level (docs/design.md rule 6) — unlike node:zlib,
 * whose bytes change with Node's build. An oracle test compares it with Debian's native
 * libdeflate 1.14.
 *
 * The package's own `zlib()` allocates a compressor per call; SquashFS compresses thousands of
 * independent blocks, so this loads the package's module once per thread and keeps one
 * compressor and its buffers. libdeflate keeps no state between calls.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from '../crc32.js';
import { withoutNewProcessListeners } from '../process-listeners.js';

/** The package that supplies the module; recorded with the codec versions. */
export const LIBDEFLATE_PACKAGE = 'libdeflate@0.1.0';

interface LibdeflateModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _libdeflate_alloc_compressor(level: number): number;
  _libdeflate_zlib_compress(c: number, src: number, n: number, dst: number, avail: number): number;
  _libdeflate_zlib_compress_bound(c: number, n: number): number;
  _libdeflate_deflate_compress(c: number, src: number, n: number, dst: number, avail: number): number;
  _libdeflate_deflate_compress_bound(c: number, n: number): number;
}

let loaded: Promise<LibdeflateModule> | undefined;

/** The package's Emscripten module (its main entry point only exposes per-call helpers). */
function libdeflateModule(): Promise<LibdeflateModule> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('libdeflate');
    const url = pathToFileURL(join(dirname(entry), 'dist', 'libdeflate.wasm.mjs')).href;
    const { default: createModule } = (await import(url)) as { default: () => LibdeflateModule | Promise<LibdeflateModule> };
    // The glue installs process-wide error handlers as it creates the module: take them out.
    return await withoutNewProcessListeners(createModule);
  })();
  return loaded;
}

export interface DeflateCompressor {
  /** A zlib stream (RFC 1950) of `data`, as the SquashFS gzip compressor stores blocks. */
  zlib(data: Uint8Array): Uint8Array;
  /** Raw deflate (RFC 1951). */
  deflate(data: Uint8Array): Uint8Array;
  /**
   * One gzip member (RFC 1952) with the header `gzip -n` writes (no name, MTIME 0, XFL 0, OS 3),
   * so no time or host ends up in it; libdeflate's own gzip header would say OS 255.
   */
  gzip(data: Uint8Array): Uint8Array;
}

/** A compressor at `level` (1..12; libdeflate's 9 is zlib's 9 in spirit, not in bytes). */
export async function createDeflateCompressor(level: number): Promise<DeflateCompressor> {
  if (!Number.isInteger(level) || level < 1 || level > 12) throw new RangeError(`libdeflate level must be 1..12, not ${level}`);
  const m = await libdeflateModule();
  const handle = m._libdeflate_alloc_compressor(level);
  if (handle === 0) throw new Error('libdeflate: cannot allocate a compressor');
  // Input and output buffers in wasm memory, grown as needed and reused.
  let inPtr = 0;
  let inCap = 0;
  let outPtr = 0;
  let outCap = 0;
  const run = (data: Uint8Array, bound: (c: number, n: number) => number, compress: (c: number, s: number, n: number, d: number, a: number) => number) => {
    const need = bound(handle, data.length);
    if (data.length > inCap) {
      if (inPtr) m._free(inPtr);
      inCap = data.length;
      inPtr = m._malloc(inCap);
    }
    if (need > outCap) {
      if (outPtr) m._free(outPtr);
      outCap = need;
      outPtr = m._malloc(outCap);
    }
    if ((data.length > 0 && inPtr === 0) || outPtr === 0) throw new Error('libdeflate: out of WebAssembly memory');
    // HEAPU8 is re-read after every call that may grow the memory
    m.HEAPU8.set(data, inPtr);
    const n = compress(handle, inPtr, data.length, outPtr, outCap);
    if (n === 0) throw new Error('libdeflate: output larger than its bound');
    return m.HEAPU8.slice(outPtr, outPtr + n);
  };
  const deflate = (data: Uint8Array) => run(data, m._libdeflate_deflate_compress_bound, m._libdeflate_deflate_compress);
  return {
    zlib: (data) => run(data, m._libdeflate_zlib_compress_bound, m._libdeflate_zlib_compress),
    deflate,
    gzip: (data) => gzipMember(data, deflate(data)),
  };
}

function gzipMember(data: Uint8Array, deflated: Uint8Array): Uint8Array {
  const member = new Uint8Array(10 + deflated.length + 8);
  member.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  member.set(deflated, 10);
  const trailer = new DataView(member.buffer, 10 + deflated.length, 8);
  trailer.setUint32(0, crc32(data), true);
  trailer.setUint32(4, data.length % 2 ** 32, true);
  return member;
}
