/**
 * `reprimage lock` and `reprimage build` as library functions. The build runs in stages:
 * recipe → lock → verify inputs (cache) → local repository → mmdebstrap → Tree → fix-ups →
 * policy (times clamped, excludes) → outputs + manifest. Every input is verified before anything
 * is installed, and nothing is written to the output directory before the tree is complete.
 */
import type { RawDiskCache } from './cloud-disk-output.js';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ReprimageError, fromSystemError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { throwIfAborted } from '../io/abort.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { applyPolicy } from '../tree/policy.js';
import { writeTar } from '../formats/tar/index.js';
import { archiveUrl } from './apt-index.js';
import { ContentCache } from './cache.js';
import { hashFile } from '../io/hash-file.js';
import { applyRootFixups } from './fixups-hook.js';
import { lockInputs, verifyLockedInputs } from './inputs.js';
import { layOutRepository } from './local-repo.js';
import { lockPathOf, lockSha256, parseLock, recipeInputsHash, serializeLock, type Lock } from './lock.js';
import { EMBEDDED_BUNDLE_DIR, EMBEDDED_MANIFEST, MANIFEST_VERSION, currentCodecs, embeddedManifestBytes, embeddedRecordOf, manifestOf, provenanceStatement, reprimageRecord, serializeManifest, type BuildManifest, type ManifestOutput, type ReproducibleManifest } from './manifest.js';
import { loadRecipe, type Recipe } from './recipe.js';
import { writeOverlayTar } from './overlay.js';
import { INPUTS_BUNDLE, writeInputsBundle } from './inputs-bundle.js';
import { buildRootTree, clockShiftFromEnvironment, hostPackageVersion } from './rootfs.js';
import { recipeSourceDateEpoch } from './source-date-epoch.js';
import { outputFormat, outputPath } from './schema.js';
import { stageTimer } from '../stage-timer.js';
import type { StageCallback } from '../progress.js';
import { treeTotals } from '../tree/read-progress.js';

export interface LockOptions {
  cacheDir: string;
  /** Stops the call (an ABORTED error) before the lock file is written. */
  signal?: AbortSignal;
}

/** Resolves and pins the recipe's inputs now; writes `<recipe>.lock` atomically. */
export async function lockRecipe(recipeFile: string, options: LockOptions): Promise<{ lockFile: string; lock: Lock; text: string }> {
  throwIfAborted(options.signal, recipeFile);
  const recipe = await loadRecipe(recipeFile);
  const cache = new ContentCache(options.cacheDir);
  return writeLock(recipe, cache, options.signal);
}

async function writeLock(recipe: Recipe, cache: ContentCache, signal: AbortSignal | undefined): Promise<{ lockFile: string; lock: Lock; text: string }> {
  const lock = await lockInputs(recipe, cache);
  const text = serializeLock(lock);
  const lockFile = lockPathOf(recipe.file);
  await writeAtomically(lockFile, async (sink) => sink.write(new TextEncoder().encode(text)), { signal });
  return { lockFile, lock, text };
}

export interface BuildOptions {
  outDir: string;
  cacheDir: string;
  /** Lock (again) when there is no lock file or it no longer matches the recipe. */
  updateLock?: boolean;
  /** Also write provenance.intoto.json. */
  provenance?: boolean;
  /** The build time (SOURCE_DATE_EPOCH), before the recipe's own `source_date_epoch`; default: the recipe's, then `environment`'s, then the recipe's Git commit time. */
  buildTime?: number;
  /**
   * The calling program's environment (the CLI passes its own; a library call reads none): its
   * SOURCE_DATE_EPOCH, the PATH mmdebstrap runs with, and libfaketime's variables under
   * `reprimage check`'s clock variation. Default: empty.
   */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Compression workers of the iso output; never changes the bytes. */
  workers?: number;
  /** A SquashFS block cache directory (off by default; `reprimage check` never passes one). */
  blockCache?: string;
  warn: (message: string) => void;
  /** mmdebstrap's output, line by line. */
  log?: (line: string) => void;
  /** Hears of each stage as it ends (lock, verify, prepare, mmdebstrap, fixups, write). */
  onStage?: StageCallback;
  /** Stops the build at the next stage or block written (an ABORTED error), leaving no output of this build. */
  signal?: AbortSignal;
}

export interface BuildResult {
  manifest: BuildManifest;
  files: string[];
}

export async function buildRecipe(recipeFile: string, options: BuildOptions): Promise<BuildResult> {
  const signal = options.signal;
  throwIfAborted(signal, recipeFile);
  const timer = stageTimer((name, ms) => options.onStage?.(name, ms, stageDetail(name)));
  const { timings } = timer;
  // between stages is where an aborted build stops (mmdebstrap and the writers stop sooner)
  const stage = (name: string) => {
    timer.stage(name);
    throwIfAborted(signal, recipeFile);
  };
  // what each stage made, for its progress line (set just before the stage ends)
  const details = new Map<string, string>();
  const stageDetail = (name: string) => details.get(name);
  const recipe = await loadRecipe(recipeFile);
  const epoch = recipeSourceDateEpoch(recipe, options.buildTime, options.environment?.SOURCE_DATE_EPOCH);
  const cache = new ContentCache(options.cacheDir);

  const lockFile = lockPathOf(recipe.file);
  let lockText = await readFile(lockFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw fromSystemError(e, lockFile);
  });
  let lock = lockText === undefined ? undefined : parseLock(lockText, lockFile);
  if (!lock || lock.recipe_inputs !== recipeInputsHash(recipe)) {
    if (!options.updateLock) {
      throw new ReprimageError('USAGE', lockFile, lock ? 'is out of date for the recipe (run reprimage lock, or build --update-lock)' : 'no lock file: run reprimage lock first, or build --update-lock');
    }
    ({ lock, text: lockText } = await writeLock(recipe, cache, signal));
    stage('lock');
  }
  const inputs = await verifyLockedInputs(recipe, lock, lockFile, cache);
  details.set('verify', `${inputs.packages.length} packages, ${inputs.sources.length} source${inputs.sources.length === 1 ? '' : 's'}`);
  stage('verify');

  const scratch = await makeTemporaryDirectory('reprimage-build-');
  const work = scratch.path;
  try {
    const repo = join(work, 'repo');
    await mkdir(repo);
    const sourcesLine = await layOutRepository(repo, inputs.packages.map((p) => ({ stanza: p.stanza, filename: p.locked.filename, debPath: p.debPath })), inputs.sources[0]?.date ?? '');
    const overlayTar = join(work, 'overlay.tar');
    await writeOverlayTar(recipe, epoch.value, overlayTar, options.warn);
    const hooks = recipe.hooks.map((h) => resolve(recipe.dir, h));
    stage('prepare');

    const root = await buildRootTree({
      suite: recipe.sources[0]!.suite,
      architecture: recipe.architecture,
      sourcesLine,
      packages: inputs.packages.map((p) => p.locked.name),
      buildTime: epoch.value,
      overlayTar,
      hooks,
      workDir: work,
      log: options.log,
      faketimeLibraries: clockShiftFromEnvironment(options.environment ?? {}),
      hostEnvironment: options.environment ?? {},
      signal,
    });
    try {
      if (options.onStage) {
        const { entries, bytes } = treeTotals(root.tree);
        details.set('mmdebstrap', `${entries} files, ${bytes} bytes`);
      }
      stage('mmdebstrap');
      const fixups = await applyRootFixups(root.tree, { buildTime: epoch.value, remove: recipe.exclude, empty: recipe.empty, warn: options.warn });
      // the fix-ups clamp times last; this only guards the rule should a fix-up ever be skipped
      applyPolicy(root.tree, { buildTime: epoch.value, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
      stage('fixups');

      // the first directory this build made, if any: a failed build takes away what it wrote there
      const created = await mkdir(options.outDir, { recursive: true }).catch((e) => {
        throw fromSystemError(e, options.outDir);
      });
      const written: string[] = [];
      try {
        const outputs: ManifestOutput[] = [];
        const files: string[] = [];
        // the recipe's own inputs, so that a rebuilder with only the published files can rebuild
        const bundlePath = join(options.outDir, INPUTS_BUNDLE);
        written.push(bundlePath);
        const inputsRecord = await writeInputsBundle(recipe, lockFile, epoch.value, bundlePath, options.warn);
        // everything the manifest records but the outputs: known before they are written, so a medium can carry it
        const record: Omit<ReproducibleManifest, 'outputs'> = {
          manifest_version: MANIFEST_VERSION,
          name: recipe.name,
          recipe: { file: basename(recipe.file), sha256: recipe.sha256 },
          lock: { file: basename(lockFile), sha256: lockSha256(lockText!) },
          source_date_epoch: epoch.value,
          reprimage: reprimageRecord(),
          codecs: currentCodecs(),
          tools: { mmdebstrap: hostPackageVersion('mmdebstrap'), apt: hostPackageVersion('apt'), dpkg: hostPackageVersion('dpkg') },
          sources: inputs.sources.map((s) => ({ uri: s.source.uri, suite: s.source.suite, in_release_sha256: s.inRelease.sha256, signers: s.signers })),
          packages: inputs.packages.map((p) => ({ name: p.locked.name, version: p.locked.version, architecture: p.locked.architecture, sha256: p.locked.sha256 })),
          fixups,
          inputs: inputsRecord,
        };
        const buildRecordFiles = async () => [
          { path: EMBEDDED_MANIFEST, bytes: embeddedManifestBytes(embeddedRecordOf(record)) },
          { path: `${EMBEDDED_BUNDLE_DIR}/${INPUTS_BUNDLE}`, bytes: await readFile(bundlePath) },
        ];
        // several disk outputs (one disk in several formats) share their raw images
        const rawImages: RawDiskCache | undefined = recipe.outputs.filter((o) => o.type === 'disk').length > 1 ? new Map() : undefined;
        const installerImages = new Map<string, NonNullable<ManifestOutput['image']>>();
        for (const output of recipe.outputs) {
          const path = outputPath(output);
          const target = join(options.outDir, path);
          written.push(target);
          if (output.type === 'iso') {
            // the live ISO (docs/live-iso.md); its stages are timed with the build's
            const { writeLiveIso } = await import('../image/live-iso.js');
            const mediumFiles = output.build_record ? await buildRecordFiles() : undefined;
            const live = await writeAtomically(target, (sink) =>
              writeLiveIso(root.tree, sink, { name: recipe.name, volumeId: output.volume_id, buildTime: epoch.value, seed: recipe.name, compressor: output.squashfs_compressor, kernelCmdline: output.kernel_cmdline, workers: options.workers, blockCache: options.blockCache, tempDir: work, subject: target, warn: options.warn, signal, mediumFiles }),
            );
            for (const [k, v] of Object.entries(live.timings)) timings[`iso_${k}`] = v;
          } else if (output.type === 'disk') {
            // the installed system on a bootable GPT disk (docs/cloud-disk.md)
            const { writeCloudDiskOutput } = await import('./cloud-disk-output.js');
            const disk = await writeCloudDiskOutput(root.tree, target, output, { name: recipe.name, seed: recipe.name, buildTime: epoch.value, workers: options.workers, tempDir: work, warn: options.warn, rawImages });
            for (const [k, v] of Object.entries(disk.timings)) timings[`disk_${k}`] = v;
          } else if (output.type === 'installer-iso') {
            // the installer of a pinned disk image (docs/installer.md); that image is an input
            const { writeInstallerOutput } = await import('./installer-output.js');
            const buildImageRecipe = async (file: string, outDir: string) => (await buildRecipe(file, { ...options, outDir, provenance: false, updateLock: false, onStage: undefined })).manifest;
            const installer = await writeInstallerOutput(root.tree, target, output, { name: recipe.name, recipeFile: recipe.file, buildTime: epoch.value, cache, tempDir: work, workers: options.workers, warn: options.warn, signal, buildImageRecipe });
            for (const [k, v] of Object.entries(installer.timings)) timings[`installer_${k}`] = v;
            const { image } = installer;
            installerImages.set(path, { sha256: image.sha256, size: image.size, compressed: { codec: image.codec, implementation: image.implementation, sha256: image.compressedSha256, size: image.compressedSize } });
          } else {
            await writeAtomically(target, (sink) => writeTar(root.tree, sink, { format: 'pax', buildTime: epoch.value, warn: options.warn }), { signal });
          }
          const { sha256, size } = await hashFile(target);
          const image = installerImages.get(path);
          outputs.push({ path, type: output.type, format: outputFormat(output), sha256, size, ...(image ? { image } : {}) });
          files.push(target);
        }
        files.push(bundlePath);
        details.set('write', outputs.map((o) => `${o.path} ${o.size} bytes`).join(', '));
        stage('write');

        // outputs before inputs, the order manifest.json has always had
        const { inputs: recordInputs, ...beforeOutputs } = record;
        const reproducible: ReproducibleManifest = { ...beforeOutputs, outputs, inputs: recordInputs };
        const manifest = manifestOf(reproducible, {
          timings_ms: timings,
          // the Node.js version does not shape any output byte (codecs are pinned packages), so it is not part of the reproducible record
          node: process.versions.node,
          downloads: { files: cache.stats.downloaded, bytes: cache.stats.downloadedBytes, from_cache: cache.stats.fromCache },
        });
        if (options.provenance) {
          const statement = provenanceStatement(
            reproducible,
            inputs.sources.map((s) => s.inRelease.url),
            inputs.packages.map((p) => archiveUrl(inputs.sources[p.locked.source]!.source.uri, p.locked.filename)),
          );
          const target = join(options.outDir, 'provenance.intoto.json');
          await writeAtomically(target, async (sink) => sink.write(new TextEncoder().encode(`${JSON.stringify(statement, null, 2)}\n`)));
          files.push(target);
        }
        // the manifest comes last: its presence says the build finished
        const manifestPath = join(options.outDir, 'manifest.json');
        await writeAtomically(manifestPath, async (sink) => sink.write(new TextEncoder().encode(serializeManifest(manifest))));
        files.push(manifestPath);
        return { manifest, files };
      } catch (e) {
        if (created !== undefined) await removeWritten(options.outDir, created, written);
        throw e;
      }
    } finally {
      await root.source.close();
    }
  } finally {
    await scratch.remove();
  }
}

/**
 * After a failed build into a directory it made: removes the files it wrote there (the inputs
 * bundle, outputs finished before the one that failed), then the directory and the parents it
 * made, as long as they are empty. A directory that was there before is left as it is.
 */
async function removeWritten(outDir: string, created: string, written: string[]): Promise<void> {
  for (const file of written) await rm(file, { force: true }).catch(() => undefined);
  for (let dir = resolve(outDir); ; dir = dirname(dir)) {
    if (!(await rmdir(dir).then(() => true, () => false))) return;
    if (dir === resolve(created) || dirname(dir) === dir) return;
  }
}
