/**
 * The recipe output `type: disk`: maps the recipe's keys onto writeCloudDisk and writes the
 * image atomically (nothing is left at the target when it fails). Errors about the layout name
 * the output's key.
 *
 * A recipe may list the same disk in several formats (docs/cloud-disk.md): outputs whose layout
 * keys are equal share one raw image, made once in the build's scratch directory and converted
 * for each, so a raw + qcow2 + VHD + VMDK recipe assembles the disk once.
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

/** Raw images already made in this build, by layout (see `layoutKey`). */
export type RawDiskCache = Map<string, { path: string; report: CloudDiskReport }>;

export interface DiskOutputContext {
  name: string;
  seed: string;
  buildTime: number;
  workers?: number;
  tempDir?: string;
  warn?: (message: string) => void;
  /** Given when the recipe has several disk outputs: their raw images are shared (kept in `tempDir`). */
  rawImages?: RawDiskCache;
}

export async function writeCloudDiskOutput(tree: Tree, target: string, output: RecipeOutput, c: DiskOutputContext): Promise<CloudDiskReport> {
  const format = output.format ?? 'raw';
  if (c.rawImages) return writeShared(tree, target, output, c, c.rawImages);
  if (format === 'raw') return writeRaw(tree, target, target, output, c);
  // the raw image first (sparse, in the scratch directory), then the format's writer from it
  const scratch = await makeTemporaryDirectory('reprimage-disk-raw-', c.tempDir);
  try {
    const raw = join(scratch.path, 'disk.raw');
    const report = await writeRaw(tree, raw, target, output, c);
    report.timings[`convert_${format}`] = await convert(raw, target, output, c);
    return report;
  } finally {
    await scratch.remove();
  }
}

/** Everything that shapes the raw image's bytes; outputs differing only in path, format or compress share it. */
export function layoutKey(output: RecipeOutput): string {
  const { size, esp_size, bios_boot_size, boot, partitions, grow_root, kernel_cmdline } = output;
  return JSON.stringify([size ?? DEFAULT_DISK_SIZE, esp_size, bios_boot_size, boot ?? ['bios', 'uefi'], partitions ?? [], grow_root, kernel_cmdline]);
}

async function writeShared(tree: Tree, target: string, output: RecipeOutput, c: DiskOutputContext, cache: RawDiskCache): Promise<CloudDiskReport> {
  const key = layoutKey(output);
  let made = cache.get(key);
  const first = made === undefined;
  if (!made) {
    if (!c.tempDir) throw new ReprimageError('USAGE', target, 'shared disk images need a scratch directory');
    const path = join(c.tempDir, `disk-${cache.size}.raw`);
    made = { path, report: await writeRaw(tree, path, target, output, c) };
    cache.set(key, made);
  }
  const format = output.format ?? 'raw';
  const elapsed = await convert(made.path, target, output, c);
  // the first output reports the assembly's stages; the others only their conversion
  const timings = first ? { ...made.report.timings } : {};
  timings[`convert_${format}`] = elapsed;
  return { ...made.report, timings };
}

/** Writes `raw` as the output's format at `target`; returns the milliseconds it took. */
async function convert(raw: string, target: string, output: RecipeOutput, c: DiskOutputContext): Promise<number> {
  const started = Date.now();
  await convertDisk(raw, output.format ?? 'raw', { output: target, seed: c.seed, buildTime: c.buildTime, compress: output.compress, name: c.name, workers: c.workers });
  return Date.now() - started;
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
