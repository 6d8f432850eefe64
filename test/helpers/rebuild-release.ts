/**
 * Small published releases for the rebuild tests, made without mmdebstrap: a tar image, the
 * recipe's inputs bundle (written by the same code as `reprimage build`) and a manifest that
 * lists both with their hashes; and a static HTTP server on 127.0.0.1 that serves a directory,
 * counting requests, for the URL cases.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CLI, REPO } from './cli.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { hashFile } from '../../src/io/hash-file.js';
import { readTarEntries, writeTar } from '../../src/formats/tar/index.js';
import { openFileSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { newMeta, Tree } from '../../src/tree/tree.js';
import { loadRecipe } from '../../src/recipe/recipe.js';
import { writeInputsBundle } from '../../src/recipe/inputs-bundle.js';
import { EMBEDDED_MANIFEST, currentCodecs, embeddedManifestBytes, embeddedRecordOf, manifestOf, reprimageRecord, serializeManifest, type ReproducibleManifest } from '../../src/recipe/manifest.js';
import { writeIso } from '../../src/formats/iso9660/index.js';

export const EPOCH = 1783764997;
export const MOTD = 'Built by reprimage for a rebuild test.\n';

export const RECIPE_YAML = `name: rebuild-test
architecture: amd64
sources:
  - uri: http://deb.debian.org/debian
    suite: bookworm
    components: [main]
    keyring: keyring.gpg
packages: [less]
overlays: [overlay]
hooks: [hooks/10-motd.sh]
source_date_epoch: ${EPOCH}
outputs:
  - type: rootfs
    path: image.tar
`;

/** A recipe directory with an overlay, a hook, a keyring inside it and a lock. */
export function writeRecipeDir(dir: string): string {
  mkdirSync(join(dir, 'overlay/etc'), { recursive: true });
  mkdirSync(join(dir, 'hooks'), { recursive: true });
  writeFileSync(join(dir, 'recipe.yaml'), RECIPE_YAML);
  writeFileSync(join(dir, 'recipe.yaml.lock'), '{"lock_version":1}\n');
  writeFileSync(join(dir, 'overlay/etc/motd'), MOTD);
  writeFileSync(join(dir, 'hooks/10-motd.sh'), 'echo hello > /etc/hello\n', { mode: 0o755 });
  writeFileSync(join(dir, 'keyring.gpg'), 'not really a keyring');
  return join(dir, 'recipe.yaml');
}

/** A tar image holding etc/motd with `motd`. */
export async function writeImage(path: string, motd = MOTD): Promise<void> {
  const tree = new Tree();
  tree.ensureDir('etc', { mode: 0o755, mtime: { sec: EPOCH, nsec: 0 } });
  tree.set('etc/motd', { kind: 'file', ...newMeta({ mode: 0o644, mtime: { sec: EPOCH, nsec: 0 } }), content: bytesContent(new TextEncoder().encode(motd)) });
  await writeAtomically(path, (sink) => writeTar(tree, sink, { format: 'pax', buildTime: EPOCH }));
}

/** The reproducible part of the test recipe's manifest, less its outputs: this reprimage's version and codecs, no host tools. */
async function recordOf(recipe: Awaited<ReturnType<typeof loadRecipe>>, recipeFile: string, inputs: ReproducibleManifest['inputs']): Promise<Omit<ReproducibleManifest, 'outputs'>> {
  return {
    manifest_version: 2,
    name: 'rebuild-test',
    recipe: { file: 'recipe.yaml', sha256: recipe.sha256 },
    lock: { file: 'recipe.yaml.lock', sha256: (await hashFile(`${recipeFile}.lock`)).sha256 },
    source_date_epoch: EPOCH,
    reprimage: reprimageRecord(),
    codecs: currentCodecs(),
    tools: {},
    sources: [],
    packages: [],
    fixups: {},
    inputs,
  };
}

/**
 * A release directory: image.tar, recipe-inputs.tar and manifest.json (version 2, hashes over
 * canonical JSON), built with this reprimage's version and codecs and no host tools recorded.
 * `edit` changes the reproducible part before it is hashed.
 */
export async function writeRelease(dir: string, edit: (r: ReproducibleManifest) => void = () => undefined): Promise<{ manifest: string; image: string; bundle: string }> {
  mkdirSync(dir, { recursive: true });
  const recipeFile = writeRecipeDir(join(dir, 'src'));
  const recipe = await loadRecipe(recipeFile);
  const bundle = join(dir, 'recipe-inputs.tar');
  const inputs = await writeInputsBundle(recipe, `${recipeFile}.lock`, EPOCH, bundle, () => undefined);
  const image = join(dir, 'image.tar');
  await writeImage(image);
  const digest = await hashFile(image);
  const reproducible: ReproducibleManifest = {
    ...(await recordOf(recipe, recipeFile, inputs)),
    outputs: [{ path: 'image.tar', type: 'rootfs', format: 'tar (pax)', ...digest }],
  };
  edit(reproducible);
  const manifest = join(dir, 'manifest.json');
  writeFileSync(manifest, serializeManifest(manifestOf(reproducible, { timings_ms: {}, node: process.versions.node, downloads: { files: 0, bytes: 0, from_cache: 0 } })));
  return { manifest, image, bundle };
}

/**
 * An ISO that carries its own build record (an `iso` output with `build_record: true`): etc/motd
 * with `motd`, and `.reprimage/manifest.json` and `.reprimage/recipe-inputs.tar` as `reprimage
 * build` puts them on a live medium. `edit` changes the record before it is hashed; `carry` says
 * which of the two files the medium holds. The recipe's directory is made under `dir`.
 */
export async function writeMediumWithRecord(
  iso: string,
  dir: string,
  options: { motd?: string; edit?: (r: Omit<ReproducibleManifest, 'outputs'>) => void; carry?: { manifest: boolean; bundle: boolean }; tamperBundle?: boolean } = {},
): Promise<void> {
  const recipeFile = writeRecipeDir(join(dir, 'src'));
  const recipe = await loadRecipe(recipeFile);
  const bundlePath = join(dir, 'recipe-inputs.tar');
  const inputs = await writeInputsBundle(recipe, `${recipeFile}.lock`, EPOCH, bundlePath, () => undefined);
  const record: Omit<ReproducibleManifest, 'outputs'> = {
    ...(await recordOf(recipe, recipeFile, inputs)),
    tools: { mmdebstrap: '1.3.5-7' },
    inputs: { ...inputs, host_files: [{ path: '/usr/share/keyrings/x.gpg', sha256: '0'.repeat(64) }] },
  };
  options.edit?.(record);
  const carry = options.carry ?? { manifest: true, bundle: true };
  const at = { mode: 0o644, mtime: { sec: EPOCH, nsec: 0 } };
  const tree = new Tree();
  tree.ensureDir('etc', { mode: 0o755, mtime: at.mtime });
  tree.set('etc/motd', { kind: 'file', ...newMeta(at), content: bytesContent(new TextEncoder().encode(options.motd ?? MOTD)) });
  tree.ensureDir('.reprimage', { mode: 0o755, mtime: at.mtime });
  if (carry.manifest) tree.set(EMBEDDED_MANIFEST, { kind: 'file', ...newMeta(at), content: bytesContent(embeddedManifestBytes(embeddedRecordOf(record))) });
  const bundle = readFileSync(bundlePath);
  if (options.tamperBundle) bundle[bundle.length - 1] = bundle[bundle.length - 1]! ^ 1;
  if (carry.bundle) tree.set('.reprimage/recipe-inputs.tar', { kind: 'file', ...newMeta(at), content: bytesContent(bundle) });
  await writeAtomically(iso, (sink) => writeIso(tree, sink, { volumeId: 'REBUILD_TEST', buildTime: EPOCH }));
}

/** A copy of the tar image `tar` under `target`, with one byte of `member`'s data flipped. */
export async function flipByteOfTarMember(tar: string, member: string, target: string): Promise<void> {
  const source = await openFileSource(tar);
  let at = -1;
  try {
    for await (const r of readTarEntries(source)) if (r.name.replace(/^\.\//, '') === member) at = r.dataOffset;
  } finally {
    await source.close();
  }
  if (at <= 0) throw new Error(`${member} is not in ${tar}`);
  const bytes = readFileSync(tar);
  bytes[at] = bytes[at]! ^ 0x20;
  writeFileSync(target, bytes);
}

export interface StaticServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Serves `root` read-only on 127.0.0.1 (GET and HEAD; 404 for anything missing). */
export async function serveDirectory(root: string): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    let size: number;
    try {
      const s = statSync(file);
      if (!s.isFile()) throw new Error('not a file');
      size = s.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Runs the built CLI without blocking this process's event loop (the HTTP server that serves
 * the release lives in the test process; spawnSync would starve it).
 */
export function runCliAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return runAsync(process.execPath, [CLI, ...args]);
}

/** Runs a command to its end without blocking the event loop; resolves with its status and output. */
export function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}
