/**
 * `/var/lib/systemd/random-seed` is saved kernel randomness, written when systemd-random-seed
 * runs in the build (and by some postinsts). Shipped in an image it differs on every build and
 * gives every machine the same seed; systemd's "Building Images Safely" says to remove it
 * (systemd creates it again on the first shutdown).
 */
import { fileAt, type Fixup } from './fixup.js';

export const RANDOM_SEED = 'var/lib/systemd/random-seed';

export const randomSeed: Fixup = {
  id: 'random-seed',
  summary: 'remove /var/lib/systemd/random-seed',
  apply(ctx) {
    if (fileAt(ctx.tree, RANDOM_SEED) && ctx.tree.remove(RANDOM_SEED)) ctx.record(RANDOM_SEED, 'removed');
    return Promise.resolve();
  },
};
