/**
 * Disks in any container: every disk-image format of the registry (a handler with `openDisk`:
 * qcow2, VHD, VMDK) and raw partitioned images are compared as the disks they hold, so
 * `diff a.qcow2 b.vhd` (or a qcow2 against the raw image it was made from) reaches the
 * partitions and their files. The image format's header is one more described structure
 * (`image`); a raw disk is the disk comparator's container as it is.
 *
 * One comparator per registry slot, each recognizing what its format sniffs, all under the id
 * `disk`: the engine pairs comparators of one id, and opening goes through the registry's sniff
 * (head and tail: a fixed VHD is a raw disk with a footer), whichever slot recognized the side.
 */
import type { Comparator, ComparatorInput, Container } from '../comparator.js';
import { sourceBlob } from '../blob.js';
import { diskComparator } from './disk.js';
import { withSource } from './open-helpers.js';

/** The disk comparator of one registry slot: `recognizes` is that format's sniff. */
export function diskImageComparator(recognizes: (head: Uint8Array, size: number) => boolean): Comparator {
  // the same id as the raw disk's: both sides are disks, whatever holds them
  return { id: 'disk', recognizes, open: openAsDisk };
}

function openAsDisk(input: ComparatorInput): Promise<Container> {
  return withSource(input, async (source) => {
    const { openDiskImage } = await import('../../formats/registry.js');
    const vm = await openDiskImage(source);
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
  });
}
