/** cpio in the format registry: newc/crc/odc read (concatenated and compressed segments too), newc written, compressible. */
import type { RandomAccessSource } from '../../io/source.js';
import type { FormatDefinition, OpenedImage } from '../format.js';

export const cpioFormat: FormatDefinition = {
  id: 'cpio',
  title: 'cpio (newc written; newc, crc, odc read)',
  outputNames: ['cpio'],
  suffixes: ['.cpio'],
  compressible: true,
  writable: true,
  async load() {
    const { sniffCpio } = await import('./reader.js');
    return {
      sniff: (head) => sniffCpio(head),
      open: (source, ctx) => openCpio(source, ctx.warn),
      async write(tree, sink, ctx) {
        const start = sink.position;
        await (await import('./writer.js')).writeCpio(tree, sink, { buildTime: ctx.buildTime, warn: ctx.warn });
        return { size: sink.position - start };
      },
    };
  },
};

/**
 * A cpio Tree whose close also closes the spooled files of its compressed segments (they stay
 * open for the Tree's lazy contents; left to garbage collection they would be closed with a
 * warning from Node). Also used for a concatenated initramfs found behind a compressed segment.
 */
export async function openCpio(source: RandomAccessSource, warn: (m: string) => void, format = 'cpio'): Promise<OpenedImage> {
  const { loadCpio } = await import('./reader.js');
  const spooled: RandomAccessSource[] = [];
  const close = async () => {
    for (const s of spooled) await s.close();
    await source.close();
  };
  try {
    const tree = await loadCpio(source, { warn, onSegment: (s) => { if (s.compression !== undefined) spooled.push(s.source); } });
    return { tree, format, close };
  } catch (e) {
    for (const s of spooled) await s.close();
    throw e;
  }
}
