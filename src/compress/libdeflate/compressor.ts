/**
 * libdeflate 1.14's compressor, run as WebAssembly (module built by `build-wasm.sh`, embedded in
 * `wasm-module.ts`). WebAssembly without SIMD, threads or imports computes the same bytes on
 * every machine and Node.js version, so the output depends only on libdeflate's version and the
 * level (DESIGN.md rule 6) — unlike node:zlib, whose bytes change with Node's build.
 *
 * libdeflate compresses each call independently (no state carries over), which is what
 * SquashFS's independent blocks need. One instance per thread; calls are synchronous.
 */
import { createHash } from 'node:crypto';
import { LIBDEFLATE_WASM_BASE64, LIBDEFLATE_WASM_SHA256, LIBDEFLATE_WASM_VERSION } from './wasm-module.js';

export const LIBDEFLATE_VERSION = LIBDEFLATE_WASM_VERSION;

// The WebAssembly global, typed here: the project's TypeScript lib has no DOM types.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer };
  malloc(n: number): number;
  free(p: number): void;
  libdeflate_alloc_compressor(level: number): number;
  libdeflate_free_compressor(c: number): void;
  libdeflate_zlib_compress(c: number, src: number, n: number, dst: number, avail: number): number;
  libdeflate_zlib_compress_bound(c: number, n: number): number;
  libdeflate_deflate_compress(c: number, src: number, n: number, dst: number, avail: number): number;
  libdeflate_deflate_compress_bound(c: number, n: number): number;
}

let compiled: object | undefined;

function wasmModule(): object {
  if (!compiled) {
    const bytes = Buffer.from(LIBDEFLATE_WASM_BASE64, 'base64');
    // A damaged copy would silently give other bytes: refuse it.
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== LIBDEFLATE_WASM_SHA256) throw new Error(`libdeflate WebAssembly module damaged (sha256 ${sha})`);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

export interface DeflateCompressor {
  /** A zlib stream (RFC 1950) of `data`, as the SquashFS gzip compressor stores blocks. */
  zlib(data: Uint8Array): Uint8Array;
  /** Raw deflate (RFC 1951). */
  deflate(data: Uint8Array): Uint8Array;
}

/** A compressor at `level` (1..12; libdeflate's 9 is zlib's 9 in spirit, not in bytes). */
export function createDeflateCompressor(level: number): DeflateCompressor {
  if (!Number.isInteger(level) || level < 1 || level > 12) throw new RangeError(`libdeflate level must be 1..12, not ${level}`);
  const e = new WebAssembly.Instance(wasmModule(), {}).exports as unknown as Exports;
  const handle = e.libdeflate_alloc_compressor(level);
  if (handle === 0) throw new Error('libdeflate: cannot allocate a compressor');
  // Input and output buffers in wasm memory, grown as needed and reused.
  let inPtr = 0;
  let inCap = 0;
  let outPtr = 0;
  let outCap = 0;
  const run = (data: Uint8Array, bound: typeof e.libdeflate_zlib_compress_bound, compress: typeof e.libdeflate_zlib_compress) => {
    const need = bound(handle, data.length);
    if (data.length > inCap) {
      if (inPtr) e.free(inPtr);
      inCap = data.length;
      inPtr = e.malloc(inCap);
    }
    if (need > outCap) {
      if (outPtr) e.free(outPtr);
      outCap = need;
      outPtr = e.malloc(outCap);
    }
    if ((data.length > 0 && inPtr === 0) || outPtr === 0) throw new Error('libdeflate: out of WebAssembly memory');
    new Uint8Array(e.memory.buffer, inPtr, data.length).set(data);
    const n = compress(handle, inPtr, data.length, outPtr, outCap);
    if (n === 0) throw new Error('libdeflate: output larger than its bound');
    return new Uint8Array(e.memory.buffer, outPtr, n).slice();
  };
  return {
    zlib: (data) => run(data, e.libdeflate_zlib_compress_bound, e.libdeflate_zlib_compress),
    deflate: (data) => run(data, e.libdeflate_deflate_compress_bound, e.libdeflate_deflate_compress),
  };
}
