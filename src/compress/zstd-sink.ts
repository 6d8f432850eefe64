/**
 * .zst output of a whole stream (`pack -o x.tar.zst`, `x.cpio.zst`) at level 19, through the
 * pinned WebAssembly zstd (zstd/compressor.ts). The package compresses whole buffers only, so the
 * stream is cut into frames of a fixed size; zstd, GNU tar and libarchive read concatenated
 * frames as one stream. A cpio archive is written as one frame instead: the kernel's initramfs
 * unpacker takes each frame for a segment of its own and wants a whole archive in each
 * (init/initramfs.c: "junk at the end of compressed archive"); it holds the archive in memory
 * anyway.
 */
import { ReprimageError } from '../errors.js';
import type { Sink } from '../io/sink.js';
import { ChunkingSink } from './chunking-sink.js';
import { createZstdCompressor, type ZstdCompress } from './zstd/compressor.js';
import { ZSTD_OUTPUT_FRAME, ZSTD_OUTPUT_LEVEL } from './codec-implementations.js';

// the level (19, and why), the frame size and the codec's name for `--version` and manifests
export { ZSTD_OUTPUT_CODEC, ZSTD_OUTPUT_FRAME, ZSTD_OUTPUT_LEVEL } from './codec-implementations.js';

export class ZstdSink extends ChunkingSink {
  #compress: ZstdCompress | undefined;
  #frames = 0;

  /** `frameSize`: ZSTD_OUTPUT_FRAME, or Infinity for one frame; `level` 1..22, default ZSTD_OUTPUT_LEVEL. */
  constructor(inner: Sink, frameSize = ZSTD_OUTPUT_FRAME, private readonly level = ZSTD_OUTPUT_LEVEL) {
    super(inner, frameSize, 'zstd output');
  }

  protected async piece(bytes: Uint8Array, last: boolean): Promise<void> {
    // an empty stream is still one (empty) frame, as zstd writes it
    if (bytes.length === 0 && last && this.#frames > 0) return;
    this.#compress ??= await createZstdCompressor(this.level);
    let frame: Uint8Array;
    try {
      frame = this.#compress(bytes);
    } catch (e) {
      throw new ReprimageError('OVERFLOW', 'zstd output', `cannot compress ${bytes.length} bytes in one frame (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    this.#frames++;
    await this.inner.write(frame);
  }

  protected async end(): Promise<void> {}
}
