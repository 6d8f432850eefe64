/**
 * Partitioned disk images (GPT or MBR): the partition table as text (disk GUID, each partition's
 * type, UUID, name, attributes and place), then one member per partition (`p1-esp`, …) whose
 * bytes the engine compares and recurses into with the comparator of the file system inside.
 */
import type { Comparator } from '../comparator.js';
import { sniffPartitionTable } from '../../formats/gpt/reader.js';
import { rangeContent } from '../../tree/content.js';
import { withSource } from './open-helpers.js';

export const diskComparator: Comparator = {
  id: 'disk',
  recognizes: (head) => sniffPartitionTable(head),
  open: (input) =>
    withSource(input, async (source) => {
      const { readPartitionTable } = await import('../../formats/gpt/index.js');
      const { describePartitionTable, partitionEntryName } = await import('../../image/disk-tree.js');
      const table = await readPartitionTable(source);
      return {
        async describe() {
          // a copy of the GPT read from its backup, or a damaged backup, is a difference worth naming
          const problems = (table.problems ?? []).map((p) => `problem: ${p.startsWith(`${source.name}: `) ? p.slice(source.name.length + 2) : p}`);
          return { 'partition table': `${[...describePartitionTable(table), ...problems].join('\n')}\n` };
        },
        async members() {
          return table.partitions.map((p) => ({
            // paired by number and name; a renamed partition shows as removed and added
            name: partitionEntryName(p),
            fields: [
              { key: 'type', value: 'partition', class: 'type' as const },
              { key: 'size', value: String(p.size), class: 'size' as const },
            ],
            content: rangeContent(source, p.offset, p.size, `${source.name} ▸ ${partitionEntryName(p)}`),
          }));
        },
        close: () => source.close(),
      };
    }),
};
