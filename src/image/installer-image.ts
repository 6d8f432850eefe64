/**
 * The disk image as an installer medium carries it (docs/installer.md): gzip, one member per
 * 4 MiB of the raw image, each made by libdeflate (WebAssembly, pinned) at level 6 with the
 * header `gzip -n` writes. The members concatenate into one gzip file that busybox `gunzip`
 * (and GNU gzip) decompress as a whole; cutting at fixed offsets keeps memory bounded and the
 * bytes independent of how the image is read. Streamed: the raw image is read once, and both
 * SHA-256 sums (raw and compressed) are taken on the way.
 */
import { createHash } from 'node:crypto';
import { createDeflateCompressor, LIBDEFLATE_PACKAGE } from '../compress/libdeflate/compressor.js';
import type { Sink } from '../io/sink.js';
import type { RandomAccessSource } from '../io/source.js';

export const INSTALLER_IMAGE_CHUNK = 4 << 20;
export const INSTALLER_IMAGE_LEVEL = 6;
/** For manifests and image.conf. */
export const INSTALLER_IMAGE_CODEC = { name: 'gzip', implementation: `${LIBDEFLATE_PACKAGE} (libdeflate in WebAssembly) level ${INSTALLER_IMAGE_LEVEL}, one member per ${INSTALLER_IMAGE_CHUNK >> 20} MiB` } as const;

export interface CompressedImageReport {
  /** The raw image. */
  size: number;
  sha256: string;
  /** The gzip file. */
  compressedSize: number;
  compressedSha256: string;
}

/** Writes the gzip of `image` to `sink`; `onProgress` hears the raw bytes done so far. */
export async function writeCompressedImage(image: RandomAccessSource, sink: Sink, onProgress?: (done: number) => void): Promise<CompressedImageReport> {
  const compressor = await createDeflateCompressor(INSTALLER_IMAGE_LEVEL);
  const raw = createHash('sha256');
  const packed = createHash('sha256');
  let compressedSize = 0;
  for (let offset = 0; offset < image.size; offset += INSTALLER_IMAGE_CHUNK) {
    const bytes = await image.read(offset, Math.min(INSTALLER_IMAGE_CHUNK, image.size - offset));
    raw.update(bytes);
    const member = compressor.gzip(bytes);
    packed.update(member);
    compressedSize += member.length;
    await sink.write(member);
    onProgress?.(offset + bytes.length);
  }
  return { size: image.size, sha256: raw.digest('hex'), compressedSize, compressedSha256: packed.digest('hex') };
}
