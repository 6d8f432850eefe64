/**
 * A build named by its manifest: `reprimage iuk OLD/manifest.json NEW/manifest.json` opens the
 * image the manifest lists (its live ISO, else its only output) next to the manifest, after
 * checking that the file is the one the manifest describes (size and SHA-256), so a kit is never
 * made from an image that was replaced or damaged since its build.
 */
import { open, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { ReprimageError, fromSystemError } from '../errors.js';
import { hashFile } from '../io/hash-file.js';

interface ListedOutput {
  path: string;
  type: string;
  sha256: string;
  size: number;
}

/** The image a build path stands for: `path` itself, or the output its manifest lists. */
export async function imageOfBuild(path: string): Promise<string> {
  const text = await readIfManifest(path);
  if (text === undefined) return path;
  const output = pickOutput(parseOutputs(text, path), path);
  const image = join(dirname(path), output.path);
  const { size } = await stat(image).catch((e: unknown) => {
    throw fromSystemError(e, image);
  });
  if (size !== output.size) throw new ReprimageError('CONFLICT', image, `is ${size} bytes, but ${path} lists ${output.size}: not the image of that build`);
  const digest = (await hashFile(image)).sha256;
  if (digest !== output.sha256) throw new ReprimageError('CONFLICT', image, `has SHA-256 ${digest}, but ${path} lists ${output.sha256}: not the image of that build`);
  return image;
}

/** The text of `path` when it is a JSON document (a manifest is small; an image never starts with '{'). */
async function readIfManifest(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw fromSystemError(e, path);
  });
  try {
    const info = await fh.stat();
    if (!info.isFile() || info.size > 16 << 20) return undefined;
    const head = Buffer.alloc(64);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (!/^\s*\{/.test(head.subarray(0, bytesRead).toString('latin1'))) return undefined;
    return (await fh.readFile()).toString('utf8');
  } finally {
    await fh.close();
  }
}

function parseOutputs(text: string, path: string): ListedOutput[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ReprimageError('CORRUPT_IMAGE', path, `not a build manifest: ${(e as Error).message}`);
  }
  const outputs = (doc as { reproducible?: { outputs?: unknown } } | null)?.reproducible?.outputs;
  const valid = (o: unknown): o is ListedOutput => {
    const x = o as Partial<ListedOutput> | null;
    return typeof x?.path === 'string' && typeof x.type === 'string' && typeof x.size === 'number' && typeof x.sha256 === 'string' && /^[0-9a-f]{64}$/.test(x.sha256);
  };
  if (!Array.isArray(outputs) || !outputs.every(valid)) {
    throw new ReprimageError('CORRUPT_IMAGE', path, 'not a build manifest of reprimage build (no reproducible.outputs with path, type, size and sha256)');
  }
  for (const o of outputs) {
    if (isAbsolute(o.path) || o.path.split('/').includes('..')) throw new ReprimageError('PATH_ESCAPE', path, `output path ${JSON.stringify(o.path)} leaves the manifest's directory`);
  }
  return outputs;
}

function pickOutput(outputs: ListedOutput[], path: string): ListedOutput {
  const isos = outputs.filter((o) => o.type === 'iso');
  if (isos.length === 1) return isos[0]!;
  if (isos.length === 0 && outputs.length === 1) return outputs[0]!;
  throw new ReprimageError('USAGE', path, `lists ${isos.length > 1 ? `${isos.length} ISO images` : `${outputs.length} outputs and no ISO image`}: name the image file instead`);
}
