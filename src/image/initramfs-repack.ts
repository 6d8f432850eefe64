/**
 * Deterministic repacking of an initramfs for the live ISO. Debian's initramfs-tools writes a
 * concatenation: an uncompressed early archive (CPU microcode, read by the kernel before anything
 * else) followed by the compressed main archive. The kernel unpacks the segments in order, so we
 * keep that layout: each segment is read into its own Tree and written again with our newc
 * writer (entries in sorted order, inode numbers counted from 0, times clamped), then compressed
 * with the compressor the segment had. The result depends only on the files and the pinned
 * WebAssembly codec packages, never on when or where mkinitramfs ran.
 *
 * Speed: the main archive of a Debian initramfs is 130-160 MB of cpio. Compressing it is nearly
 * all of the cost (reading and writing the cpio take 1-2 s); docs/live-iso.md has the numbers.
 */
import { ReprimageError } from '../errors.js';
import { createDeflateCompressor, type DeflateCompressor } from '../compress/libdeflate/compressor.js';
import { createZstdCompressor } from '../compress/zstd/compressor.js';
import { INITRAMFS_GZIP_LEVEL, INITRAMFS_ZSTD_LEVEL } from '../compress/initramfs-codecs.js';
import { loadCpioSegments } from '../formats/cpio/index.js';
import { writeCpio } from '../formats/cpio/index.js';
import { MemorySink } from '../io/sink.js';
import { bufferSource } from '../io/source.js';
import { applyPolicy } from '../tree/policy.js';

export { INITRAMFS_CODECS, INITRAMFS_GZIP_LEVEL, INITRAMFS_ZSTD_LEVEL } from '../compress/initramfs-codecs.js';

export interface RepackedInitramfs {
  bytes: Uint8Array;
  /** Per segment: 'none' or the compressor, in file order. */
  segments: string[];
}


/**
 * Repacks `initrd` (the bytes of /boot/initrd.img-*). Compressors we cannot write (xz, lz4,
 * bzip2 …) are an UNSUPPORTED error naming the file; set COMPRESS=zstd or gzip in
 * /etc/initramfs-tools/initramfs.conf.
 */
export async function repackInitramfs(initrd: Uint8Array, name: string, buildTime: number): Promise<RepackedInitramfs> {
  const segments = await loadCpioSegments(bufferSource(initrd, name));
  if (segments.length === 0) throw new ReprimageError('CORRUPT_IMAGE', name, 'holds no cpio archive');
  const out = new MemorySink();
  const kinds: string[] = [];
  try {
    for (const { segment, tree } of segments) {
      applyPolicy(tree, { buildTime, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
      const kind = segment.compression ?? 'none';
      kinds.push(kind);
      if (kind !== 'none' && kind !== 'gzip' && kind !== 'zstd') {
        throw new ReprimageError('UNSUPPORTED', name, `a ${kind}-compressed archive at byte ${segment.offset}: only gzip and zstd can be repacked (set COMPRESS=zstd in initramfs.conf)`);
      }
      if (kind === 'none') {
        await writeCpio(tree, out, { buildTime });
        continue;
      }
      // Both codecs compress a whole buffer: neither package streams, and one call is far faster
      // than many small ones. The buffer is the uncompressed archive, which the kernel also holds.
      const plain = new MemorySink();
      await writeCpio(tree, plain, { buildTime });
      const bytes = plain.bytes();
      await out.write(await compressWhole(kind, bytes, name));
    }
  } finally {
    for (const { segment } of segments) if (segment.compression) await segment.source.close();
  }
  return { bytes: out.bytes(), segments: kinds };
}

/**
 * The codec's output for the whole archive. The WebAssembly heaps stop at 2 GiB and hold input
 * and output at once, so an archive near 1 GiB fails there: that becomes an OVERFLOW error
 * naming the file instead of the codec's bare Error.
 */
async function compressWhole(kind: 'gzip' | 'zstd', bytes: Uint8Array, name: string): Promise<Uint8Array> {
  try {
    return kind === 'zstd' ? (await createZstdCompressor(INITRAMFS_ZSTD_LEVEL))(bytes) : await gzipMember(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ReprimageError('OVERFLOW', name, `cannot ${kind}-compress the ${bytes.length}-byte main archive in one piece (${why})`, { cause: e });
  }
}

// one compressor per thread: each keeps its WebAssembly buffers, which a new one would leak
let deflater: Promise<DeflateCompressor> | undefined;

/** One gzip member of `data`; libdeflate is whole-buffer only, hence not compress/gzip.ts's streaming pako sink. */
async function gzipMember(data: Uint8Array): Promise<Uint8Array> {
  deflater ??= createDeflateCompressor(INITRAMFS_GZIP_LEVEL);
  return (await deflater).gzip(data);
}
