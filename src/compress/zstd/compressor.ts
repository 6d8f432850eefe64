/**
 * zstd 1.5.6's compressor, run as WebAssembly (module built by `build-wasm.sh`, embedded in
 * `wasm-module.ts`): the same library version as @bokuweb/zstd-wasm 0.0.27, which it replaces
 * with identical output, ~20 % faster because nothing has to be reset between blocks.
 *
 * WebAssembly without SIMD, threads or imports computes the same bytes on every machine; zstd's
 * output depends only on its version, the level and the input, and a reused context gives what a
 * fresh one gives (zstd's documented guarantee; a test compares both). One instance per thread.
 */
import { createHash } from 'node:crypto';
import { ZSTD_WASM_BASE64, ZSTD_WASM_SHA256, ZSTD_WASM_VERSION } from './wasm-module.js';

export const ZSTD_VERSION = ZSTD_WASM_VERSION;

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
  ZSTD_createCCtx(): number;
  ZSTD_compressCCtx(cctx: number, dst: number, dstCapacity: number, src: number, srcSize: number, level: number): number;
  ZSTD_compressBound(n: number): number;
  ZSTD_isError(code: number): number;
}

let compiled: object | undefined;

function wasmModule(): object {
  if (!compiled) {
    const bytes = Buffer.from(ZSTD_WASM_BASE64, 'base64');
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== ZSTD_WASM_SHA256) throw new Error(`zstd WebAssembly module damaged (sha256 ${sha})`);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** A zstd frame (with content size, without checksum) of `data`, as ZSTD_compress makes it. */
export type ZstdCompress = (data: Uint8Array) => Uint8Array;

export function createZstdCompressor(level: number): ZstdCompress {
  if (!Number.isInteger(level) || level < 1 || level > 22) throw new RangeError(`zstd level must be 1..22, not ${level}`);
  const e = new WebAssembly.Instance(wasmModule(), {}).exports as unknown as Exports;
  const cctx = e.ZSTD_createCCtx();
  if (cctx === 0) throw new Error('zstd: cannot allocate a context');
  let inPtr = 0;
  let inCap = 0;
  let outPtr = 0;
  let outCap = 0;
  return (data) => {
    // ZSTD_compressBound is unsigned; >>> 0 reads it as such
    const need = e.ZSTD_compressBound(data.length) >>> 0;
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
    if ((data.length > 0 && inPtr === 0) || outPtr === 0) throw new Error('zstd: out of WebAssembly memory');
    new Uint8Array(e.memory.buffer, inPtr, data.length).set(data);
    const n = e.ZSTD_compressCCtx(cctx, outPtr, outCap, inPtr, data.length, level) >>> 0;
    if (e.ZSTD_isError(n)) throw new Error(`zstd: compression failed (code ${n})`);
    return new Uint8Array(e.memory.buffer, outPtr, n).slice();
  };
}
