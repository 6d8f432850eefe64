/**
 * zstd compression through the npm package @hpcc-js/wasm-zstd (pinned exactly; libzstd 1.5.7
 * built to WebAssembly). WebAssembly computes the same bytes on every machine; zstd's output
 * depends only on its version, the level and the input. Loaded through the package's entry
 * point, once per thread.
 *
 * Until 2026-12-07 this was @bokuweb/zstd-wasm 0.0.27 with one reused context: the bytes are the
 * same (test/unit/squashfs-zstd.test.ts compares the two at levels 1, 5, 15 and 19), and this
 * build needs about a fifth less CPU at level 15.
 *
 * The package's `compress` runs ZSTD_compress (a fresh context per call, freed after), only logs
 * a failure, and copies the frame out of the module's memory through a JavaScript array of
 * numbers, which cost a fifth of the CPU of a SquashFS zstd image (10 % in the copy, the rest in
 * garbage collection). So the same ZSTD_compress is called here through the same module object
 * (its `compress`, `compressBound`, `isError` and the memory), and the frame is copied out with
 * one `slice`: the same bytes (test/unit/squashfs-zstd.test.ts), 23 % less CPU at level 15.
 * The result is checked here (frame magic, size within the bound).
 */

import { ZSTD_PACKAGE } from '../codec-implementations.js';

/** The package that supplies the module; recorded with the codec versions. */
export { ZSTD_PACKAGE } from '../codec-implementations.js';

/** The parts of the package's module used here (its class keeps them in two fields). */
interface ZstdModule {
  _malloc(size: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

interface ZstdFunctions {
  compress(dst: number, dstCapacity: number, src: number, srcSize: number, level: number): number;
  compressBound(size: number): number;
  isError(code: number): boolean;
  getErrorName(code: number): string;
}

interface Zstd {
  version(): string;
  _mainModule?: { _module?: ZstdModule };
  _zstdClass?: ZstdFunctions;
}

interface ZstdBinding {
  module: ZstdModule;
  fns: ZstdFunctions;
}

let loaded: Promise<ZstdBinding> | undefined;

/** The package's module, initialized once per thread. */
function zstdModule(): Promise<ZstdBinding> {
  loaded ??= (async () => {
    const { Zstd } = (await import('@hpcc-js/wasm-zstd')) as unknown as { Zstd: { load(): Promise<Zstd> } };
    const z = await Zstd.load();
    const module = z._mainModule?._module;
    const fns = z._zstdClass;
    // A later version of the package may keep these elsewhere: fail loudly, never write other bytes.
    if (!module || typeof module._malloc !== 'function' || !fns || typeof fns.compress !== 'function' || typeof fns.compressBound !== 'function') {
      throw new Error(`${ZSTD_PACKAGE}: the module's ZSTD_compress binding was not found`);
    }
    return { module, fns };
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

/** A zstd frame (with content size, without checksum) of `data`, as ZSTD_compress makes it. */
export type ZstdCompress = (data: Uint8Array) => Uint8Array;

/** ZSTD_COMPRESSBOUND of zstd.h. */
function bound(n: number): number {
  return n + (n >>> 8) + (n < 128 << 10 ? ((128 << 10) - n) >>> 11 : 0);
}

export async function createZstdCompressor(level: number): Promise<ZstdCompress> {
  if (!Number.isInteger(level) || level < 1 || level > 22) throw new RangeError(`zstd level must be 1..22, not ${level}`);
  const { module: m, fns } = await zstdModule();
  return (data) => {
    const capacity = fns.compressBound(data.length);
    const src = m._malloc(Math.max(data.length, 1));
    const dst = m._malloc(capacity);
    try {
      if (src === 0 || dst === 0) throw new Error(`zstd: out of WebAssembly memory for ${data.length} bytes`);
      // m.HEAPU8 is replaced when the memory grows: read it after each allocation.
      m.HEAPU8.set(data, src);
      const size = fns.compress(dst, capacity, src, data.length, level);
      if (fns.isError(size)) throw new Error(`zstd: compression failed: ${fns.getErrorName(size)}`);
      const out = m.HEAPU8.slice(dst, dst + size);
      if (out.length < 9 || out.length > bound(data.length) || out[0] !== 0x28 || out[1] !== 0xb5 || out[2] !== 0x2f || out[3] !== 0xfd) {
        throw new Error(`zstd: compression failed (${out.length} bytes for ${data.length})`);
      }
      return out;
    } finally {
      m._free(dst);
      m._free(src);
    }
  };
}
