/**
 * The recipe output `type: disk`: maps the recipe's keys onto writeCloudDisk and writes the
 * image atomically (nothing is left at the target when it fails). Errors about the layout name
 * the output's key.
 */
import { ReprimageError } from '../errors.js';
import { join } from 'node:path';
import { writeAtomically } from '../io/atomic-output.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { convertDisk } from '../image/convert-disk.js';
import type { RecipeOutput } from './schema.js';
import type { Tree } from '../tree/tree.js';
import { writeCloudDisk, type CloudDiskReport } from '../image/cloud-disk.js';

export const DEFAULT_DISK_SIZE = 2 * 1024 ** 3;

export interface DiskOutputContext {
  name: string;
  seed: string;
  buildTime: number;
  workers?: number;
  tempDir?: string;
  warn?: (message: string) => void;
}

export async function writeCloudDiskOutput(tree: Tree, target: string, output: RecipeOutput, c: DiskOutputContext): Promise<CloudDiskReport> {
  const format = output.format ?? 'raw';
  if (format === 'raw') return writeRaw(tree, target, target, output, c);
  // the raw image first (sparse, in the scratch directory), then the format's writer from it
  const scratch = await makeTemporaryDirectory('reprimage-disk-raw-', c.tempDir);
  try {
    const raw = join(scratch.path, 'disk.raw');
    const report = await writeRaw(tree, raw, target, output, c);
    const started = Date.now();
    await convertDisk(raw, format, { output: target, seed: c.seed, buildTime: c.buildTime, compress: output.compress, name: c.name, workers: c.workers });
    report.timings.convert = Date.now() - started;
    return report;
  } finally {
    await scratch.remove();
  }
}

async function writeRaw(tree: Tree, path: string, target: string, output: RecipeOutput, c: DiskOutputContext): Promise<CloudDiskReport> {
  const boot = output.boot ?? ['bios', 'uefi'];
  try {
    return await writeAtomically(path, (sink) =>
      writeCloudDisk(tree, sink, {
        name: c.name, seed: c.seed, buildTime: c.buildTime,
        size: output.size ?? DEFAULT_DISK_SIZE, espSize: output.esp_size, biosBootSize: output.bios_boot_size,
        bios: boot.includes('bios'), uefi: boot.includes('uefi'), partitions: output.partitions,
        kernelCmdline: output.kernel_cmdline, growRoot: output.grow_root,
        workers: c.workers, tempDir: c.tempDir, subject: target, warn: c.warn,
      }),
    );
  } catch (e) {
    // a layout that cannot hold the tree: say which output it is
    if (e instanceof ReprimageError && e.code === 'USAGE' && !e.subject.startsWith(target)) throw new ReprimageError('USAGE', target, e.message, { cause: e });
    throw e;
  }
}
