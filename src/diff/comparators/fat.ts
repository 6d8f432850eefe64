/** FAT12/16/32 volumes (EFI system partitions): the boot sector's fields, then the files. */
import type { Comparator } from '../comparator.js';
import { sniffFat } from '../../formats/fat/reader.js';
import { withSource } from './open-helpers.js';
import { describeFields, treeContainer } from './tree-members.js';

export const fatComparator: Comparator = {
  id: 'fat',
  recognizes: (head) => sniffFat(head),
  open: (input) =>
    withSource(input, async (source) => {
      const { openFat } = await import('../../formats/fat/index.js');
      const image = await openFat(source);
      const tree = await image.tree();
      return treeContainer(tree, {
        async describe() {
          const out: Record<string, string> = {
            volume: describeFields({ type: image.type, label: image.label ?? '(none)', serial: image.serial?.toString(16).padStart(8, '0'), 'cluster size': image.clusterSize, clusters: image.clusterCount }),
            'boot sector': describeFields(image.bootSector),
          };
          if (image.fsInfo) out['FSInfo'] = describeFields(image.fsInfo);
          return out;
        },
        close: () => source.close(),
      });
    }),
};
