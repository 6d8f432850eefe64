/**
 * cracklib's dictionaries, `/var/cache/cracklib/cracklib_dict.{pwd,pwi,hwm}` and `src-dicts`,
 * are built by update-cracklib (cracklib-runtime's postinst and a daily cron job) as
 * `cracklib-format | cracklib-packer` with `LC_COLLATE=C`, so from the same word lists they come
 * out the same: their bytes need no fix-up, and removing them would break pam_cracklib. What
 * differs is their mtime (the build's clock), which the last fix-up clamps; update-cracklib only
 * rebuilds when a word list is newer than the dictionary, and after clamping none is. This
 * fix-up checks that the three parts are all there: a dictionary missing a part (an interrupted
 * build) is removed whole, as cracklib would fail on it anyway.
 */
import { fileAt, removeAndRecord, type Fixup } from './fixup.js';

export const CRACKLIB_DICT = 'var/cache/cracklib/cracklib_dict';
const PARTS = ['.pwd', '.pwi', '.hwm'];

export const cracklib: Fixup = {
  id: 'cracklib',
  summary: 'keep the (deterministic) cracklib dictionaries only when all three parts are present',
  apply(ctx) {
    const present = PARTS.filter((p) => fileAt(ctx.tree, CRACKLIB_DICT + p));
    if (present.length === 0 || present.length === PARTS.length) return Promise.resolve();
    for (const p of present) removeAndRecord(ctx, CRACKLIB_DICT + p, 'incomplete dictionary');
    return Promise.resolve();
  },
};
