/**
 * liblzma in WebAssembly, from the npm package node-liblzma (pinned exactly in package.json):
 * the one xz implementation reprimage has, for writing (SquashFS blocks) and reading (.xz and
 * .lzma streams, SquashFS xz blocks). Only the .wasm and its Emscripten glue are loaded, through
 * the subpaths the package exports for them (`node-liblzma/wasm/liblzma.js` and `.wasm`), never
 * its native addon (which may link the host's liblzma): the bytes depend on the package version
 * alone (docs/design.md rule 6). One instance per thread, made on first use.
 *
 * 4.0.x, not 5.x: 5.x declares `engines: node >= 22` and reprimage supports Node 20. Its liblzma
 * (5.8.2) writes the same bytes as 5.1.3's (5.8.4): 3,003 real 128 KiB blocks compared, with
 * the 8 KiB metadata dictionary and with x86 BCJ, all identical; the pinned-hash tests agree.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { withoutNewProcessListeners } from '../process-listeners.js';

/** The npm package whose .wasm reads and writes xz, at the version package.json pins. */
export { LIBLZMA_PACKAGE } from '../codec-implementations.js';

/** The parts of the Emscripten module used here; a 64-bit argument is passed as two 32-bit halves, low first. */
export interface LiblzmaModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _lzma_version_string(): number;
  _lzma_stream_buffer_encode(filters: number, check: number, allocator: number, input: number, inSize: number, out: number, outPos: number, outSize: number): number;
  _lzma_stream_buffer_decode(memlimit: number, flags: number, allocator: number, input: number, inPos: number, inSize: number, out: number, outPos: number, outSize: number): number;
  _lzma_stream_decoder(strm: number, memlimitLow: number, memlimitHigh: number, flags: number): number;
  _lzma_auto_decoder(strm: number, memlimitLow: number, memlimitHigh: number, flags: number): number;
  _lzma_code(strm: number, action: number): number;
  _lzma_end(strm: number): void;
}

/** liblzma's lzma_ret values (lzma/base.h). */
export const LZMA = {
  OK: 0,
  STREAM_END: 1,
  MEM_ERROR: 5,
  MEMLIMIT_ERROR: 6,
  FORMAT_ERROR: 7,
  OPTIONS_ERROR: 8,
  DATA_ERROR: 9,
  BUF_ERROR: 10,
  PROG_ERROR: 11,
} as const;

let loaded: Promise<LiblzmaModule> | undefined;

/** This thread's instance of the module. */
export function liblzmaModule(): Promise<LiblzmaModule> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const glue = require.resolve('node-liblzma/wasm/liblzma.js');
    const wasm = readFileSync(require.resolve('node-liblzma/wasm/liblzma.wasm'));
    const { default: create } = (await import(pathToFileURL(glue).href)) as { default: (o: { wasmBinary: Uint8Array }) => Promise<LiblzmaModule> };
    return await withoutNewProcessListeners(() => create({ wasmBinary: new Uint8Array(wasm.buffer, wasm.byteOffset, wasm.byteLength) }));
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

/** Allocates `size` zeroed bytes in the module's memory; throws when it is exhausted. */
export function allocZeroed(m: LiblzmaModule, size: number): number {
  const p = m._malloc(size);
  if (p === 0) throw new Error(`liblzma WebAssembly: cannot allocate ${size} bytes`);
  m.HEAPU8.fill(0, p, p + size);
  return p;
}

/** liblzma's version string, e.g. `5.8.2`. */
export function liblzmaVersion(m: LiblzmaModule): string {
  const at = m._lzma_version_string();
  return new TextDecoder().decode(m.HEAPU8.subarray(at, m.HEAPU8.indexOf(0, at)));
}
