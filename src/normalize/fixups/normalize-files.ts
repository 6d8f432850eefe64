/**
 * The build artifacts inside the tree (gzip'ed changelogs and man pages, jars, PNGs, `.mo`
 * catalogs, static libraries, tars and cpios) go through `normalize`'s handlers, in memory
 * (src/normalize/tree.ts): whatever the fix-ups before left in place is then free of embedded
 * times, owners and orders. A file that a handler recognises but cannot parse is left as it was
 * and reported; it does not stop the build.
 */
import { normalizeTree } from '../tree.js';
import type { Fixup } from './fixup.js';

export const normalizeFiles: Fixup = {
  id: 'normalize',
  summary: "run normalize's handlers over every regular file",
  async apply(ctx) {
    const results = await normalizeTree(ctx.tree, { buildTime: ctx.options.buildTime, clamp: true });
    ctx.stats.normalize = results;
    for (const r of results) {
      if (r.status === 'changed') ctx.record(r.path, 'normalized', r.handler);
    }
  },
};
