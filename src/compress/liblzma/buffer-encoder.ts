/**
 * Whole .xz streams made in one call to liblzma's `lzma_stream_buffer_encode` (the call
 * mksquashfs's xz compressor makes), in the WebAssembly liblzma of `module.ts`.
 *
 * Why not lzma-native: its prebuilt linux-x64 addon carries a liblzma compiled without
 * optimisation (-O0) and needs ~1.6x the CPU of this build (docs/compression.md).
 *
 * The package's JavaScript API offers only presets (8 MiB dictionary at preset 6, too large
 * for the kernel's SquashFS decoder), so the filter chain is laid out in the module's memory
 * here: `lzma_filter` and `lzma_options_lzma` as liblzma 5.8's `lzma.h` defines them for a
 * 32-bit target.
 */
import { allocZeroed, LZMA, LIBLZMA_PACKAGE, liblzmaModule, liblzmaVersion, type LiblzmaModule } from './module.js';

/** The npm package whose .wasm writes xz bytes, at the version package.json pins. */
export const XZ_WASM_PACKAGE = LIBLZMA_PACKAGE;

/** The settings of one xz filter chain: LZMA2 at preset 6 with this dictionary, x86 BCJ in front if asked. */
export interface XzChain {
  dictSize: number;
  x86: boolean;
}

export interface XzBufferEncoder {
  /** One .xz stream (one block, CRC32 check) holding `data`. */
  encode(data: Uint8Array, chain: XzChain): Uint8Array;
  /** liblzma's own version string, e.g. `5.8.1`. */
  readonly liblzmaVersion: string;
}

const LZMA_CHECK_CRC32 = 1;
const LZMA_FILTER_X86 = 0x04n;
const LZMA_FILTER_LZMA2 = 0x21n;
const LZMA_VLI_UNKNOWN = 0xffff_ffff_ffff_ffffn;
const LZMA_MODE_NORMAL = 2;
const LZMA_MF_BT4 = 0x14;
/** sizeof(lzma_options_lzma) is 80 on wasm32; the rest is slack, kept zero. */
const OPTIONS_BYTES = 128;
/** lzma_filter is { uint64 id; void *options } padded to 16 bytes. */
const FILTER_BYTES = 16;

/** liblzma's bound for one-block streams: the data, 3 bytes per 64 KiB LZMA2 chunk, headers, index. */
function outputBound(size: number): number {
  return size + 3 * Math.ceil(size / 65536) + 2048;
}

let encoderPromise: Promise<XzBufferEncoder> | undefined;

/**
 * The encoder of this thread: one WebAssembly instance and one set of buffers, made on first
 * use and shared by every caller on the thread (encode is synchronous, so calls cannot overlap).
 */
export function xzBufferEncoder(): Promise<XzBufferEncoder> {
  encoderPromise ??= liblzmaModule().then(encoderOn);
  encoderPromise.catch(() => (encoderPromise = undefined));
  return encoderPromise;
}

function encoderOn(m: LiblzmaModule): XzBufferEncoder {
  const alloc = (size: number) => allocZeroed(m, size);

  // The heap views are replaced when the memory grows: always read m.HEAPU8 afresh.
  const view = () => new DataView(m.HEAPU8.buffer);

  const chains = new Map<string, number>();
  const chainOf = ({ dictSize, x86 }: XzChain): number => {
    const key = `${dictSize}:${x86}`;
    let filters = chains.get(key);
    if (filters !== undefined) return filters;
    const options = alloc(OPTIONS_BYTES);
    filters = alloc(FILTER_BYTES * 3);
    const v = view();
    // lzma_lzma_preset(6) with dict_size replaced, as mksquashfs does.
    v.setUint32(options + 0, dictSize, true); // dict_size
    v.setUint32(options + 12, 3, true); // lc
    v.setUint32(options + 16, 0, true); // lp
    v.setUint32(options + 20, 2, true); // pb
    v.setUint32(options + 24, LZMA_MODE_NORMAL, true);
    v.setUint32(options + 28, 64, true); // nice_len
    v.setUint32(options + 32, LZMA_MF_BT4, true);
    v.setUint32(options + 36, 0, true); // depth: the encoder's default
    let at = filters;
    if (x86) {
      v.setBigUint64(at, LZMA_FILTER_X86, true); // options NULL: start offset 0
      at += FILTER_BYTES;
    }
    v.setBigUint64(at, LZMA_FILTER_LZMA2, true);
    v.setUint32(at + 8, options, true);
    v.setBigUint64(at + FILTER_BYTES, LZMA_VLI_UNKNOWN, true);
    chains.set(key, filters);
    return filters;
  };

  const outPos = alloc(8);
  let input = 0;
  let output = 0;
  let capacity = 0;
  const reserve = (size: number) => {
    if (size <= capacity) return;
    if (capacity > 0) {
      m._free(input);
      m._free(output);
    }
    input = alloc(size);
    output = alloc(outputBound(size));
    capacity = size;
  };

  const version = liblzmaVersion(m);

  return {
    liblzmaVersion: version,
    encode(data, chain) {
      const filters = chainOf(chain);
      reserve(Math.max(data.length, 1));
      m.HEAPU8.set(data, input);
      view().setUint32(outPos, 0, true);
      const ret = m._lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, 0, input, data.length, output, outPos, outputBound(capacity));
      if (ret !== LZMA.OK) throw new Error(`liblzma WebAssembly: lzma_stream_buffer_encode returned ${ret}`);
      const size = view().getUint32(outPos, true);
      return m.HEAPU8.slice(output, output + size);
    },
  };
}
