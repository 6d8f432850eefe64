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
        const volumeSerial = ctx.ids(ID_PURPOSES.fatVolumeSerial).u32();
        const report = await writeFat(tree, sink, {
          fatType: s.fatType,
          label: s.label,
          size: s.size,
          volumeSerial,
          buildTime: ctx.buildTime,
          skipUnsupported: s.skipUnsupported ?? false,
          hiddenSectors: s.hiddenSectors,
        });
        for (const w of report.warnings) ctx.warn(w);
        return { size: report.size, filesystemId: fatVolumeId(volumeSerial), report };
      },
    };
  },
};

/** A volume serial as blkid and mtools show it: `1A2B-3C4D`. */
export function fatVolumeId(serial: number): string {
  const hex = serial.toString(16).padStart(8, '0').toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}
