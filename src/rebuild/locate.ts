/**
 * Finding the manifest of a published image, and the image of a manifest. A release is a
 * directory (local or on a web server) holding the image, `manifest.json` and the recipe's
 * inputs bundle. PUBLISHED may name the image (the manifest is looked for beside it, as
 * `IMAGE.manifest.json` or `manifest.json`), the manifest itself (its image is the output it
 * lists beside it), or the release directory (a URL ending in `/`); `--manifest` names the
 * manifest explicitly. An image with no manifest beside it may carry its own
 * (src/rebuild/embedded.ts): that is looked for once the image is fetched.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { exists } from './fetch.js';
import { beside, fileNameOf, isUrl } from './locations.js';
import type { ManifestOutput } from '../recipe/manifest.js';

export type Located =
  | {
      manifest: string;
      /** The image's location, when PUBLISHED named it; else it comes from the manifest. */
      image?: string;
    }
  | { /** No manifest beside the image: look inside it. */ inside: true; image: string };

export async function locateManifest(published: string, manifest: string | undefined): Promise<Located> {
  if (manifest !== undefined) return { manifest, image: await isDirectory(published) ? undefined : published };
  if (await isDirectory(published)) return { manifest: isUrl(published) ? new URL('manifest.json', published).href : join(published, 'manifest.json') };
  if (fileNameOf(published).endsWith('.json')) return { manifest: published };
  for (const candidate of [beside(published, `${fileNameOf(published)}.manifest.json`), beside(published, 'manifest.json')]) {
    if (await exists(candidate)) return { manifest: candidate, image: published };
  }
  if (await exists(published)) return { inside: true, image: published };
  throw new ReprimageError('NOT_FOUND', published, 'no build manifest beside it (manifest.json): give it with --manifest');
}

async function isDirectory(location: string): Promise<boolean> {
  if (isUrl(location)) return location.endsWith('/');
  return stat(location).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The output of the manifest that `image` (a location, or undefined for "the manifest's own") stands for. */
export function pickOutput(outputs: readonly ManifestOutput[], image: string | undefined, manifestLocation: string): ManifestOutput {
  if (image !== undefined) {
    const name = fileNameOf(image);
    const byName = outputs.find((o) => o.path === name);
    if (byName) return byName;
    if (outputs.length === 1) return outputs[0]!;
    throw new ReprimageError('NOT_FOUND', image, `${manifestLocation} lists no output of that name (it lists ${outputs.map((o) => o.path).join(', ')})`);
  }
  return outputs.find((o) => o.type === 'iso') ?? outputs[0]!;
}
