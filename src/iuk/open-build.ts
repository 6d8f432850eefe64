/**
 * A build, as the kit sees it: an ISO image (its files, the "system", with the root file system
 * as a SquashFS at `live/filesystem.squashfs`), or a bare root file system (a SquashFS image, a
 * directory or an archive: anything open-tree reads), either named directly or by the
 * manifest.json of the build that made it.
 */
import { ReprimageError } from '../errors.js';
import { sliceSource, type RandomAccessSource } from '../io/source.js';
import { spoolToTempSource } from '../compress/decompress.js';
import { openTree } from '../image/open-tree.js';
import { imageOfBuild } from './manifest-build.js';
import type { Content } from '../tree/content.js';
import type { Tree } from '../tree/tree.js';

/** Where live-boot finds the root file system on a live medium. */
export const DEFAULT_ROOT_SQUASHFS = 'live/filesystem.squashfs';

export interface OpenedBuild {
  /** The file that was opened, for messages. */
  path: string;
  /** 'iso' when the build is a live medium; 'rootfs' when it is the root file system itself. */
  layout: 'iso' | 'rootfs';
  /** The medium's own files (boot loader, kernel, initramfs, the SquashFS), for 'iso' only. */
  system?: Tree;
  /** The root file system. */
  root: Tree;
  close(): Promise<void>;
}

export async function openBuild(build: string, options: { squashfsPath?: string; warn: (m: string) => void }): Promise<OpenedBuild> {
  // a manifest.json of `reprimage build` stands for the image it lists
  const path = await imageOfBuild(build);
  const opened = await openTree(path, { warn: options.warn });
  if (!opened.format.endsWith('iso9660')) {
    return { path, layout: 'rootfs', root: opened.tree, close: () => opened.close() };
  }
  const inner = options.squashfsPath ?? DEFAULT_ROOT_SQUASHFS;
  try {
    const node = opened.tree.get(inner);
    if (node === undefined) throw new ReprimageError('NOT_FOUND', path, `an ISO image without ${inner}: not a live system (pass --squashfs-path)`);
    if (node.kind !== 'file') throw new ReprimageError('CONFLICT', path, `${inner} is a ${node.kind}, not a SquashFS image`);
    const source = await sourceOf(node.content, `${path} ▸ ${inner}`);
    try {
      const { openSquashfs, sniffSquashfs } = await import('../formats/squashfs/index.js');
      const head = await source.read(0, Math.min(source.size, 96));
      if (!sniffSquashfs(head)) throw new ReprimageError('CORRUPT_IMAGE', `${path} ▸ ${inner}`, 'not a SquashFS image');
      const root = await (await openSquashfs(source)).tree();
      return {
        path,
        layout: 'iso',
        system: opened.tree,
        root,
        close: async () => {
          await source.close();
          await opened.close();
        },
      };
    } catch (e) {
      await source.close();
      throw e;
    }
  } catch (e) {
    await opened.close();
    throw e;
  }
}

/** Random access to a member's bytes: in place when it is one byte range of its image, else through a temporary file. */
export async function sourceOf(content: Content, name: string): Promise<RandomAccessSource> {
  if (content.range) return sliceSource(content.range.source, content.range.offset, content.size, name);
  return spoolToTempSource(content.chunks(), name);
}
