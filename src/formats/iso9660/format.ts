/** ISO 9660 in the format registry: Rock Ridge, Joliet, El Torito and isohybrid read and written. */
import { ID_PURPOSES } from '../../tree/id-purposes.js';
import type { FormatDefinition } from '../format.js';

export const iso9660Format: FormatDefinition = {
  id: 'iso9660',
  title: 'ISO 9660 (Rock Ridge, Joliet, El Torito, isohybrid)',
  outputNames: ['iso'],
  suffixes: ['.iso'],
  writable: true,
  async load() {
    const { openIso, sniffIso } = await import('./reader.js');
    return {
      sniff: (head) => sniffIso(head),
      async open(source) {
        const image = await openIso(source);
        const tree = await image.tree();
        return {
          tree,
          format: 'iso9660',
          // the El Torito entries and MBR/GPT partitions (docs/formats/iso9660.md, "ls")
          async describe() {
            const { isoBootJson, isoBootLines } = await import('./describe.js');
            return { json: isoBootJson(image, tree), lines: isoBootLines(image, tree) };
          },
          close: () => source.close(),
        };
      },
      async write(tree, sink, ctx, settings) {
        const { writeIso } = await import('./writer.js');
        const o = settings.iso ?? {};
        const hybrid = o.hybridMbr;
        const report = await writeIso(tree, sink, {
          volumeId: o.volumeId ?? 'REPRIMAGE',
          publisher: o.publisher,
          applicationId: o.applicationId,
          buildTime: ctx.buildTime,
          bios: o.biosBoot === undefined ? undefined : { bootImage: o.biosBoot, bootInfoTable: true },
          efi: o.efiBoot !== undefined ? { bootImage: o.efiBoot } : o.efiAppended !== undefined ? { appendedImage: o.efiAppended } : undefined,
          hybridMbr: hybrid,
          mbrId: hybrid === undefined ? undefined : (o.mbrId ?? ctx.ids(ID_PURPOSES.isoMbrDiskSignature).u32()),
          gpt: o.gpt
            ? { diskGuid: ctx.ids(ID_PURPOSES.isoGptDisk).uuid(), partitionGuids: [0, 1, 2, 3].map((i) => ctx.ids(ID_PURPOSES.isoGptPartition(i)).uuid()) }
            : undefined,
          sortWeights: o.sortWeights,
          warn: ctx.warn,
        });
        return { size: report.size, report };
      },
    };
  },
};
