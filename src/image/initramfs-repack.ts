/**
 * Deterministic repacking of an initramfs for the live ISO. Debian's initramfs-tools writes a
 * concatenation: an uncompressed early archive (CPU microcode, read by the kernel before anything
 * else) followed by the compressed main archive. The kernel unpacks the segments in order, so we
 * keep that layout: each segment is read into its own Tree and written again with our newc
 * writer (entries in sorted order, inode numbers counted from 0, times clamped), then compressed
 * with the compressor the segment had. The result depends only on the files, never on when or
 * where mkinitramfs ran.
 */
import { ReprimageError } from '../errors.js';
import { GzipSink } from '../compress/gzip.js';
import { createZstdCompressor } from '../compress/zstd/compressor.js';
import { loadCpioSegments } from '../formats/cpio/index.js';
import { writeCpio } from '../formats/cpio/index.js';
import { MemorySink } from '../io/sink.js';
import { bufferSource } from '../io/source.js';
import { applyPolicy } from '../tree/policy.js';

export interface RepackedInitramfs {
  bytes: Uint8Array;
  /** Per segment: 'none' or the compressor, in file order. */
  segments: string[];
}

/** zstd level of the main archive: initramfs-tools uses -1; 19 took minutes for a 100 MB archive in our WebAssembly build, 9 takes seconds. */
const ZSTD_LEVEL = 9;

/**
 * Repacks `initrd` (the bytes of /boot/initrd.img-*). Compressors we cannot write (xz, lz4,
 * bzip2 …) are an UNSUPPORTED error naming the file; set COMPRESS=zstd or gzip in
 * /etc/initramfs-tools/initramfs.conf.
 */
export async function repackInitramfs(initrd: Uint8Array, name: string, sourceDateEpoch: number): Promise<RepackedInitramfs> {
  const segments = await loadCpioSegments(bufferSource(initrd, name));
  if (segments.length === 0) throw new ReprimageError('CORRUPT_IMAGE', name, 'holds no cpio archive');
  const out = new MemorySink();
  const kinds: string[] = [];
  try {
    for (const { segment, tree } of segments) {
      applyPolicy(tree, { sourceDateEpoch, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
      const kind = segment.compression ?? 'none';
      kinds.push(kind);
      if (kind === 'none') {
        await writeCpio(tree, out);
      } else if (kind === 'gzip') {
        const gz = new GzipSink(out);
        await writeCpio(tree, gz);
        await gz.close();
      } else if (kind === 'zstd') {
        const plain = new MemorySink();
        await writeCpio(tree, plain);
        await out.write((await createZstdCompressor(ZSTD_LEVEL))(plain.bytes()));
      } else {
        throw new ReprimageError('UNSUPPORTED', name, `a ${kind}-compressed archive at byte ${segment.offset}: only gzip and zstd can be repacked (set COMPRESS=zstd in initramfs.conf)`);
      }
    }
  } finally {
    for (const { segment } of segments) if (segment.compression) await segment.source.close();
  }
  return { bytes: out.bytes(), segments: kinds };
}
