/** ext2/3/4 in the format registry: read (journal replayed), ext4 written. */
import { ID_PURPOSES } from '../../tree/id-purposes.js';
import type { FormatDefinition } from '../format.js';
import { openedTree } from '../format.js';

export const ext4Format: FormatDefinition = {
  id: 'ext4',
  title: 'ext4 (ext2 and ext3 read too)',
  outputNames: ['ext4'],
  suffixes: ['.ext4'],
  writable: true,
  async load() {
    const { openExt4, sniffExt4 } = await import('./reader.js');
    return {
      sniff: (head) => sniffExt4(head),
      open: async (source, ctx) => openedTree(await (await openExt4(source, { warn: ctx.warn })).tree(), 'ext4', source),
      async write(tree, sink, ctx, settings) {
        const { writeExt4 } = await import('./writer.js');
        const o = settings.ext4 ?? {};
        const uuid = o.uuid ?? ctx.ids(ID_PURPOSES.ext4Uuid).uuid();
        const report = await writeExt4(tree, sink, {
          blockSize: o.blockSize,
          size: o.size,
          inodes: o.inodes,
          reservedPercent: o.reservedPercent,
          label: o.label,
          mountOptions: o.mountOptions,
          uuid,
          hashSeed: o.hashSeed ?? ctx.ids(ID_PURPOSES.ext4HashSeed).uuid(),
          journalUuid: o.journalUuid ?? ctx.ids(ID_PURPOSES.ext4JournalUuid).uuid(),
          buildTime: ctx.buildTime,
          subject: ctx.subject,
        });
        return { size: report.size, filesystemId: uuid, report };
      },
    };
  },
};
