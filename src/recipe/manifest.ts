/**
 * The build manifest (manifest.json) and the optional in-toto statement. The `reproducible`
 * part is a pure function of the inputs (recipe, lock, SOURCE_DATE_EPOCH, reprimage, codec and
 * tool versions) and of the output bytes; `reproducible_sha256` hashes exactly that part.
 * Timings and download counts live in `run`, outside the hash, because they differ every time.
 * The hash is taken over the canonical JSON (RFC 8785) of that part, so a verifier in another
 * language computes the same value from the parsed manifest.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { codecVersions } from '../compress/registry.js';
import { canonicalJson } from './canonical-json.js';

export interface ManifestOutput {
  path: string;
  type: string;
  format: string;
  sha256: string;
  size: number;
  /** installer-iso only: the raw disk image it carries, and that image as compressed on the medium. */
  image?: { sha256: string; size: number; compressed: { codec: string; implementation: string; sha256: string; size: number } };
}

/**
 * What a rebuilder needs besides the published files: the bundle of the recipe's own inputs
 * (src/recipe/inputs-bundle.ts) and each file in it by hash, the host files the recipe names
 * by absolute path (keyrings) by hash, and the inputs that lie outside the recipe's directory
 * and are therefore not carried (a rebuild cannot proceed without them).
 */
export interface ManifestInputs {
  bundle: { path: string; sha256: string; size: number };
  files: Array<{ path: string; sha256: string; size: number }>;
  host_files: Array<{ path: string; sha256: string }>;
  external: string[];
}

/** 2: `inputs` added, and the hash is over canonical JSON (version 1 hashed JSON.stringify's output). */
export const MANIFEST_VERSION = 2 as const;

export interface ReproducibleManifest {
  manifest_version: typeof MANIFEST_VERSION;
  name: string;
  recipe: { file: string; sha256: string };
  lock: { file: string; sha256: string };
  source_date_epoch: number;
  /** This version, and the oldest one known to give the same bytes (the range `rebuild` accepts). */
  reprimage: { version: string; same_bytes_since?: string };
  codecs: Array<{ codec: string; implementation: string }>;
  /** Host tools whose behaviour shapes the root tree (Debian package versions). */
  tools: Record<string, string>;
  sources: Array<{ uri: string; suite: string; in_release_sha256: string; signers: string[] }>;
  packages: Array<{ name: string; version: string; architecture: string; sha256: string }>;
  /** How many paths each root-file-system fix-up changed (src/normalize/fixups), in the order they ran. */
  fixups: Record<string, number>;
  outputs: ManifestOutput[];
  inputs: ManifestInputs;
}

export interface BuildManifest {
  reproducible: ReproducibleManifest;
  reproducible_sha256: string;
  run: { timings_ms: Record<string, number>; node: string; downloads: { files: number; bytes: number; from_cache: number } };
}

export function manifestOf(reproducible: ReproducibleManifest, run: BuildManifest['run']): BuildManifest {
  return { reproducible, reproducible_sha256: reproducibleSha256(reproducible), run };
}

/** SHA-256 of the canonical JSON (RFC 8785) of a manifest's reproducible part. */
export function reproducibleSha256(reproducible: unknown): string {
  return createHash('sha256').update(canonicalJson(reproducible, 'manifest reproducible part')).digest('hex');
}

/**
 * Where a build record sits on a medium that carries its own (an `iso` output with
 * `build_record: true`, docs/rebuild.md), with the inputs bundle beside it. It is the manifest's
 * reproducible part less what no medium can hold or should: `outputs` (the image's own hash
 * would be among them), and what describes the build machine rather than the bytes, the host
 * tools' versions, the host files' hashes and the reprimage version (only `same_bytes_since` is
 * kept): a medium made on bookworm and on trixie, or by two releases that give the same bytes,
 * must be the same medium.
 */
export const EMBEDDED_MANIFEST = '.reprimage/manifest.json';
export const EMBEDDED_BUNDLE_DIR = '.reprimage';

export type EmbeddedReproducible = Omit<ReproducibleManifest, 'outputs' | 'tools' | 'reprimage' | 'inputs'> & {
  reprimage: { same_bytes_since: string };
  inputs: Omit<ManifestInputs, 'host_files'>;
};

/** What a medium carries of a build's record (everything but `outputs`). */
export function embeddedRecordOf(record: Omit<ReproducibleManifest, 'outputs'>): EmbeddedReproducible {
  const { tools: _machine, reprimage, inputs, ...rest } = record;
  return { ...rest, reprimage: { same_bytes_since: reprimage.same_bytes_since ?? reprimage.version }, inputs: { bundle: inputs.bundle, files: inputs.files, external: inputs.external } };
}

/** The embedded manifest's bytes: the shape of manifest.json, without outputs and run record. */
export function embeddedManifestBytes(reproducible: EmbeddedReproducible): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ reproducible, reproducible_sha256: reproducibleSha256(reproducible) }, null, 2)}\n`);
}

export function serializeManifest(m: BuildManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

export function reprimageVersion(): string {
  for (let up = '../../'; up.length < 30; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'reprimage') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

/**
 * The oldest reprimage version whose builds give the same bytes as this version's for the same
 * inputs. With the version it makes the range a manifest records, inside which `reprimage rebuild`
 * accepts another version (docs/rebuild.md). A change that changes output bytes (a stored hash
 * re-pinned) sets it to the version that will be released with the change.
 */
export const SAME_BYTES_SINCE = '0.1.0';

/** The manifest's `reprimage` record: this version and the range of versions with the same bytes. */
export function reprimageRecord(): ReproducibleManifest['reprimage'] {
  return { version: reprimageVersion(), same_bytes_since: SAME_BYTES_SINCE };
}

export function currentCodecs(): ReproducibleManifest['codecs'] {
  return codecVersions();
}

/**
 * An in-toto Statement (v1) with an SLSA provenance (v1) predicate over the outputs. It holds no
 * times or host names, so it is reproducible too; signing it is left to the caller.
 */
export function provenanceStatement(m: ReproducibleManifest, sourceUrls: string[], packageUrls: string[]): object {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: m.outputs.map((o) => ({ name: o.path, digest: { sha256: o.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://reprimage.invalid/recipe-build/v1',
        externalParameters: { recipe: m.recipe, lock: m.lock, source_date_epoch: m.source_date_epoch, inputs: m.inputs.bundle },
        internalParameters: { codecs: m.codecs, tools: m.tools },
        resolvedDependencies: [
          ...m.sources.map((s, i) => ({ uri: sourceUrls[i], digest: { sha256: s.in_release_sha256 } })),
          ...m.packages.map((p, i) => ({ uri: packageUrls[i], name: p.name, digest: { sha256: p.sha256 } })),
        ],
      },
      runDetails: {
        builder: { id: `reprimage ${m.reprimage.version}`, version: { reprimage: m.reprimage.version } },
        metadata: {},
      },
    },
  };
}
