/** SquashFS 4.0 in the format registry: read (gzip, xz, zstd, lz4, lzo-free images), written. */
import type { FormatDefinition } from '../format.js';
import { openedTree } from '../format.js';

export const squashfsFormat: FormatDefinition = {
  id: 'squashfs',
  title: 'SquashFS 4.0',
  outputNames: ['squashfs'],
  suffixes: ['.squashfs', '.sqfs'],
  writable: true,
  async load() {
    const { openSquashfs, sniffSquashfs } = await import('./reader.js');
    return {
      sniff: (head) => sniffSquashfs(head),
      open: async (source, ctx) => openedTree(await (await openSquashfs(source, { warn: ctx.warn })).tree(), 'squashfs', source),
      async write(tree, sink, ctx, settings) {
        const { writeSquashfs } = await import('./writer.js');
        const s = settings.squashfs ?? {};
        const report = await writeSquashfs(tree, sink, {
          compressor: s.compressor,
          blockSize: s.blockSize,
          workers: ctx.workers,
          buildTime: ctx.buildTime,
          noFragments: s.noFragments,
          noDuplicates: s.noDuplicates,
          deflate: s.deflate,
          blockCache: s.blockCache,
          warn: ctx.warn,
        });
        return { size: report.imageSize, report };
      },
    };
  },
};
