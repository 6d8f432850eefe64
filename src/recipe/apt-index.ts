/**
 * Fetching and verifying an APT archive's indices: InRelease (OpenPGP signature against the
 * recipe's keyring), then each Packages index against the SHA-256 the signed Release lists,
 * compressed and uncompressed. Everything is read through the content-addressed cache.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { ReprimageError } from '../errors.js';
import { decompressChunks } from '../compress/decompress.js';
import type { ContentCache } from './cache.js';
import { hashMismatch } from './cache.js';
import { field, parseStanzas, releaseChecksums, scanStanzas, type ReleaseFile, type Stanza } from './deb822.js';
import { readKeyring, verifyInRelease } from './signature.js';
import type { RecipeSource } from './schema.js';

/** A package as a verified Packages index describes it. */
export interface IndexedPackage {
  name: string;
  version: string;
  architecture: string;
  filename: string;
  size: number;
  sha256: string;
  essential: boolean;
  /** The stanza text exactly as in the index (used to lay out the local repository). */
  stanza: string;
}

export interface VerifiedSource {
  source: RecipeSource;
  inRelease: { url: string; sha256: string; size: number };
  /** The Release `Date:` field. */
  date: string;
  signers: string[];
  indices: Array<{ path: string; sha256: string; size: number }>;
  packages: IndexedPackage[];
}

export function archiveUrl(uri: string, path: string): string {
  return `${uri.replace(/\/+$/, '')}/${path}`;
}

export interface FetchSourceOptions {
  cache: ContentCache;
  /** Resolves the keyring path named by the recipe. */
  keyringPath: string;
  architectures: string[];
  /** When building: the InRelease the lock pins. When locking: undefined (take what is there). */
  pinned?: { sha256: string; size: number };
  /** The time at which keys must be valid: now when locking, the signature's time when building. */
  verifyAt: 'now' | 'signature-time';
}

export async function fetchVerifiedSource(source: RecipeSource, options: FetchSourceOptions): Promise<VerifiedSource> {
  const { cache } = options;
  const url = archiveUrl(source.uri, `dists/${source.suite}/InRelease`);
  const subject = url;
  let path: string;
  let inRelease: { sha256: string; size: number };
  if (options.pinned) {
    path = await cache.fetchExpected(url, options.pinned, `${subject} (pinned by the lock file; the archive may have moved on: use a snapshot URI or --update-lock)`);
    inRelease = options.pinned;
  } else {
    const got = await cache.fetchAny(url, subject);
    path = got.path;
    inRelease = { sha256: got.sha256, size: got.size };
  }
  const text = await readFile(path, 'utf8');
  const keys = await readKeyring(options.keyringPath);
  const at = options.verifyAt === 'now' ? new Date(Date.now()) : undefined;
  const verified = await verifyInRelease(text, keys, subject, options.keyringPath, at);
  const [release] = parseStanzas(verified.text, subject);
  if (!release) throw new ReprimageError('CORRUPT_IMAGE', subject, 'empty Release');
  checkSuite(release, source.suite, subject);
  if (options.verifyAt === 'now') checkValidUntil(release, subject);
  const sums = releaseChecksums(release, subject);
  const indices: VerifiedSource['indices'] = [];
  const packages: IndexedPackage[] = [];
  for (const component of source.components) {
    for (const arch of options.architectures) {
      const base = `${component}/binary-${arch}/Packages`;
      const { text: packagesText, used } = await fetchPackages(source, base, sums, cache);
      indices.push(used);
      packages.push(...parsePackages(packagesText, archiveUrl(source.uri, `dists/${source.suite}/${base}`)));
    }
  }
  return { source, inRelease: { url, ...inRelease }, date: field(release, 'Date') ?? '', signers: verified.signers, indices, packages };
}

/**
 * When locking, an expired Release is refused as apt refuses it (a mirror could otherwise serve
 * an old, signed archive with known holes). A build checks no expiry: the lock pins the file.
 */
function checkValidUntil(release: Stanza, subject: string): void {
  const validUntil = field(release, 'Valid-Until');
  if (validUntil === undefined) return;
  const t = Date.parse(validUntil);
  if (!Number.isFinite(t)) throw new ReprimageError('CORRUPT_IMAGE', subject, `unreadable Valid-Until: ${JSON.stringify(validUntil)}`);
  if (t < Date.now()) throw new ReprimageError('CORRUPT_IMAGE', subject, `expired: Valid-Until ${validUntil} has passed (the mirror is stale, or serves an old archive)`);
}

function checkSuite(release: Stanza, suite: string, subject: string): void {
  const names = [field(release, 'Suite'), field(release, 'Codename')].filter((v): v is string => v !== undefined);
  if (names.length > 0 && !names.includes(suite) && !suite.includes('/')) {
    throw new ReprimageError('CORRUPT_IMAGE', subject, `Release is for ${names.join('/')}, not ${suite}`);
  }
}

/** The Packages index in the first form Release lists (.gz, .xz, plain), verified both ways. */
async function fetchPackages(source: RecipeSource, base: string, sums: Map<string, ReleaseFile>, cache: ContentCache): Promise<{ text: string; used: { path: string; sha256: string; size: number } }> {
  const plain = sums.get(base);
  for (const ext of ['.gz', '.xz', '']) {
    const want = sums.get(base + ext);
    if (!want) continue;
    const url = archiveUrl(source.uri, `dists/${source.suite}/${base}${ext}`);
    const path = await cache.fetchExpected(url, want, url);
    const raw = await readFile(path);
    const bytes = ext === '.gz' ? gunzipSync(raw) : ext === '.xz' ? await unxz(raw, url) : raw;
    if (plain && ext !== '') {
      const actual = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
      if (actual.sha256 !== plain.sha256 || actual.size !== plain.size) throw hashMismatch(`${url} (uncompressed)`, plain, actual);
    }
    return { text: bytes.toString('utf8'), used: { path: `${base}${ext}`, ...want } };
  }
  throw new ReprimageError('NOT_FOUND', archiveUrl(source.uri, `dists/${source.suite}/InRelease`), `Release lists no ${base} index`);
}

async function unxz(raw: Buffer, subject: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of decompressChunks((async function* () { yield raw; })(), 'xz', subject)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The fields of a Packages stanza that are read (lower case). */
const PACKAGE_FIELDS: ReadonlySet<string> = new Set(['package', 'version', 'architecture', 'filename', 'size', 'sha256', 'essential']);

export function parsePackages(text: string, subject: string): IndexedPackage[] {
  const out: IndexedPackage[] = [];
  scanStanzas(text, subject, PACKAGE_FIELDS, (fields, stanza) => {
    const get = (name: string): string => {
      const v = fields.get(name.toLowerCase());
      if (v === undefined) throw new ReprimageError('CORRUPT_IMAGE', subject, `package ${fields.get('package') ?? '?'} has no ${name} field`);
      return v;
    };
    const sha256 = get('SHA256');
    const size = get('Size');
    if (!/^[0-9a-f]{64}$/.test(sha256) || !/^\d+$/.test(size)) throw new ReprimageError('CORRUPT_IMAGE', subject, `package ${get('Package')}: bad SHA256 or Size`);
    out.push({
      name: get('Package'),
      version: get('Version'),
      architecture: get('Architecture'),
      filename: get('Filename'),
      size: Number(size),
      sha256,
      essential: (fields.get('essential') ?? '').toLowerCase() === 'yes',
      stanza,
    });
  });
  return out;
}
