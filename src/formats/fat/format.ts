/** FAT12/16/32 in the format registry: read and written (EFI system partitions). */
import { ID_PURPOSES } from '../../tree/id-purposes.js';
import type { FormatDefinition } from '../format.js';
import { openedTree } from '../format.js';

export const fatFormat: FormatDefinition = {
  id: 'fat',
  title: 'FAT12/16/32',
  outputNames: ['fat'],
  suffixes: ['.fat', '.esp', '.vfat'],
  writable: true,
  async load() {
    const { openFat, sniffFat } = await import('./reader.js');
    return {
      sniff: (head) => sniffFat(head),
      open: async (source) => openedTree(await (await openFat(source)).tree(), 'fat', source),
      async write(tree, sink, ctx, settings) {
        const { writeFat } = await import('./writer.js');
        const s = settings.fat ?? {};
        const report = await writeFat(tree, sink, {
          fatType: s.fatType,
          label: s.label,
          size: s.size,
          volumeSerial: ctx.ids(ID_PURPOSES.fatVolumeSerial).u32(),
          buildTime: ctx.buildTime,
          skipUnsupported: s.skipUnsupported ?? false,
        });
        for (const w of report.warnings) ctx.warn(w);
      },
    };
  },
};
