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
 * The package's `compress` runs ZSTD_compress (a fresh context per call, freed after) and only
 * logs a failure: the result is checked here (frame magic, size within the bound).
 */

/** The package that supplies the module; recorded with the codec versions. */
export const ZSTD_PACKAGE = '@hpcc-js/wasm-zstd@1.12.5';

interface Zstd {
  compress(data: Uint8Array, level: number): Uint8Array;
  compressBound?(n: number): number;
  version(): string;
}

let loaded: Promise<Zstd> | undefined;

/** The package's module, initialized once per thread. */
function zstdModule(): Promise<Zstd> {
  loaded ??= (async () => {
    const { Zstd } = (await import('@hpcc-js/wasm-zstd')) as unknown as { Zstd: { load(): Promise<Zstd> } };
    return await Zstd.load();
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
  const z = await zstdModule();
  return (data) => {
    const out = z.compress(data, level);
    // a failure is a size_t error code, read as a length far beyond the bound
    if (out.length < 9 || out.length > bound(data.length) || out[0] !== 0x28 || out[1] !== 0xb5 || out[2] !== 0x2f || out[3] !== 0xfd) {
      throw new Error(`zstd: compression failed (${out.length} bytes for ${data.length})`);
    }
    return out;
  };
}
