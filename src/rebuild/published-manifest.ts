/**
 * Reading a published build manifest (docs/recipe.md, manifest.json) for a rebuild. Only what a
 * rebuild relies on is checked here; the hash over the reproducible part must match, so a
 * manifest edited after its build is refused before anything is fetched on its word.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ReprimageError, fromSystemError } from '../errors.js';
import { MANIFEST_VERSION, reproducibleSha256, type ManifestInputs, type ManifestOutput } from '../recipe/manifest.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const fileName = z.string().regex(/^[^/\0]+$/, 'a plain file name').refine((n) => n !== '.' && n !== '..', 'a plain file name');
const relativePath = z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the recipe directory');

const inputsSchema = z.object({
  bundle: z.object({ path: fileName, sha256, size: z.number().int().nonnegative() }),
  files: z.array(z.object({ path: relativePath, sha256, size: z.number().int().nonnegative() })),
  host_files: z.array(z.object({ path: z.string().startsWith('/'), sha256 })),
  external: z.array(z.string()),
});

const outputsSchema = z.array(z.object({ path: fileName, type: z.string(), format: z.string(), sha256, size: z.number().int().nonnegative() }).passthrough());

const ReproducibleSchema = z
  .object({
    manifest_version: z.number().int(),
    name: z.string(),
    recipe: z.object({ file: fileName, sha256 }).passthrough(),
    lock: z.object({ file: fileName, sha256 }).passthrough(),
    source_date_epoch: z.number().int().nonnegative(),
    reprimage: z.object({ version: z.string(), same_bytes_since: z.string().optional() }).passthrough(),
    codecs: z.array(z.object({ codec: z.string(), implementation: z.string() }).passthrough()),
    tools: z.record(z.string(), z.string()),
    packages: z.array(z.object({ name: z.string(), version: z.string(), architecture: z.string(), sha256 }).passthrough()),
    outputs: outputsSchema.min(1),
    inputs: inputsSchema.optional(),
  })
  .passthrough();

export interface PublishedManifest {
  /** Where it was read from (path or URL), for messages. */
  location: string;
  /** SHA-256 of the manifest file's bytes. */
  fileSha256: string;
  reproducibleSha256: string;
  version: number;
  name: string;
  recipe: { file: string; sha256: string };
  lock: { file: string; sha256: string };
  sourceDateEpoch: number;
  reprimageVersion: string;
  /** The oldest version the build declared to give the same bytes (absent before it was recorded). */
  reprimageSameBytesSince?: string;
  codecs: Array<{ codec: string; implementation: string }>;
  tools: Record<string, string>;
  packages: number;
  outputs: ManifestOutput[];
  /** Absent in version 1 manifests, which do not record the recipe's inputs. */
  inputs?: ManifestInputs;
  /** The whole reproducible part, as published (to compare with the rebuild's). */
  reproducible: Record<string, unknown>;
}

/** Reads and checks the manifest at `path` (downloaded from `location`). */
export async function readPublishedManifest(path: string, location: string): Promise<PublishedManifest> {
  const bytes = await readFile(path).catch((e: unknown) => {
    throw fromSystemError(e, location);
  });
  return parsePublishedManifest(bytes, location);
}

/** A manifest carried inside its image: the same, without outputs (src/recipe/manifest.ts, EMBEDDED_MANIFEST). */
const EmbeddedSchema = ReproducibleSchema.extend({
  outputs: outputsSchema.max(0).optional(),
  tools: z.record(z.string(), z.string()).optional(),
  reprimage: z.object({ version: z.string().optional(), same_bytes_since: z.string() }).passthrough(),
  inputs: inputsSchema.extend({ host_files: inputsSchema.shape.host_files.optional() }),
});

/**
 * Parses and checks a manifest; `embedded` for one read from inside its image, which lists no
 * outputs (`outputs` is then empty: the image is the one it was read from).
 */
export function parsePublishedManifest(bytes: Uint8Array, location: string, embedded = false): PublishedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ReprimageError('CORRUPT_IMAGE', location, `not a build manifest: not JSON (${(e as Error).message})`);
  }
  const top = z.object({ reproducible: z.record(z.string(), z.unknown()), reproducible_sha256: sha256 }).passthrough().safeParse(json);
  if (!top.success) throw new ReprimageError('CORRUPT_IMAGE', location, 'not a build manifest: expected "reproducible" and "reproducible_sha256" (reprimage build writes manifest.json)');
  const parsed = (embedded ? EmbeddedSchema : ReproducibleSchema).safeParse(top.data.reproducible);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = ['reproducible', ...issue.path.map(String)].join('.');
    throw new ReprimageError('CORRUPT_IMAGE', location, `${where}: ${issue.message}`);
  }
  const r = parsed.data;
  if (r.manifest_version > MANIFEST_VERSION) throw new ReprimageError('UNSUPPORTED', location, `manifest_version ${r.manifest_version} is newer than this reprimage reads (${MANIFEST_VERSION})`);
  if (r.manifest_version >= 2) {
    const actual = reproducibleSha256(top.data.reproducible);
    if (actual !== top.data.reproducible_sha256) {
      throw new ReprimageError('CORRUPT_IMAGE', location, `reproducible_sha256 is ${top.data.reproducible_sha256}, but the reproducible part hashes to ${actual}: the manifest was changed after its build`);
    }
  }
  return {
    location,
    fileSha256: createHash('sha256').update(bytes).digest('hex'),
    reproducibleSha256: top.data.reproducible_sha256,
    version: r.manifest_version,
    name: r.name,
    recipe: { file: r.recipe.file, sha256: r.recipe.sha256 },
    lock: { file: r.lock.file, sha256: r.lock.sha256 },
    sourceDateEpoch: r.source_date_epoch,
    // a medium's record keeps only the range's start (manifest.ts, embeddedRecordOf)
    reprimageVersion: r.reprimage.version ?? r.reprimage.same_bytes_since!,
    reprimageSameBytesSince: r.reprimage.same_bytes_since,
    codecs: r.codecs.map((c) => ({ codec: c.codec, implementation: c.implementation })),
    tools: r.tools ?? {},
    packages: r.packages.length,
    outputs: (r.outputs ?? []).map((o) => ({ path: o.path, type: o.type, format: o.format, sha256: o.sha256, size: o.size })),
    inputs: r.inputs && { ...r.inputs, host_files: r.inputs.host_files ?? [] },
    reproducible: top.data.reproducible,
  };
}
