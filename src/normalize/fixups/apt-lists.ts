/**
 * APT's downloaded indices and binary caches: `/var/lib/apt/lists/*` (Packages, Release,
 * InRelease files of the build's mirror, fetched at build time and holding its URL) and
 * `/var/cache/apt/pkgcache.bin`, `srcpkgcache.bin` (mmap'ed caches holding build-time pointers
 * and mtimes). They describe the build machine's view of the archive, not the image; `apt
 * update` makes them again. The files go; the directories (`lists/partial`, the `lock` file
 * apt expects) stay.
 */
import { namesIn, pathsUnder, removeAndRecord, type Fixup } from './fixup.js';

export const APT_LISTS = 'var/lib/apt/lists';
export const APT_CACHE = 'var/cache/apt';

export const aptLists: Fixup = {
  id: 'apt-lists',
  summary: 'remove APT lists (/var/lib/apt/lists/*) and binary caches (/var/cache/apt/*.bin)',
  apply(ctx) {
    for (const { path, node } of pathsUnder(ctx.tree, APT_LISTS)) {
      if (node.kind === 'dir' || path === `${APT_LISTS}/lock`) continue;
      removeAndRecord(ctx, path);
    }
    for (const name of namesIn(ctx.tree, APT_CACHE, /\.bin$/)) removeAndRecord(ctx, `${APT_CACHE}/${name}`);
    return Promise.resolve();
  },
};
