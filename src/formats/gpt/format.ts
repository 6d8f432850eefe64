/**
 * Partitioned disk images (GPT or MBR) in the format registry: opened as one directory per
 * partition, each partition opened by its own content (disk-tree.ts). `reprimage disk` writes
 * them from partition specs (src/image/disk.ts), so `pack` does not.
 */
import type { FormatDefinition } from '../format.js';

export const diskFormat: FormatDefinition = {
  id: 'disk',
  title: 'partitioned disk image (GPT, MBR)',
  outputNames: [],
  suffixes: [],
  writable: false,
  async load() {
    const { sniffPartitionTable } = await import('./reader.js');
    const { openDiskTree } = await import('./disk-tree.js');
    return {
      sniff: (head) => sniffPartitionTable(head),
      async open(source, ctx) {
        const disk = await openDiskTree(source, (slice) => ctx.openNested(slice), ctx.warn);
        return { tree: disk.tree, format: disk.format, close: () => source.close() };
      },
    };
  },
};
