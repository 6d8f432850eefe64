/**
 * VMDK (monolithicSparse, streamOptimized) in the format registry: opened as the disk it holds, which is opened by its own
 * content in turn (a partition table, then each partition's file system). Written from a raw
 * disk by `reprimage disk -o NAME.vmdk` and convertDisk (src/image/convert-disk.ts), not by `pack`.
 */
import type { RandomAccessSource } from '../../io/source.js';
import type { FormatDefinition } from '../format.js';

export const vmdkFormat: FormatDefinition = {
  id: 'vmdk',
  title: 'VMDK (monolithicSparse, streamOptimized)',
  outputNames: [],
  suffixes: [],
  writable: false,
  diskImage: true,
  async load() {
    const { isVmdkDescriptorText, sniffVmdk } = await import('./layout.js');
    // the reader only when an image is opened: diff looks for disk images among its arguments
    const openVmdk = async (source: RandomAccessSource) => (await import('./reader.js')).openVmdk(source);
    return {
      sniff: (head) => sniffVmdk(head) || isVmdkDescriptorText(head),
      openDisk: (source) => openVmdk(source),
      async open(source, ctx) {
        const image = await openVmdk(source);
        const inner = await ctx.openNested(image.disk);
        return { ...inner, format: `vmdk ▸ ${inner.format}` };
      },
    };
  },
};
