/**
 * VHD (fixed and dynamic) in the format registry: opened as the disk it holds, which is opened by its own
 * content in turn (a partition table, then each partition's file system). Written from a raw
 * disk by `reprimage disk -o NAME.vhd` and convertDisk (src/image/convert-disk.ts), not by `pack`.
 * Sniffing sees a dynamic VHD (its footer copy at byte 0); a fixed VHD shows only at its end
 * (`sniffTail`, which the registry tries first).
 */
import type { RandomAccessSource } from '../../io/source.js';
import type { FormatDefinition } from '../format.js';

export const vhdFormat: FormatDefinition = {
  id: 'vhd',
  title: 'VHD (fixed and dynamic)',
  outputNames: [],
  suffixes: [],
  writable: false,
  diskImage: true,
  async load() {
    const { isVhdFooter, sniffVhd } = await import('./layout.js');
    // the reader only when an image is opened: diff looks for disk images among its arguments
    const openVhd = async (source: RandomAccessSource) => (await import('./reader.js')).openVhd(source);
    return {
      sniff: (head) => sniffVhd(head),
      sniffTail: (tail) => isVhdFooter(tail),
      openDisk: (source) => openVhd(source),
      async open(source, ctx) {
        const image = await openVhd(source);
        const inner = await ctx.openNested(image.disk);
        return { ...inner, format: `vhd ▸ ${inner.format}` };
      },
    };
  },
};
