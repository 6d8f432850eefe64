/**
 * Disks in any container: qcow2, VHD, VMDK and raw partitioned images are all compared as the
 * disks they hold, so `diff a.qcow2 b.vhd` (or a qcow2 against the raw image it was made from)
 * reaches the partitions and their files. The image format's header is one more described
 * structure (`image`); a raw disk is the disk comparator's container as it is.
 */
import type { Comparator } from '../comparator.js';
import { sourceBlob } from '../blob.js';
import { sniffPartitionTable } from '../../formats/gpt/reader.js';
import { sniffVmDisk } from '../../image/vm-disk.js';
import { diskComparator } from './disk.js';
import { withSource } from './open-helpers.js';

export const vmDiskComparator: Comparator = {
  // the same id as the raw disk's: both sides are disks, whatever holds them
  id: 'disk',
  recognizes: (head) => sniffVmDisk(head) || sniffPartitionTable(head),
  open: (input) =>
    withSource(input, async (source) => {
      const { openVmDisk } = await import('../../image/vm-disk.js');
      const vm = await openVmDisk(source, await input.blob.head(512));
      if (!vm) {
        await source.close();
        return diskComparator.open(input);
      }
      const inner = await diskComparator.open({ ...input, blob: sourceBlob(vm.disk) });
      return {
        async describe() {
          return { image: vm.describe(), ...(await inner.describe?.()) };
        },
        members: () => inner.members(),
        async close() {
          await inner.close();
          await vm.disk.close();
        },
      };
    }),
};
