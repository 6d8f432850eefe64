/**
 * Incremental upgrade kits (docs/iuk.md). A kit is an uncompressed tar archive holding, in this
 * order, three members, as Tails' IUKs do:
 *
 *   FORMAT        the kit format version, "1\n"
 *   control.yml   what to do besides extracting (control.ts): files to delete, whiteout style, …
 *   system.tar    a tar archive of the files to put on the boot medium: the changed boot files
 *                 (kernel, initramfs, boot loader configuration), live-boot's module list, and
 *                 the SquashFS delta that is stacked over the old root file system.
 *
 * Every byte depends only on the two builds and the options: names sorted, owners kept from the
 * new build (the kit's own members are root-owned), times clamped to SOURCE_DATE_EPOCH.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { throwIfAborted } from '../io/abort.js';
import { scratchSubject, writeAtomically } from '../io/atomic-output.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { openFileSource, type RandomAccessSource } from '../io/source.js';
import { bytesContent, fileContent, readContent } from '../tree/content.js';
import { baseName } from '../tree/names.js';
import { applyPolicy } from '../tree/policy.js';
import { Tree, newDir, type FileNode, type Node } from '../tree/tree.js';
import { loadTar, sniffTar, writeTar } from '../formats/tar/index.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';
import { IUK_FORMAT_VERSION, encodeControl, parseControl, type KitControl } from './control.js';
import { computeDelta, type DeltaStats } from './delta.js';
import { DEFAULT_ROOT_SQUASHFS, openBuild, sourceOf, type OpenedBuild } from './open-build.js';
import { deleteThenOverlay, stackLayer } from './overlay.js';
import type { WhiteoutStyle } from './whiteouts.js';
import type { ProgressCallback } from '../progress.js';
import { countReads } from '../tree/read-progress.js';

export interface MakeKitOptions {
  /** The delta is `live/<name>.squashfs` in system.tar. */
  name: string;
  whiteouts: WhiteoutStyle;
  compressor: SquashfsCompressorName;
  workers?: number;
  /** The build time (SOURCE_DATE_EPOCH): times are clamped to it; default: the newest mtime of the new build. */
  buildTime?: number;
  /** Where the root SquashFS sits in an ISO build. */
  squashfsPath?: string;
  warn: (message: string) => void;
  /** Hears how much of the delta's contents the SquashFS writer has read. */
  onProgress?: ProgressCallback;
  /** Stops the work: the call rejects with the signal's reason and leaves no kit and no scratch file. */
  signal?: AbortSignal;
}

export interface KitReport {
  kit: string;
  layout: 'iso' | 'rootfs';
  buildTime: number;
  root: Omit<DeltaStats, 'paths'>;
  system: { updated: number; deleted: number } | undefined;
  deltaBytes: number;
  kitBytes: number;
}

const MODULES_FILE = 'live/filesystem.module';
const FORMAT_TEXT = `${IUK_FORMAT_VERSION}\n`;
/** FORMAT and control.yml are read whole; anything larger is not a kit of ours. */
const SMALL_MEMBER_LIMIT = 16 << 20;

export async function makeKit(oldPath: string, newPath: string, output: string, options: MakeKitOptions): Promise<KitReport> {
  throwIfAborted(options.signal, output);
  if (!/^[A-Za-z0-9._+-]+$/.test(options.name) || options.name.startsWith('.')) {
    throw new ReprimageError('USAGE', '--name', `a plain file name (letters, digits, . _ + -) is needed, got ${JSON.stringify(options.name)}`);
  }
  const squashfsPath = options.squashfsPath ?? DEFAULT_ROOT_SQUASHFS;
  const scratch = await makeTemporaryDirectory('reprimage-iuk-');
  const work = scratch.path;
  const builds: OpenedBuild[] = [];
  try {
    const oldBuild = await openBuild(oldPath, { squashfsPath, warn: options.warn });
    builds.push(oldBuild);
    const newBuild = await openBuild(newPath, { squashfsPath, warn: options.warn });
    builds.push(newBuild);
    if (oldBuild.layout !== newBuild.layout) {
      throw new ReprimageError('USAGE', newPath, `is ${describeLayout(newBuild)} but ${oldPath} is ${describeLayout(oldBuild)}`);
    }
    const epoch = kitEpoch(newBuild, options);
    const time = { sec: epoch, nsec: 0 };
    const clamp = (tree: Tree) => applyPolicy(tree, { buildTime: epoch, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });

    // the root file system: a layer with whiteouts, written as SquashFS
    const rootDelta = await computeDelta(oldBuild.root, newBuild.root, { kind: 'layer', whiteouts: options.whiteouts, time });
    clamp(rootDelta.tree);
    if (options.onProgress) countReads(rootDelta.tree, options.onProgress);
    const deltaFile = join(work, 'delta.squashfs');
    const { writeSquashfs } = await import('../formats/squashfs/index.js');
    await writeAtomically(
      deltaFile,
      (sink) => writeSquashfs(rootDelta.tree, sink, { compressor: options.compressor, workers: options.workers, buildTime: epoch, warn: options.warn }),
      { subject: scratchSubject(output, deltaFile), signal: options.signal },
    );
    const deltaBytes = (await stat(deltaFile)).size;

    // the medium's files: plain updates plus deletions
    const deltaPath = `live/${options.name}.squashfs`;
    let system: Tree;
    let deletions: string[] = [];
    let systemCounts: KitReport['system'];
    if (oldBuild.system && newBuild.system) {
      oldBuild.system.remove(squashfsPath);
      newBuild.system.remove(squashfsPath);
      const files = await computeDelta(oldBuild.system, newBuild.system, { kind: 'files' });
      system = files.tree;
      deletions = files.deletions;
      const modules = await modulesList(oldBuild.system, squashfsPath, `${options.name}.squashfs`);
      addParents(system, MODULES_FILE, newBuild.system, time);
      addParents(system, deltaPath, newBuild.system, time);
      system.set(MODULES_FILE, plainFile(bytesContent(Buffer.from(modules, 'utf8'), MODULES_FILE), epoch), { mtime: time });
      systemCounts = { updated: files.stats.added + files.stats.changed + files.stats.replaced, deleted: deletions.length };
    } else {
      system = new Tree(newDir({ mtime: time }));
    }
    system.set(deltaPath, plainFile(fileContent(deltaFile, deltaBytes), epoch), { mtime: time });
    clamp(system);
    const systemTar = join(work, 'system.tar');
    await writeAtomically(systemTar, (sink) => writeTar(system, sink, { format: 'gnu', namePrefix: './', buildTime: epoch, warn: options.warn }), { subject: scratchSubject(output, systemTar), signal: options.signal });

    const control: KitControl = {
      format: IUK_FORMAT_VERSION,
      layout: oldBuild.layout,
      whiteouts: options.whiteouts,
      rootSquashfs: oldBuild.layout === 'iso' ? squashfsPath : '',
      squashfsDelta: deltaPath,
      modulesFile: oldBuild.layout === 'iso' ? MODULES_FILE : '',
      systemTarSha256: await sha256File(systemTar),
      deleteFiles: deletions,
    };
    const kit = new Tree(newDir({ mtime: time }));
    kit.set('FORMAT', plainFile(bytesContent(Buffer.from(FORMAT_TEXT), 'FORMAT'), epoch));
    kit.set('control.yml', plainFile(bytesContent(Buffer.from(encodeControl(control), 'utf8'), 'control.yml'), epoch));
    kit.set('system.tar', plainFile(fileContent(systemTar, (await stat(systemTar)).size), epoch));
    await writeAtomically(output, (sink) => writeTar(kit, sink, { format: 'gnu', namePrefix: '', buildTime: epoch }), { signal: options.signal });
    const { stats } = rootDelta;
    return {
      kit: output,
      layout: oldBuild.layout,
      buildTime: epoch,
      root: { added: stats.added, changed: stats.changed, removed: stats.removed, replaced: stats.replaced },
      system: systemCounts,
      deltaBytes,
      kitBytes: (await stat(output)).size,
    };
  } finally {
    for (const b of builds.reverse()) await b.close();
    await scratch.remove();
  }
}

/**
 * Puts the directories above `path` into the update, with the metadata they have in the new
 * medium (extracting system.tar sets them), so that adding the kit's own files to a directory
 * the update did not otherwise touch leaves that directory as the new build has it.
 */
function addParents(update: Tree, path: string, newMedium: Tree, time: { sec: number; nsec: number }): void {
  const parts = path.split('/').slice(0, -1);
  let walked = '';
  for (const part of parts) {
    walked = walked === '' ? part : `${walked}/${part}`;
    if (update.get(walked) !== undefined) continue;
    const model = newMedium.get(walked);
    const dir = model?.kind === 'dir' ? { ...model, mtime: { ...model.mtime }, xattrs: new Map(model.xattrs), children: new Map() } : newDir({ mtime: time });
    update.set(walked, dir);
  }
}

function describeLayout(b: OpenedBuild): string {
  return b.layout === 'iso' ? 'a live ISO image' : 'a root file system (not an ISO image)';
}

function plainFile(content: FileNode['content'], epoch: number): Node {
  return { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: epoch, nsec: 0 }, xattrs: new Map(), content };
}

/** The option, else SOURCE_DATE_EPOCH, else (with a warning) the newest mtime in the new build. */
function kitEpoch(build: OpenedBuild, options: MakeKitOptions): number {
  if (options.buildTime !== undefined) {
    if (!Number.isSafeInteger(options.buildTime) || options.buildTime < 0) throw new ReprimageError('USAGE', 'buildTime', `must be a non-negative whole number of seconds since 1970, got ${options.buildTime}`);
    return options.buildTime;
  }
  let newest = 0;
  for (const tree of [build.root, build.system]) {
    if (tree) for (const { node } of tree.walk()) newest = Math.max(newest, node.mtime.sec);
  }
  options.warn(`SOURCE_DATE_EPOCH is not set; using the newest mtime in ${build.path} (${newest})`);
  return newest;
}

/**
 * live-boot's module list after the upgrade: the old list (or the old root image alone), with
 * the delta appended; live-boot stacks the images in that order, the last one on top.
 */
async function modulesList(oldSystem: Tree, rootSquashfs: string, delta: string): Promise<string> {
  const existing = oldSystem.get(MODULES_FILE);
  let lines = [baseName(rootSquashfs)];
  if (existing?.kind === 'file' && existing.content.size <= SMALL_MEMBER_LIMIT) {
    lines = Buffer.from(await readContent(existing.content)).toString('utf8').split('\n').filter((l) => l.trim() !== '' && l.trim() !== delta);
  }
  return `${[...lines, delta].join('\n')}\n`;
}

export interface OpenedKit {
  control: KitControl;
  /** The files of system.tar (the delta among them). */
  system: Tree;
  /** The SquashFS delta, read. */
  delta: Tree;
  close(): Promise<void>;
}

export async function openKit(path: string, options: { warn: (m: string) => void }): Promise<OpenedKit> {
  const sources: RandomAccessSource[] = [];
  const close = async () => {
    for (const s of sources.reverse()) await s.close();
  };
  try {
    const source = await openFileSource(path);
    sources.push(source);
    const head = await source.read(0, Math.min(source.size, 512));
    if (!sniffTar(head)) throw new ReprimageError('CORRUPT_IMAGE', path, 'not an upgrade kit (not a tar archive)');
    const kit = await loadTar(source, { warn: options.warn });
    const format = await smallMember(kit, 'FORMAT', path);
    if (format.trim() !== String(IUK_FORMAT_VERSION)) {
      throw new ReprimageError('UNSUPPORTED', `${path} ▸ FORMAT`, `kit format ${JSON.stringify(format.trim().slice(0, 20))}; this reprimage reads format ${IUK_FORMAT_VERSION}`);
    }
    const control = parseControl(await smallMember(kit, 'control.yml', path), `${path} ▸ control.yml`);
    const systemNode = member(kit, 'system.tar', path);
    const systemSource = await sourceOf(systemNode.content, `${path} ▸ system.tar`);
    sources.push(systemSource);
    const digest = await sha256Source(systemSource);
    if (digest !== control.systemTarSha256) {
      throw new ReprimageError('CORRUPT_IMAGE', `${path} ▸ system.tar`, `SHA-256 ${digest} does not match ${control.systemTarSha256} in control.yml: the kit is damaged`);
    }
    if (!sniffTar(await systemSource.read(0, Math.min(systemSource.size, 512)))) throw new ReprimageError('CORRUPT_IMAGE', `${path} ▸ system.tar`, 'not a tar archive');
    const system = await loadTar(systemSource, { warn: options.warn });
    const deltaNode = member(system, control.squashfsDelta, `${path} ▸ system.tar`);
    const deltaSource = await sourceOf(deltaNode.content, `${path} ▸ ${control.squashfsDelta}`);
    sources.push(deltaSource);
    const { openSquashfs, sniffSquashfs } = await import('../formats/squashfs/index.js');
    if (!sniffSquashfs(await deltaSource.read(0, Math.min(deltaSource.size, 96)))) throw new ReprimageError('CORRUPT_IMAGE', deltaSource.name, 'not a SquashFS image');
    const delta = await (await openSquashfs(deltaSource)).tree();
    return { control, system, delta, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function sha256File(path: string): Promise<string> {
  const source = await openFileSource(path);
  try {
    return await sha256Source(source);
  } finally {
    await source.close();
  }
}

async function sha256Source(source: RandomAccessSource): Promise<string> {
  const hash = createHash('sha256');
  const step = 1 << 20;
  for (let at = 0; at < source.size; at += step) hash.update(await source.read(at, Math.min(step, source.size - at)));
  return hash.digest('hex');
}

function member(tree: Tree, name: string, subject: string): FileNode {
  const node = tree.get(name);
  if (node === undefined) throw new ReprimageError('CORRUPT_IMAGE', subject, `no ${name}: not an upgrade kit`);
  if (node.kind !== 'file') throw new ReprimageError('CORRUPT_IMAGE', subject, `${name} is a ${node.kind}, not a file`);
  return node;
}

async function smallMember(tree: Tree, name: string, subject: string): Promise<string> {
  const node = member(tree, name, subject);
  if (node.content.size > SMALL_MEMBER_LIMIT) throw new ReprimageError('OVERFLOW', `${subject} ▸ ${name}`, `${node.content.size} bytes; a kit's ${name} is small`);
  return Buffer.from(await readContent(node.content)).toString('utf8');
}

export interface AppliedKit {
  /** The old root file system with the delta stacked on it. */
  root: Tree;
  /** The old medium's files after the deletions and system.tar (iso layout only). */
  system?: Tree;
}

/** Applies `kit` to `old` in memory (the old build's trees are changed in place). */
export function applyKit(old: OpenedBuild, kit: OpenedKit): AppliedKit {
  stackLayer(old.root, kit.delta, kit.control.whiteouts);
  if (kit.control.layout === 'rootfs' || !old.system) {
    if (kit.control.layout === 'iso') throw new ReprimageError('USAGE', old.path, 'the kit upgrades a live ISO image, and this is a root file system');
    return { root: old.root };
  }
  deleteThenOverlay(old.system, kit.control.deleteFiles, kit.system);
  return { root: old.root, system: old.system };
}

/** The paths of a medium that the kit mechanism owns and the comparison of media leaves out. */
export function kitManagedPaths(control: KitControl): string[] {
  return [control.rootSquashfs, control.squashfsDelta, control.modulesFile].filter((p) => p !== '');
}
