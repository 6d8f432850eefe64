/**
 * zstd compression through the npm package @bokuweb/zstd-wasm (pinned exactly; libzstd 1.5.x
 * built to WebAssembly with Emscripten). WebAssembly computes the same bytes on every machine;
 * zstd's output depends only on its version, the level and the input.
 *
 * The package's `compress()` runs ZSTD_compress, which sets up a context in the module's heap
 * on every call, and its output was seen to depend on what the heap held before. So this keeps
 * one context per thread (ZSTD_createCCtx once, for every level) and compresses each block with
 * ZSTD_compress_usingDict without a dictionary, which is ZSTD_compressCCtx: zstd documents that
 * a reused context gives what a fresh one gives (a test checks it), and nothing is reset per block.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The package that supplies the module; recorded with the codec versions. */
export const ZSTD_PACKAGE = '@bokuweb/zstd-wasm@0.0.27';

interface ZstdModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _ZSTD_createCCtx(): number;
  _ZSTD_freeCCtx(cctx: number): number;
  _ZSTD_compress_usingDict(cctx: number, dst: number, cap: number, src: number, n: number, dict: number, dictSize: number, level: number): number;
  _ZSTD_compressBound(n: number): number;
  _ZSTD_isError(code: number): number;
}

let loaded: Promise<ZstdModule> | undefined;
/** The thread's one context and buffers, shared by every level: ZSTD_compressCCtx sets the level per call. */
let shared: { cctx: number; inPtr: number; inCap: number; outPtr: number; outCap: number } | undefined;

/** The package's Emscripten module, initialized once per thread. */
function zstdModule(): Promise<ZstdModule> {
  loaded ??= (async () => {
    const zstd = (await import('@bokuweb/zstd-wasm')) as unknown as { init(): Promise<void> };
    await zstd.init();
    const require = createRequire(import.meta.url);
    return (require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')) as { Module: ZstdModule }).Module;
  })();
  return loaded;
}

/** A zstd frame (with content size, without checksum) of `data`, as ZSTD_compress makes it. */
export type ZstdCompress = (data: Uint8Array) => Uint8Array;

export async function createZstdCompressor(level: number): Promise<ZstdCompress> {
  if (!Number.isInteger(level) || level < 1 || level > 22) throw new RangeError(`zstd level must be 1..22, not ${level}`);
  const m = await zstdModule();
  if (!shared) {
    const cctx = m._ZSTD_createCCtx();
    if (cctx === 0) throw new Error('zstd: cannot allocate a context');
    shared = { cctx, inPtr: 0, inCap: 0, outPtr: 0, outCap: 0 };
  }
  const st = shared;
  return (data) => {
    // ZSTD_compressBound is unsigned; >>> 0 reads it as such
    const need = m._ZSTD_compressBound(data.length) >>> 0;
    if (data.length > st.inCap) {
      if (st.inPtr) m._free(st.inPtr);
      st.inCap = data.length;
      st.inPtr = m._malloc(st.inCap);
    }
    if (need > st.outCap) {
      if (st.outPtr) m._free(st.outPtr);
      st.outCap = need;
      st.outPtr = m._malloc(st.outCap);
    }
    if ((data.length > 0 && st.inPtr === 0) || st.outPtr === 0) throw new Error('zstd: out of WebAssembly memory');
    m.HEAPU8.set(data, st.inPtr);
    const n = m._ZSTD_compress_usingDict(st.cctx, st.outPtr, st.outCap, st.inPtr, data.length, 0, 0, level) >>> 0;
    if (m._ZSTD_isError(n)) throw new Error(`zstd: compression failed (code ${n | 0})`);
    return m.HEAPU8.slice(st.outPtr, st.outPtr + n);
  };
}
