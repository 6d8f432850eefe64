/**
 * The build record a medium carries (an `iso` output with `build_record: true`, docs/rebuild.md):
 * `.reprimage/manifest.json`, the manifest without outputs, and `.reprimage/recipe-inputs.tar`
 * beside it. Read from the published image itself, so that one ISO file is enough to rebuild it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromSystemError } from '../errors.js';
import { openTree } from '../image/open-tree.js';
import { readContent } from '../tree/content.js';
import { EMBEDDED_BUNDLE_DIR, EMBEDDED_MANIFEST } from '../recipe/manifest.js';
import { INPUTS_BUNDLE } from '../recipe/inputs-bundle.js';

export interface EmbeddedRecord {
  /** The embedded manifest's bytes. */
  manifest: Uint8Array;
  /** The inputs bundle, copied out into `dir`, when the medium carries one. */
  bundle?: string;
}

/** The build record inside the image at `imagePath`, or undefined when it carries none (or is no image reprimage opens). */
export async function readEmbeddedRecord(imagePath: string, dir: string, warn: (m: string) => void): Promise<EmbeddedRecord | undefined> {
  let opened;
  try {
    opened = await openTree(imagePath, { warn, xattrs: false });
  } catch {
    return undefined; // not an image with a medium: the caller says no manifest was found
  }
  try {
    const manifest = opened.tree.get(EMBEDDED_MANIFEST);
    if (manifest?.kind !== 'file') return undefined;
    const record: EmbeddedRecord = { manifest: await readContent(manifest.content) };
    const bundle = opened.tree.get(`${EMBEDDED_BUNDLE_DIR}/${INPUTS_BUNDLE}`);
    if (bundle?.kind === 'file') {
      record.bundle = join(dir, INPUTS_BUNDLE);
      await writeFile(record.bundle, await readContent(bundle.content)).catch((e: unknown) => {
        throw fromSystemError(e, record.bundle!);
      });
    }
    return record;
  } finally {
    await opened.close();
  }
}
