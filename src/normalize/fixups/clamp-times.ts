/**
 * Every entry's mtime later than SOURCE_DATE_EPOCH becomes SOURCE_DATE_EPOCH (docs/design.md rule 3):
 * files written during the build (by maintainer scripts, triggers, hooks and the fix-ups before
 * this one) carry the build's clock. Earlier times, those of files unpacked from packages, stay,
 * as `tar --clamp-mtime` keeps them. It runs last, after everything that could touch a file.
 * Changes are counted, not listed (a root file system has tens of thousands).
 */
import { clampTime } from '../../tree/policy.js';
import type { Fixup } from './fixup.js';

export const clampTimes: Fixup = {
  id: 'clamp-times',
  summary: 'clamp every mtime to SOURCE_DATE_EPOCH',
  apply(ctx) {
    let clamped = 0;
    for (const { node, linkTo } of ctx.tree.walk()) {
      if (linkTo !== undefined) continue;
      const t = clampTime(node.mtime, ctx.options.buildTime);
      if (t.sec !== node.mtime.sec || t.nsec !== node.mtime.nsec) {
        node.mtime = t;
        clamped++;
      }
    }
    ctx.stats.clampedTimes = clamped;
    return Promise.resolve();
  },
};
