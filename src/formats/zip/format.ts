/** zip (and jar, apk, whl …) in the format registry: read as a Tree; the normalizer rewrites zips, `pack` does not write them. */
import type { FormatDefinition } from '../format.js';
import { openedTree } from '../format.js';

export const zipFormat: FormatDefinition = {
  id: 'zip',
  title: 'zip (jar, apk, whl, zip64 …)',
  outputNames: [],
  suffixes: [],
  writable: false,
  async load() {
    const { openZip, sniffZip } = await import('./reader.js');
    const { zipTree } = await import('./tree.js');
    return {
      sniff: (head) => sniffZip(head),
      open: async (source, ctx) => openedTree(await zipTree(await openZip(source), source.name, ctx.warn), 'zip', source),
    };
  },
};
