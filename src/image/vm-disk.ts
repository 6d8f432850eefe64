/**
 * Virtual-machine disk images opened as the disks they hold: every registry format with an
 * `openDisk` (qcow2, VHD fixed or dynamic, VMDK hosted sparse), recognized in the registry's one
 * sniffing order. `ls`, `pack` and `diff` read what comes back as a raw disk (a partition table,
 * then each partition's file system).
 */
import type { RandomAccessSource } from '../io/source.js';
import { openDiskImage } from '../formats/registry.js';

export interface VmDisk {
  /** The registry id of the image format: `qcow2`, `vhd`, `vmdk` … */
  format: string;
  /** The guest disk; closing it closes the image file. */
  disk: RandomAccessSource;
  /** The image's header fields as `key: value` lines. */
  describe(): string;
}

/**
 * The disk inside `source` when it is a VM image, else undefined. Damaged images throw
 * (CORRUPT_IMAGE, OUT_OF_BOUNDS, TRUNCATED naming the file); the source is not closed then.
 */
export async function openVmDisk(source: RandomAccessSource): Promise<VmDisk | undefined> {
  return openDiskImage(source);
}

/**
 * For a file argument that is a VM disk image: opens its headers and tables and closes them
 * again, so a damaged image stops the command with one line (exit 2) before any work. Anything
 * else (a directory, another format, a missing file) is left to the command.
 */
export async function checkVmImageArgument(path: string): Promise<void> {
  const { openFileSource } = await import('../io/source.js');
  const { stat } = await import('node:fs/promises');
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return;
  const source = await openFileSource(path);
  try {
    const vm = await openVmDisk(source);
    // a small read through the tables: the partition table's sectors
    if (vm && vm.disk.size > 0) await vm.disk.read(0, Math.min(vm.disk.size, 64 * 1024));
  } finally {
    await source.close();
  }
}
