/**
 * Reading xz and lzma-alone data with the WebAssembly liblzma of `module.ts`: the same library
 * that writes reprimage's xz bytes reads them back (one xz implementation).
 *
 * - `decodeXzBlock`: one whole .xz stream in memory (a SquashFS block), `lzma_stream_buffer_decode`.
 * - `decodeLzmaChunks`: a stream of any length, in bounded memory, `lzma_stream_decoder` (with
 *   LZMA_CONCATENATED: several .xz streams and stream padding, as `xz -d` reads them) or
 *   `lzma_auto_decoder` for .lzma, which stops at the end its header or end marker declares.
 *
 * Errors are plain Errors whose message says what liblzma reported; decompress.ts turns them
 * into TRUNCATED or CORRUPT_IMAGE naming the file.
 */
import { allocZeroed, LZMA, liblzmaModule, type LiblzmaModule } from './module.js';

/** Memory the decoder may use: xz -9 needs 65 MiB, the kernel's SquashFS decoder far less. */
const MEMLIMIT = 256 * 1024 * 1024;
const LZMA_CONCATENATED = 0x08;
const LZMA_RUN = 0;
const LZMA_FINISH = 3;
/** sizeof(lzma_stream) is 88 on wasm32; the rest is slack, kept zero. */
const STREAM_BYTES = 128;
const CHUNK = 64 * 1024;

/** What each failure means, worded so that decompress.ts can tell truncation from damage. */
function failure(ret: number): Error {
  const text: Record<number, string> = {
    [LZMA.MEM_ERROR]: 'out of memory',
    [LZMA.MEMLIMIT_ERROR]: `the dictionary needs more than ${MEMLIMIT >> 20} MiB`,
    [LZMA.FORMAT_ERROR]: 'not an xz stream: bad header magic, or bytes after a stream that start no other',
    [LZMA.OPTIONS_ERROR]: 'unsupported xz options (a filter or header flag liblzma does not handle)',
    [LZMA.DATA_ERROR]: 'the compressed data or its integrity check is damaged',
    [LZMA.BUF_ERROR]: 'unexpected end of input: the stream is cut short',
  };
  return new Error(text[ret] ?? `liblzma returned ${ret}`);
}

/** Decodes one .xz stream into at most `maxOutput` bytes. */
export async function decodeXzBlock(data: Uint8Array, maxOutput: number): Promise<Uint8Array> {
  const m = await liblzmaModule();
  const vars = allocZeroed(m, 16); // memlimit (uint64), in_pos, out_pos (size_t)
  const input = allocZeroed(m, Math.max(data.length, 1));
  const output = allocZeroed(m, Math.max(maxOutput, 1));
  try {
    new DataView(m.HEAPU8.buffer).setBigUint64(vars, BigInt(MEMLIMIT), true);
    m.HEAPU8.set(data, input);
    const ret = m._lzma_stream_buffer_decode(vars, 0, 0, input, vars + 8, data.length, output, vars + 12, maxOutput);
    // a stream that does not fit in maxOutput bytes ends as BUF_ERROR with the output full
    const outPos = new DataView(m.HEAPU8.buffer).getUint32(vars + 12, true);
    if (ret === LZMA.BUF_ERROR && outPos === maxOutput) throw new Error(`decompresses to more than ${maxOutput} bytes`);
    if (ret !== LZMA.OK) throw failure(ret);
    return m.HEAPU8.slice(output, output + outPos);
  } finally {
    m._free(output);
    m._free(input);
    m._free(vars);
  }
}

/** Decodes a whole .xz file (`xz`) or a .lzma stream (`lzma`) arriving in chunks. */
export async function* decodeLzmaChunks(input: AsyncIterable<Uint8Array>, format: 'xz' | 'lzma'): AsyncGenerator<Uint8Array> {
  const m = await liblzmaModule();
  const strm = allocZeroed(m, STREAM_BYTES);
  const inBuf = allocZeroed(m, CHUNK);
  const outBuf = allocZeroed(m, CHUNK);
  try {
    const init = format === 'xz' ? m._lzma_stream_decoder(strm, MEMLIMIT, 0, LZMA_CONCATENATED) : m._lzma_auto_decoder(strm, MEMLIMIT, 0, 0);
    if (init !== LZMA.OK) throw failure(init);
    let any = false;
    let ended = false;
    for await (const chunk of input) {
      for (let at = 0; at < chunk.length && !ended; at += CHUNK) {
        const piece = chunk.subarray(at, at + CHUNK);
        any = true;
        m.HEAPU8.set(piece, inBuf);
        setInput(m, strm, inBuf, piece.length);
        ended = yield* run(m, strm, outBuf, LZMA_RUN);
      }
      if (ended) break;
    }
    if (!any) throw failure(LZMA.BUF_ERROR);
    if (!ended) {
      setInput(m, strm, inBuf, 0);
      if (!(yield* run(m, strm, outBuf, LZMA_FINISH))) throw failure(LZMA.BUF_ERROR);
    }
  } finally {
    m._lzma_end(strm);
    m._free(outBuf);
    m._free(inBuf);
    m._free(strm);
  }
}

function setInput(m: LiblzmaModule, strm: number, at: number, length: number): void {
  const v = new DataView(m.HEAPU8.buffer);
  v.setUint32(strm + 0, at, true); // next_in
  v.setUint32(strm + 4, length, true); // avail_in
}

/**
 * Calls lzma_code until the input is used up and the output buffer no longer fills, yielding
 * what it writes; true once the stream has ended.
 */
function* run(m: LiblzmaModule, strm: number, outBuf: number, action: number): Generator<Uint8Array, boolean> {
  for (;;) {
    let v = new DataView(m.HEAPU8.buffer);
    v.setUint32(strm + 16, outBuf, true); // next_out
    v.setUint32(strm + 20, CHUNK, true); // avail_out
    const ret = m._lzma_code(strm, action);
    v = new DataView(m.HEAPU8.buffer);
    const produced = CHUNK - v.getUint32(strm + 20, true);
    if (produced > 0) yield m.HEAPU8.slice(outBuf, outBuf + produced);
    if (ret === LZMA.STREAM_END) return true;
    if (ret !== LZMA.OK) throw failure(ret);
    // while this generator was suspended another stream's decoder may have grown the
    // WebAssembly memory, which detaches the old buffer: read through a fresh view
    v = new DataView(m.HEAPU8.buffer);
    if (v.getUint32(strm + 4, true) === 0 && produced < CHUNK) return false;
  }
}
