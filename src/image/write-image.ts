/**
 * The library's way to write images: one call per image, the metadata policy applied first.
 *
 * The format writers (src/formats/X) take the build time (SOURCE_DATE_EPOCH) and store no time
 * later than it, but otherwise write a Tree as given. These calls also apply the rest of the
 * metadata policy the caller chooses to a copy of the Tree, as `reprimage pack` does, and derive
 * identifiers from a seed, as on the command line (docs/design.md).
 */
import { writeAtomically } from '../io/atomic-output.js';
import type { Sink } from '../io/sink.js';
import { ReprimageError } from '../errors.js';
import { applyPolicy, type MetadataPolicy } from '../tree/policy.js';
import { copyTree } from '../tree/copy.js';
import type { Tree } from '../tree/tree.js';
import type { WriteSettings } from '../formats/format.js';
import type { PackOptions } from './pack.js';
import type { DiskOptions, DiskReport } from './disk.js';

/** The parts of the metadata policy a caller may change; its time is always the call's `buildTime`. */
export type WritePolicy = Partial<Omit<MetadataPolicy, 'buildTime'>>;

export interface ImageWriteOptions {
  /**
   * The build time, in seconds since 1970 (SOURCE_DATE_EPOCH): file system and volume creation
   * times equal it, and file times later than it are clamped to it.
   */
  buildTime: number;
  /** Where identifiers (UUIDs, serials, GUIDs, hash seeds) come from; default `reprimage:<buildTime>`, as the CLI. */
  seed?: string;
  /**
   * The metadata policy applied to a copy of the Tree before writing (docs/metadata-policy.md).
   * Default: mtimes clamped to `buildTime`, owners and modes kept. `false` applies none of it
   * (the writers still store no time later than `buildTime`).
   */
  policy?: WritePolicy | false;
  /** Per-format settings (compressor, label, size, volume id …); all optional. */
  settings?: WriteSettings;
  /** Parallel workers; never changes the bytes. */
  workers?: number;
  /** Warnings (an entry a format cannot store and was told to skip, …); default: ignored. */
  warn?: (message: string) => void;
  /** Stops the write; a file output is then left as it was. */
  signal?: AbortSignal;
}

/**
 * Writes `tree` as `format` to `sink`. `format` is an output name of the format registry:
 * `tar`, `tar.gz`, `tar.xz`, `tar.zst`, `cpio` (and compressed), `squashfs`, `iso`, `fat`, `ext4`.
 * The caller's Tree is not changed. Throws a USAGE ReprimageError for a bad build time or an
 * unknown format, and what the format's writer throws for a Tree it cannot store.
 */
export async function writeImage(tree: Tree, format: string, sink: Sink, options: ImageWriteOptions): Promise<void> {
  const buildTime = checkedBuildTime(options.buildTime);
  const prepared = preparedTree(tree, buildTime, options.policy);
  const mbr = options.settings?.iso?.hybridMbr;
  if (mbr !== undefined) {
    // boot code given as bytes (pack's options take a file): straight to the ISO writer, never compressed
    const { chooseOutput } = await import('./output-formats.js');
    const handler = await chooseOutput('', format).format.load();
    if (!handler.write) throw new ReprimageError('USAGE', 'format', `${format} is read, not written`);
    const { seededIdentifiers } = await import('../tree/id-purposes.js');
    const ctx = { buildTime, ids: seededIdentifiers(options.seed ?? `reprimage:${buildTime}`), warn: options.warn ?? (() => undefined), workers: options.workers, signal: options.signal };
    const { abortableSink } = await import('../io/abort.js');
    await handler.write(prepared, options.signal ? abortableSink(sink, options.signal, format) : sink, ctx, options.settings ?? {});
    return;
  }
  const { packTree } = await import('./pack.js');
  await packTree(prepared, format, sink, packOptions(buildTime, options));
}

/**
 * `writeImage` to a file, atomically: the image appears at `path` whole, or not at all (a
 * temporary beside it is renamed into place; on failure or abort it is removed).
 */
export async function writeImageFile(tree: Tree, format: string, path: string, options: ImageWriteOptions): Promise<void> {
  await writeAtomically(path, (sink) => writeImage(tree, format, sink, options), { signal: options.signal });
}

export interface DiskImageOptions extends Omit<DiskOptions, 'seed' | 'buildTime'> {
  /** As for `writeImage`: creation times, and the time every partition's file times are clamped to. */
  buildTime: number;
  /** As for `writeImage`; default `reprimage:<buildTime>`. */
  seed?: string;
  /** As for `writeImage`, applied to a copy of every partition's Tree. */
  policy?: WritePolicy | false;
  signal?: AbortSignal;
}

/**
 * Writes a partitioned disk image (GPT, or MBR) to `path`, atomically, with the metadata policy
 * applied to every partition's Tree first (src/image/disk.ts lays the disk out).
 */
export async function writeDiskImage(path: string, options: DiskImageOptions): Promise<DiskReport> {
  const buildTime = checkedBuildTime(options.buildTime);
  const { buildTime: _time, policy, signal, ...rest } = options;
  const partitions = options.partitions.map((p) => ('tree' in p.content ? { ...p, content: { ...p.content, tree: preparedTree(p.content.tree, buildTime, policy) } } : p));
  const { writeDisk } = await import('./disk.js');
  return writeAtomically(path, (sink) => writeDisk(sink, { ...rest, partitions, buildTime, seed: options.seed ?? `reprimage:${buildTime}`, subject: options.subject ?? path, signal }), { signal });
}

function checkedBuildTime(t: number): number {
  if (!Number.isSafeInteger(t) || t < 0) throw new ReprimageError('USAGE', 'buildTime', `must be a non-negative whole number of seconds since 1970, got ${t}`);
  return t;
}

/** A copy of `tree` with the policy applied, or `tree` itself when the policy is `false`. */
function preparedTree(tree: Tree, buildTime: number, policy: WritePolicy | false | undefined): Tree {
  if (policy === false) return tree;
  const copy = copyTree(tree);
  applyPolicy(copy, { clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [], ...policy, buildTime });
  return copy;
}

/** The options `packTree` takes, from the library's: the CLI's defaults where the caller says nothing. */
function packOptions(buildTime: number, o: ImageWriteOptions): PackOptions {
  const s = o.settings ?? {};
  return {
    tarFormat: s.tar?.flavour ?? 'gnu',
    gzipLevel: 9,
    buildTime,
    seed: o.seed ?? `reprimage:${buildTime}`,
    workers: o.workers,
    squashfs: { compressor: s.squashfs?.compressor ?? 'gzip', blockSize: s.squashfs?.blockSize ?? 131072, noFragments: s.squashfs?.noFragments ?? false, noDuplicates: s.squashfs?.noDuplicates ?? false, deflate: s.squashfs?.deflate },
    iso: { ...s.iso, volumeId: s.iso?.volumeId ?? 'REPRIMAGE', gpt: s.iso?.gpt ?? false, hybridMbr: undefined },
    fat: { ...s.fat, skipUnsupported: s.fat?.skipUnsupported ?? false },
    ext4: s.ext4,
    warn: o.warn ?? (() => undefined),
    signal: o.signal,
  };
}
