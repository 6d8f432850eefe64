/**
 * VMDK (monolithicSparse, streamOptimized) in the format registry: opened as the disk it holds, which is opened by its own
 * content in turn (a partition table, then each partition's file system). Written from a raw
 * disk by `reprimage disk -o NAME.vmdk` and convertDisk (src/image/convert-disk.ts), not by `pack`.
 */
import type { FormatDefinition } from '../format.js';

export const vmdkFormat: FormatDefinition = {
  id: 'vmdk',
  title: 'VMDK (monolithicSparse, streamOptimized)',
  outputNames: [],
  suffixes: [],
  writable: false,
  async load() {
    const { isVmdkDescriptorText, sniffVmdk } = await import('./layout.js');
    const { openVmdk } = await import('./reader.js');
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
