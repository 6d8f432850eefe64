/**
 * The recipe output `type: installer-iso` (docs/installer.md). The disk image it carries is an
 * input pinned by SHA-256, like a package: it is taken from the content cache when it is there
 * (re-hashed), else built from the recipe the output names, whose image must then hash to the
 * pin; the built image goes into the cache. The ISO itself is written atomically.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ReprimageError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { hashFile } from '../io/hash-file.js';
import { writeInstallerIso, type InstallerIsoReport } from '../image/installer-iso.js';
import type { Tree } from '../tree/tree.js';
import type { ContentCache } from './cache.js';
import type { BuildManifest } from './manifest.js';
import type { RecipeOutput } from './schema.js';

export interface InstallerOutputContext {
  name: string;
  recipeFile: string;
  buildTime: number;
  cache: ContentCache;
  tempDir?: string;
  /** Parallel workers of the writers; never changes the bytes. */
  workers?: number;
  warn?: (message: string) => void;
  /** Stops writing the ISO at the next block (an ABORTED error); nothing is left at the target. */
  signal?: AbortSignal;
  /** Builds another recipe into a directory (reprimage build), for an image not in the cache. */
  buildImageRecipe: (recipeFile: string, outDir: string) => Promise<BuildManifest>;
}

/** The raw image the output pins: from the cache, or built and then cached. */
export async function installerImage(output: RecipeOutput, c: InstallerOutputContext): Promise<{ path: string; built: boolean }> {
  const pin = output.image!;
  const subject = `${c.recipeFile}: image`;
  const cached = c.cache.pathOf(pin.sha256);
  if ((await hashFile(cached).catch(() => undefined))?.sha256 === pin.sha256) return { path: cached, built: false };

  const imageRecipe = resolve(dirname(c.recipeFile), pin.recipe);
  await readFile(imageRecipe).catch((e: Error) => {
    throw new ReprimageError('NOT_FOUND', subject, `the image ${pin.sha256} is not in the cache and its recipe ${pin.recipe} cannot be read (${e.message})`);
  });
  // built inside the cache directory, so the image moves into the cache by a rename
  const outDir = join(c.cache.dir, 'tmp', `image-build-${process.pid}-${pin.sha256.slice(0, 12)}`);
  await mkdir(outDir, { recursive: true });
  try {
    const manifest = await c.buildImageRecipe(imageRecipe, outDir);
    const disk = manifest.reproducible.outputs.find((o) => (pin.output === undefined ? o.type === 'disk' && o.format.startsWith('raw ') : o.path === pin.output));
    if (!disk || disk.type !== 'disk' || !disk.format.startsWith('raw ')) {
      throw new ReprimageError('USAGE', subject, `${pin.recipe} has no raw disk output${pin.output === undefined ? '' : ` named ${pin.output}`}`);
    }
    if (disk.sha256 !== pin.sha256) {
      throw new ReprimageError('CORRUPT_IMAGE', subject, `${pin.recipe} built ${disk.path} with SHA-256 ${disk.sha256}, but the recipe pins ${pin.sha256}`);
    }
    return { path: await c.cache.adopt(join(outDir, disk.path), disk.sha256), built: true };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Writes the installer ISO to `target`. */
export async function writeInstallerOutput(tree: Tree, target: string, output: RecipeOutput, c: InstallerOutputContext): Promise<InstallerIsoReport & { imageBuilt: boolean }> {
  const image = await installerImage(output, c);
  const report = await writeAtomically(target, (sink) =>
    writeInstallerIso(tree, image.path, sink, {
      name: c.name, imageName: imageNameOf(output), volumeId: output.volume_id, buildTime: c.buildTime, seed: c.name,
      kernelCmdline: output.kernel_cmdline, tempDir: c.tempDir, workers: c.workers, subject: target, warn: c.warn, signal: c.signal,
    }),
    { signal: c.signal },
  );
  return { ...report, imageBuilt: image.built };
}

/** What the installer calls the image: the directory name of its recipe (cloud-minimal), from the recipe's text alone. */
function imageNameOf(output: RecipeOutput): string {
  const dir = basename(dirname(output.image!.recipe));
  return dir === '.' || dir === '..' || dir === '' ? (output.image!.output ?? 'disk.img').replace(/\.img$/, '') : dir;
}
