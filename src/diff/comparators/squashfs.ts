/** SquashFS 4.0 images: the superblock compared field by field, then the files. */
import type { Comparator } from '../comparator.js';
import { sniffSquashfs } from '../../formats/squashfs/reader.js';
import { withSource } from './open-helpers.js';
import { formatTime } from '../metadata.js';
import { describeFields, treeContainer } from './tree-members.js';

export const squashfsComparator: Comparator = {
  id: 'squashfs',
  recognizes: (head) => sniffSquashfs(head),
  open: (input) =>
    withSource(input, async (source) => {
      const { openSquashfs } = await import('../../formats/squashfs/index.js');
      const image = await openSquashfs(source);
      const tree = await image.tree();
      return treeContainer(tree, {
        async describe() {
          const { superblock, compressor, flags } = image.describe();
          return { superblock: describeFields({ ...superblock, modTime: formatTime({ sec: superblock.modTime, nsec: 0 }), compressor, flags: flags.join(' ') }) };
        },
        close: () => source.close(),
      });
    }),
};
