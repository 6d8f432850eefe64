/**
 * `reprimage rebuild`: verify a published image by building it again from what its manifest
 * records, and comparing bytes. The stages: locate and check the manifest → fetch the image →
 * check that this machine may rebuild it (versions) → fetch and check the recipe's inputs →
 * `reprimage build` with the recorded SOURCE_DATE_EPOCH into WORK/rebuilt → compare; on a
 * difference, the diff engine's report (text and JSON). Every file lands in the work directory:
 * published/ (downloads), inputs/ (the unpacked bundle), rebuilt/ (the build), diff.txt,
 * diff.json, rebuild.json and rebuild.intoto.json.
 *
 * A second verification of the same release reuses WORK/rebuilt when its manifest records the
 * same inputs, or compares with an image rebuilt elsewhere (`rebuilt`), without building again.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { hashFile } from '../io/hash-file.js';
import { localCopy } from './fetch.js';
import { locateManifest, pickOutput } from './locate.js';
import { parsePublishedManifest, readPublishedManifest, type PublishedManifest } from './published-manifest.js';
import { readEmbeddedRecord } from './embedded.js';
import { EMBEDDED_MANIFEST, type ManifestOutput } from '../recipe/manifest.js';
import { INPUTS_BUNDLE } from '../recipe/inputs-bundle.js';
import { checkCompatibility, toolsHere } from './compatibility.js';
import { prepareInputs } from './inputs.js';
import { beside, fileNameOf } from './locations.js';
import { compareImages } from './compare.js';
import { rebuildStatement } from './statement.js';
import { REBUILD_REPORT_VERSION, type RebuildReport } from './report.js';
import { CannotRebuild, verdictOf } from './verdict.js';

export interface RebuildOptions {
  /** The work directory (-o): downloads, the rebuild, the reports. */
  workDir: string;
  /** The manifest's location when it is not beside the image. */
  manifest?: string;
  /** An image already rebuilt (elsewhere, or earlier): compare with it instead of building. */
  rebuilt?: string;
  /** A directory with the recipe and its inputs, instead of the bundle the manifest names. */
  recipeDir?: string;
  /** Where the inputs bundle is, when it is not beside the manifest. */
  inputs?: string;
  cacheDir: string;
  /** Accept host tools (mmdebstrap, apt, dpkg) of other versions than the recorded ones. */
  allowToolVersions?: boolean;
  workers?: number;
  /** The calling program's environment, handed to the build as `reprimage build` hands it (its PATH finds mmdebstrap). */
  environment?: Readonly<Record<string, string | undefined>>;
  warn: (message: string) => void;
  log?: (line: string) => void;
  /** Stops the downloads' successors, the build and the comparison (an ABORTED error). */
  signal?: AbortSignal;
}

export async function rebuildPublished(published: string, options: RebuildOptions): Promise<RebuildReport> {
  const started = performance.now();
  const work = options.workDir;
  const downloads = join(work, 'published');
  await mkdir(downloads, { recursive: true });
  // reports of an earlier run in this directory must not pass for this run's
  for (const stale of ['diff.txt', 'diff.json']) await rm(join(work, stale), { force: true });

  // before the manifest is known and checked, a problem is bad input (exit 2, no verdict)
  const found = await findManifest(published, options, downloads);
  const { m, output, imageLocation, imagePath, publishedDigest, bundle } = found;
  const listed = publishedDigest.sha256 === output.sha256 && publishedDigest.size === output.size;

  const here = toolsHere(Object.keys(m.tools));
  const report: RebuildReport = {
    report_version: REBUILD_REPORT_VERSION,
    verdict: 'cannot rebuild',
    image: output.path,
    published: { uri: imageLocation, ...publishedDigest, listed },
    manifest: { uri: m.location, sha256: m.fileSha256, reproducible_sha256: m.reproducibleSha256 },
    inputs: {
      recipe: m.recipe,
      lock: m.lock,
      ...(m.inputs ? { bundle: { uri: bundle ?? beside(m.location, m.inputs.bundle.path), sha256: m.inputs.bundle.sha256 } } : {}),
      source_date_epoch: m.sourceDateEpoch,
      packages: m.packages,
    },
    tools: { reprimage: here.reprimage, host: here.tools },
    files: {},
    notes: listed ? [] : [`the published ${output.path} is not the image the manifest lists (sha256 ${publishedDigest.sha256}, ${publishedDigest.size} bytes; listed ${output.sha256}, ${output.size} bytes)`],
    seconds: { rebuild: 0, compare: 0, total: 0 },
  };

  const t0 = performance.now();
  try {
    const rebuilt = await rebuiltImage(m, output.path, { ...options, inputs: bundle }, here, report.notes);
    report.seconds.rebuild = seconds(t0);
    const rebuiltDigest = await hashFile(rebuilt.path);
    report.rebuilt = { path: rebuilt.path, ...rebuiltDigest, reused: rebuilt.reused };
    report.verdict = verdictOf(publishedDigest, rebuiltDigest);
  } catch (e) {
    if (!(e instanceof CannotRebuild)) throw e;
    report.reason = e.message;
    report.seconds.rebuild = seconds(t0);
  }

  if (report.verdict === 'differs') {
    const t1 = performance.now();
    const compared = await compareImages(imagePath, report.rebuilt!.path, output.path, work, options.warn, options.signal);
    report.differences = compared.differences;
    Object.assign(report.files, compared.files);
    report.seconds.compare = seconds(t1);
  }
  report.files.report = join(work, 'rebuild.json');
  report.files.statement = join(work, 'rebuild.intoto.json');
  report.seconds.total = seconds(started);
  await writeText(report.files.statement, `${JSON.stringify(rebuildStatement(report), null, 2)}\n`);
  await writeText(report.files.report, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

interface Found {
  m: PublishedManifest;
  output: ManifestOutput;
  imageLocation: string;
  imagePath: string;
  publishedDigest: { sha256: string; size: number };
  /** Where the inputs bundle is, when not beside the manifest. */
  bundle?: string;
}

/** The manifest (beside the image, given, or inside the image) and the published image, fetched. */
async function findManifest(published: string, options: RebuildOptions, downloads: string): Promise<Found> {
  const located = await locateManifest(published, options.manifest);
  if ('inside' in located) {
    const imagePath = await localCopy(located.image, downloads);
    const record = await readEmbeddedRecord(imagePath, downloads, options.warn);
    if (record === undefined) {
      throw new ReprimageError('NOT_FOUND', published, `no build manifest beside it (manifest.json) or inside it (${EMBEDDED_MANIFEST}): give it with --manifest`);
    }
    const m = parsePublishedManifest(record.manifest, `${located.image} ▸ ${EMBEDDED_MANIFEST}`, true);
    const publishedDigest = await hashFile(imagePath);
    // the image carries its record, so it is the output the record is about
    const output: ManifestOutput = { path: fileNameOf(located.image), type: 'iso', format: 'iso9660 (live, hybrid)', ...publishedDigest };
    return { m, output, imageLocation: located.image, imagePath, publishedDigest, bundle: options.inputs ?? record.bundle ?? beside(located.image, INPUTS_BUNDLE) };
  }
  const manifestPath = await localCopy(located.manifest, downloads);
  const m = await readPublishedManifest(manifestPath, located.manifest);
  const output = pickOutput(m.outputs, located.image, located.manifest);
  const imageLocation = located.image ?? beside(located.manifest, output.path);
  const imagePath = await localCopy(imageLocation, downloads);
  return { m, output, imageLocation, imagePath, publishedDigest: await hashFile(imagePath), bundle: options.inputs };
}

/** The rebuilt image: the one given, one rebuilt earlier in the work directory from the same inputs, or a new build. */
async function rebuiltImage(m: PublishedManifest, name: string, options: RebuildOptions, here: ReturnType<typeof toolsHere>, notes: string[]): Promise<{ path: string; reused: boolean }> {
  if (options.rebuilt !== undefined) {
    notes.push('compared with an image rebuilt before (--rebuilt); not rebuilt here');
    return { path: options.rebuilt, reused: true };
  }
  const outDir = join(options.workDir, 'rebuilt');
  const earlier = await earlierRebuild(m, outDir, name);
  if (earlier !== undefined) {
    notes.push('reused the rebuild in the work directory (rebuilt/), made from the same inputs');
    return { path: earlier, reused: true };
  }
  notes.push(...checkCompatibility(m, here, options.allowToolVersions ?? false));
  const prepared = await prepareInputs(m, options.workDir, { recipeDir: options.recipeDir, bundle: options.inputs });
  notes.push(...prepared.notes);
  await rm(outDir, { recursive: true, force: true });
  const { buildRecipe } = await import('../recipe/build.js');
  try {
    await buildRecipe(prepared.recipeFile, {
      outDir,
      cacheDir: options.cacheDir,
      buildTime: m.sourceDateEpoch,
      workers: options.workers,
      environment: options.environment,
      warn: options.warn,
      log: options.log,
      signal: options.signal,
    });
  } catch (e) {
    // whatever stops the build (an input gone from the archive, a hash mismatch, a failing hook)
    // is the reason; a stop asked for by the caller is not
    if (e instanceof ReprimageError && e.code !== 'ABORTED') throw new CannotRebuild(e.subject, e.detail);
    throw e;
  }
  return { path: join(outDir, name), reused: false };
}

/** WORK/rebuilt/NAME when WORK/rebuilt/manifest.json records the same inputs and lists it with its hash. */
async function earlierRebuild(m: PublishedManifest, outDir: string, name: string): Promise<string | undefined> {
  let earlier: PublishedManifest;
  try {
    earlier = await readPublishedManifest(join(outDir, 'manifest.json'), join(outDir, 'manifest.json'));
  } catch {
    return undefined;
  }
  const same =
    earlier.recipe.sha256 === m.recipe.sha256 &&
    earlier.lock.sha256 === m.lock.sha256 &&
    earlier.sourceDateEpoch === m.sourceDateEpoch &&
    earlier.inputs?.bundle.sha256 === m.inputs?.bundle.sha256;
  const output = earlier.outputs.find((o) => o.path === name);
  if (!same || !output) return undefined;
  const path = join(outDir, name);
  const digest = await hashFile(path).catch(() => undefined);
  return digest?.sha256 === output.sha256 ? path : undefined;
}

function seconds(since: number): number {
  return Math.round(performance.now() - since) / 1000;
}

async function writeText(target: string, text: string): Promise<void> {
  await writeAtomically(target, async (sink) => sink.write(new TextEncoder().encode(text)));
}
