/**
 * Reads a GCE image tarball back to its disk: gunzip (spooled to a temporary file), then the
 * `disk.raw` member of the tar, sparse runs and all, as a RandomAccessSource of the disk.
 */
import { ReprimageError } from '../../errors.js';
import { decompressSegment, detectCompression } from '../../compress/decompress.js';
import type { RandomAccessSource } from '../../io/source.js';
import { loadTar } from '../tar/index.js';
import { GCE_MEMBER_NAME } from './layout.js';

/** The disk inside a GCE tarball; closing it releases the spooled tar. */
export async function openGceTarball(source: RandomAccessSource): Promise<RandomAccessSource> {
  const head = await source.read(0, Math.min(16, source.size));
  if (detectCompression(head) !== 'gzip') throw new ReprimageError('UNSUPPORTED', source.name, 'not a gzip file (a GCE image is a .tar.gz)');
  const tar = (await decompressSegment(source, 0, 'gzip', source.name)).source;
  try {
    const tree = await loadTar(tar);
    const node = tree.root.children.get(GCE_MEMBER_NAME);
    if (!node || node.kind !== 'file') throw new ReprimageError('NOT_FOUND', source.name, `no ${GCE_MEMBER_NAME} in the tarball`);
    const content = node.content;
    // read the sparse member in place: chunks in order, kept in a window the size of one read
    const size = content.size;
    return {
      name: `${source.name} ▸ ${GCE_MEMBER_NAME}`,
      size,
      async read(offset, length) {
        const out = new Uint8Array(length);
        let pos = 0;
        for await (const chunk of content.chunks()) {
          const end = pos + chunk.length;
          if (end > offset && pos < offset + length) {
            const from = Math.max(offset, pos);
            const to = Math.min(offset + length, end);
            out.set(chunk.subarray(from - pos, to - pos), from - offset);
          }
          pos = end;
          if (pos >= offset + length) break;
        }
        return out;
      },
      close: () => tar.close(),
    };
  } catch (e) {
    await tar.close();
    throw e;
  }
}
