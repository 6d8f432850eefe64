/** SquashFS 4.0 images: the superblock compared field by field, then the files, walked rather than held. */
import type { Comparator } from '../comparator.js';
import { sniffSquashfs, type SquashfsImage } from '../../formats/squashfs/reader.js';
import { withSource } from './open-helpers.js';
import { formatTime } from '../metadata.js';
import { describeFields, treeMember, treeMembers } from './tree-members.js';

export interface SquashfsComparatorOptions {
  /** Hears each image opened (tests read its `decompressed()` counts afterwards). */
  opened?: (image: SquashfsImage) => void;
}

/** The SquashFS comparator; `options` are for tests. */
export function makeSquashfsComparator(options: SquashfsComparatorOptions = {}): Comparator {
  return {
    id: 'squashfs',
    recognizes: (head) => sniffSquashfs(head),
    open: (input) =>
      withSource(input, async (source) => {
        const { openSquashfs } = await import('../../formats/squashfs/index.js');
        const image = await openSquashfs(source);
        options.opened?.(image);
        return {
          async describe() {
            const { superblock, compressor, flags } = image.describe();
            return { superblock: describeFields({ ...superblock, modTime: formatTime({ sec: superblock.modTime, nsec: 0 }), compressor, flags: flags.join(' ') }) };
          },
          members: async () => treeMembers(await image.tree(), { root: true }),
          // a root file system's tree is large: walked as the comparison goes, never held whole
          async *walk() {
            for await (const entry of image.walk()) yield treeMember(entry, true);
          },
          close: () => source.close(),
        };
      }),
  };
}

export const squashfsComparator: Comparator = makeSquashfsComparator();
