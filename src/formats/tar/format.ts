/** tar in the format registry: read (ustar, GNU, pax; lenient as GNU tar), written (gnu by default), compressible. */
import type { FormatDefinition } from '../format.js';
import { openedTree } from '../format.js';

export const tarFormat: FormatDefinition = {
  id: 'tar',
  title: 'tar (ustar, GNU, pax)',
  outputNames: ['tar'],
  suffixes: ['.tar'],
  compressible: true,
  writable: true,
  async load() {
    const { loadTar, sniffTar } = await import('./reader.js');
    return {
      sniff: (head) => sniffTar(head),
      open: async (source, ctx) => openedTree(await loadTar(source, { warn: ctx.warn }), 'tar', source),
      async write(tree, sink, ctx, settings) {
        const start = sink.position;
        await (await import('./writer.js')).writeTar(tree, sink, { format: settings.tar?.flavour ?? 'gnu', buildTime: ctx.buildTime, warn: ctx.warn });
        return { size: sink.position - start };
      },
    };
  },
};
