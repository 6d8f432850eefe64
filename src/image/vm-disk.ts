/**
 * Virtual-machine disk images opened as the disks they hold: qcow2, VHD (fixed or dynamic) and
 * VMDK (hosted sparse). `ls`, `pack` and `diff` read what comes back as a raw disk (a partition
 * table, then each partition's file system).
 */
import type { RandomAccessSource } from '../io/source.js';
import { sniffQcow2 } from '../formats/qcow2/layout.js';
import { sniffVhd } from '../formats/vhd/layout.js';
import { isVmdkDescriptorText, sniffVmdk } from '../formats/vmdk/layout.js';

export interface VmDisk {
  /** `qcow2`, `vhd` or `vmdk`. */
  format: string;
  /** The guest disk; closing it closes the image file. */
  disk: RandomAccessSource;
  /** The image's header fields as `key: value` lines. */
  describe(): string;
}

/** Whether `head` starts a qcow2, dynamic VHD or VMDK (a fixed VHD shows only at its end: see openVmDisk). */
export function sniffVmDisk(head: Uint8Array): boolean {
  return sniffQcow2(head) || sniffVhd(head) || sniffVmdk(head) || isVmdkDescriptorText(head);
}

/**
 * The disk inside `source` when it is a VM image, else undefined. Damaged images throw
 * (CORRUPT_IMAGE, OUT_OF_BOUNDS, TRUNCATED naming the file); the source is not closed then.
 */
export async function openVmDisk(source: RandomAccessSource, head: Uint8Array): Promise<VmDisk | undefined> {
  if (sniffQcow2(head)) {
    const { openQcow2 } = await import('../formats/qcow2/reader.js');
    const image = await openQcow2(source);
    return { format: 'qcow2', disk: image.disk, describe: image.describe };
  }
  if (sniffVmdk(head) || isVmdkDescriptorText(head)) {
    const { openVmdk } = await import('../formats/vmdk/reader.js');
    const image = await openVmdk(source);
    return { format: 'vmdk', disk: image.disk, describe: image.describe };
  }
  const { hasVhdFooter, openVhd } = await import('../formats/vhd/reader.js');
  if (sniffVhd(head) || (await hasVhdFooter(source))) {
    const image = await openVhd(source);
    return { format: 'vhd', disk: image.disk, describe: image.describe };
  }
  return undefined;
}

/**
 * For a file argument that is a qcow2, VHD or VMDK image: opens its headers and tables and
 * closes them again, so a damaged image stops the command with one line (exit 2) before any
 * work. Anything else (a directory, another format, a missing file) is left to the command.
 */
export async function checkVmImageArgument(path: string): Promise<void> {
  const { openFileSource } = await import('../io/source.js');
  const { stat } = await import('node:fs/promises');
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return;
  const source = await openFileSource(path);
  try {
    const head = await source.read(0, Math.min(source.size, 512));
    const vm = await openVmDisk(source, head);
    // a small read through the tables: the partition table's sectors
    if (vm && vm.disk.size > 0) await vm.disk.read(0, Math.min(vm.disk.size, 64 * 1024));
  } finally {
    await source.close();
  }
}
