/**
 * QEMU qcow2 (version 2 and 3) in the format registry: opened as the disk it holds, which is opened by its own
 * content in turn (a partition table, then each partition's file system). Written from a raw
 * disk by `reprimage disk -o NAME.qcow2` and convertDisk (src/image/convert-disk.ts), not by `pack`.
 */
import type { RandomAccessSource } from '../../io/source.js';
import type { FormatDefinition } from '../format.js';

export const qcow2Format: FormatDefinition = {
  id: 'qcow2',
  title: 'QEMU qcow2 (version 2 and 3)',
  outputNames: [],
  suffixes: [],
  writable: false,
  diskImage: true,
  async load() {
    const { sniffQcow2 } = await import('./layout.js');
    // the reader only when an image is opened: diff looks for disk images among its arguments
    const openQcow2 = async (source: RandomAccessSource) => (await import('./reader.js')).openQcow2(source);
    return {
      sniff: (head) => sniffQcow2(head),
      openDisk: (source) => openQcow2(source),
      async open(source, ctx) {
        const image = await openQcow2(source);
        const inner = await ctx.openNested(image.disk);
        return { ...inner, format: `qcow2 ▸ ${inner.format}` };
      },
    };
  },
};
