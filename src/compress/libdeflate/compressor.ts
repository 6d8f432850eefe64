/**
 * libdeflate's compressor as WebAssembly, from the npm package `libdeflate` (pinned exactly in
 * package.json; its module is libdeflate's C code built with Emscripten, no SIMD, no threads).
 * WebAssembly computes the same bytes on every machine and Node.js version, so the output
 * depends only on the pinned package and the level (docs/design.md rule 6) — unlike node:zlib,
 * whose bytes change with Node's build. An oracle test compares it with Debian's native
 * libdeflate 1.14.
 *
 * Used through the package's entry point (`zlib`, `deflate`): it allocates a compressor per call,
 * which on 128 KiB SquashFS blocks at level 9 costs the same as keeping one (measured: 256
 * blocks, 7.5 s either way, same bytes). The package declares `engines: node >= 24` (its only
 * version), yet its module is plain WebAssembly: the unit and CLI tiers pass on Node 20, 22, 24.
 * It ships inside reprimage's tarball (bundleDependencies), so `npm install --engine-strict`
 * passes on Node 20 (docs/testing.md).
 */
import { crc32 } from '../crc32.js';
import { withoutNewProcessListeners } from '../process-listeners.js';

/** The package that supplies the module; recorded with the codec versions. */
export { LIBDEFLATE_PACKAGE } from '../codec-implementations.js';

interface Libdeflate {
  zlib(data: Uint8Array, level: number): Uint8Array;
  deflate(data: Uint8Array, level: number): Uint8Array;
}

let loaded: Promise<Libdeflate> | undefined;

/**
 * The package, with its module created: the Emscripten glue installs process-wide error
 * handlers as it creates the module (synchronously, on the first call), and they are taken out.
 */
function libdeflate(): Promise<Libdeflate> {
  loaded ??= (async () => {
    const lib = (await import('libdeflate')) as unknown as Libdeflate;
    withoutNewProcessListeners(() => lib.deflate(new Uint8Array(1), 1));
    return lib;
  })();
  loaded.catch(() => (loaded = undefined));
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
  const lib = await libdeflate();
  const deflate = (data: Uint8Array) => lib.deflate(data, level);
  return {
    zlib: (data) => lib.zlib(data, level),
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
