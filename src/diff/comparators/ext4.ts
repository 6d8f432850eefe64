/** ext2/3/4 file systems: the superblock's identifying fields, then the files. */
import type { Comparator } from '../comparator.js';
import { sniffExt4 } from '../../formats/ext4/read-superblock.js';
import { withSource } from './open-helpers.js';
import { describeFields, treeContainer } from './tree-members.js';

export const ext4Comparator: Comparator = {
  id: 'ext4',
  recognizes: (head) => sniffExt4(head),
  open: (input) =>
    withSource(input, async (source) => {
      const { openExt4 } = await import('../../formats/ext4/reader.js');
      const image = await openExt4(source, { warn: input.warn });
      const tree = await image.tree();
      return treeContainer(tree, {
        async describe() {
          return { superblock: describeFields(image.describe()) };
        },
        close: () => source.close(),
      });
    }),
};
