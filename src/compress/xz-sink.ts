/**
 * .xz output of a whole stream (`pack -o x.tar.xz`, `x.cpio.xz`): one xz stream of independent
 * LZMA2 blocks of 24 MiB (three times the 8 MiB dictionary, the block size `xz -T` picks at
 * preset 6), each compressed by liblzma's `lzma_stream_buffer_encode` in WebAssembly
 * (liblzma/buffer-encoder.ts), CRC32 check as the kernel's initramfs decoder requires. Each call
 * makes a one-block stream; its block is kept and the stream's own header, index and footer are
 * replaced by one header, one index listing every block and one footer (the .xz file format,
 * tukaani.org/xz/xz-file-format.txt, §2.1 and §4). One stream, so every reader — xz, GNU tar,
 * the kernel, our own (xz-stream-end.ts) — sees one stream.
 */
import { ReprimageError } from '../errors.js';
import type { Sink } from '../io/sink.js';
import { ChunkingSink } from './chunking-sink.js';
import { crc32 } from './crc32.js';
import { xzBufferEncoder, type XzBufferEncoder } from './liblzma/buffer-encoder.js';
import { XZ_OUTPUT_BLOCK, XZ_OUTPUT_DICTIONARY } from './codec-implementations.js';

// the dictionary, block size and the codec's name for `--version` and manifests
export { XZ_OUTPUT_BLOCK, XZ_OUTPUT_CODEC, XZ_OUTPUT_DICTIONARY } from './codec-implementations.js';

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** Stream flags: no reserved bits, check type 1 (CRC32). */
const FLAGS = [0x00, 0x01];

export class XzSink extends ChunkingSink {
  #encoder: XzBufferEncoder | undefined;
  #records: Array<{ unpadded: number; uncompressed: number }> = [];
  #started = false;

  /** `blockSize` is for tests that need several blocks from little data; the output default is XZ_OUTPUT_BLOCK. */
  constructor(inner: Sink, blockSize = XZ_OUTPUT_BLOCK) {
    super(inner, blockSize, 'xz output');
  }

  protected async piece(bytes: Uint8Array, last: boolean): Promise<void> {
    if (!this.#started) {
      await this.inner.write(streamHeader());
      this.#started = true;
    }
    if (bytes.length === 0 && last) return; // an empty stream has no block, as xz writes it
    this.#encoder ??= await xzBufferEncoder();
    let stream: Uint8Array;
    try {
      stream = this.#encoder.encode(bytes, { dictSize: XZ_OUTPUT_DICTIONARY, x86: false });
    } catch (e) {
      throw new ReprimageError('OVERFLOW', 'xz output', `cannot compress a ${bytes.length}-byte block (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    const { block, unpadded } = theBlock(stream, bytes.length);
    this.#records.push({ unpadded, uncompressed: bytes.length });
    await this.inner.write(block);
  }

  protected async end(): Promise<void> {
    const index = encodeIndex(this.#records);
    await this.inner.write(index);
    const footer = new Uint8Array(12);
    const view = new DataView(footer.buffer);
    view.setUint32(4, index.length / 4 - 1, true); // backward size
    footer.set(FLAGS, 8);
    footer.set([0x59, 0x5a], 10); // "YZ"
    view.setUint32(0, crc32(footer.subarray(4, 10)), true);
    await this.inner.write(footer);
  }
}

function streamHeader(): Uint8Array {
  const h = new Uint8Array(12);
  h.set(MAGIC);
  h.set(FLAGS, 6);
  new DataView(h.buffer).setUint32(8, crc32(h.subarray(6, 8)), true);
  return h;
}

/** The one block of a one-block stream, and its unpadded size from the stream's index. */
function theBlock(stream: Uint8Array, uncompressed: number): { block: Uint8Array; unpadded: number } {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.length);
  const header = streamHeader();
  if (stream.length < 24 || header.some((b, i) => stream[i] !== b)) throw new Error('liblzma: not the stream header asked for');
  const backward = (view.getUint32(stream.length - 8, true) + 1) * 4;
  const indexAt = stream.length - 12 - backward;
  let p = indexAt;
  const varint = () => {
    let n = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = stream[p++]!;
      n += (b & 0x7f) * shift;
      if ((b & 0x80) === 0) return n;
    }
  };
  if (stream[p++] !== 0 || varint() !== 1) throw new Error('liblzma: a one-block stream was expected');
  const unpadded = varint();
  if (varint() !== uncompressed) throw new Error('liblzma: the block does not hold the bytes given');
  return { block: stream.subarray(12, indexAt), unpadded };
}

function encodeVarint(n: number, out: number[]): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** The index (§4): indicator, record count, (unpadded, uncompressed) per block, padding, CRC32. */
function encodeIndex(records: ReadonlyArray<{ unpadded: number; uncompressed: number }>): Uint8Array {
  const bytes: number[] = [0];
  encodeVarint(records.length, bytes);
  for (const r of records) {
    encodeVarint(r.unpadded, bytes);
    encodeVarint(r.uncompressed, bytes);
  }
  while (bytes.length % 4 !== 0) bytes.push(0);
  const out = new Uint8Array(bytes.length + 4);
  out.set(bytes);
  new DataView(out.buffer).setUint32(bytes.length, crc32(out.subarray(0, bytes.length)), true);
  return out;
}
