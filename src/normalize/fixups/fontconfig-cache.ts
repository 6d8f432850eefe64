/**
 * fontconfig's system caches, `/var/cache/fontconfig/<hash>-<arch>.cache-<version>`, written by
 * `fc-cache` from fontconfig's postinst and font packages' triggers. Each records the mtime of
 * the font directory it describes (checked at load: a cache whose recorded time differs from the
 * directory's is ignored and the fonts are scanned again) and, without Debian's
 * SOURCE_DATE_EPOCH patch, the time it was made. Clamping the image's times after `fc-cache` ran
 * makes the recorded directory times stale anyway, and reprimage cannot run `fc-cache` on a Tree,
 * so by default the caches are removed: fontconfig works without them (it scans the fonts, and
 * keeps a per-user cache). `fontconfig: keep` leaves them for builds that regenerate them in a
 * hook with SOURCE_DATE_EPOCH exported (the network test shows whether two such builds agree).
 * `CACHEDIR.TAG` (fixed text) stays.
 */
import { namesIn, removeAndRecord, type Fixup } from './fixup.js';

export const FONTCONFIG_CACHE_DIR = 'var/cache/fontconfig';
const CACHE_NAME = /\.cache-\d+$/;

export const fontconfigCache: Fixup = {
  id: 'fontconfig-cache',
  summary: 'remove the fontconfig system caches (var/cache/fontconfig/*.cache-N)',
  apply(ctx) {
    if ((ctx.options.fontconfig ?? 'remove') === 'keep') return Promise.resolve();
    for (const name of namesIn(ctx.tree, FONTCONFIG_CACHE_DIR, CACHE_NAME)) removeAndRecord(ctx, `${FONTCONFIG_CACHE_DIR}/${name}`);
    return Promise.resolve();
  },
};
