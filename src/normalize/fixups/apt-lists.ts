/**
 * APT's downloaded indices and binary caches: `/var/lib/apt/lists/*` (Packages, Release,
 * InRelease files of the build's mirror, fetched at build time and holding its URL) and
 * `/var/cache/apt/pkgcache.bin`, `srcpkgcache.bin` (mmap'ed caches holding build-time pointers
 * and mtimes), and the downloaded packages in `/var/cache/apt/archives` (what `apt-get clean`
 * removes). They describe the build machine's view of the archive, not the image; `apt update`
 * makes them again. The files go; the directories (`lists/partial`, `archives/partial`) and
 * the `lock` files apt expects stay.
 */
import { namesIn, pathsUnder, removeAndRecord, type Fixup } from './fixup.js';

export const APT_LISTS = 'var/lib/apt/lists';
export const APT_CACHE = 'var/cache/apt';
export const APT_ARCHIVES = 'var/cache/apt/archives';

export const aptLists: Fixup = {
  id: 'apt-lists',
  summary: 'remove APT lists (/var/lib/apt/lists/*), binary caches (/var/cache/apt/*.bin) and downloaded packages',
  apply(ctx) {
    for (const { path, node } of pathsUnder(ctx.tree, APT_LISTS)) {
      if (node.kind === 'dir' || path === `${APT_LISTS}/lock`) continue;
      removeAndRecord(ctx, path);
    }
    for (const name of namesIn(ctx.tree, APT_CACHE, /\.bin$/)) removeAndRecord(ctx, `${APT_CACHE}/${name}`);
    for (const { path, node } of pathsUnder(ctx.tree, APT_ARCHIVES)) {
      if (node.kind === 'dir' || path === `${APT_ARCHIVES}/lock`) continue;
      removeAndRecord(ctx, path);
    }
    return Promise.resolve();
  },
};
