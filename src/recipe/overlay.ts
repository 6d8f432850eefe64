/**
 * The recipe's overlays as one tar for mmdebstrap's `tar-in` hook. The bytes depend only on the
 * overlay contents, the recipe and SOURCE_DATE_EPOCH: owners become root, modes are normalized
 * (the umask of the checkout does not matter), times are clamped.
 */
import { resolve } from 'node:path';
import { writeAtomically } from '../io/atomic-output.js';
import { writeTar } from '../formats/tar/index.js';
import { bytesContent } from '../tree/content.js';
import { loadDirectory } from '../tree/load-dir.js';
import { applyPolicy } from '../tree/policy.js';
import { newMeta, Tree } from '../tree/tree.js';
import type { Recipe } from './recipe.js';

/**
 * The overlays as one tar: each directory loaded (later ones win), owned by root with
 * normalized modes and clamped times, plus /etc/apt/sources.list naming the recipe's real
 * sources instead of the local repository the build installs from.
 */
export async function writeOverlayTar(recipe: Pick<Recipe, 'overlays' | 'dir' | 'sources'>, epoch: number, target: string, warn: (m: string) => void): Promise<void> {
  const tree = new Tree();
  for (const dir of recipe.overlays) {
    const overlay = await loadDirectory(resolve(recipe.dir, dir), { xattrs: false, warn });
    for (const { path, node } of overlay.walk()) {
      if (path === '') continue;
      if (node.kind === 'dir') tree.ensureDir(path).mode = node.mode;
      else tree.set(path, node);
    }
  }
  const lines = recipe.sources.map((s) => `deb ${s.uri} ${s.suite} ${s.components.join(' ')}`);
  tree.set('etc/apt/sources.list', { kind: 'file', ...newMeta({ mode: 0o644, mtime: { sec: epoch, nsec: 0 } }), content: bytesContent(new TextEncoder().encode(`${lines.join('\n')}\n`)) });
  applyPolicy(tree, { buildTime: epoch, clampMtime: true, owner: 'root', permissions: 'normalize', excludes: [], emptyFiles: [] });
  for (const { node } of tree.walk()) if (node.mtime.sec === 0 && node.kind === 'dir') node.mtime = { sec: epoch, nsec: 0 };
  await writeAtomically(target, (sink) => writeTar(tree, sink, { format: 'pax', namePrefix: './', buildTime: epoch }));
}
