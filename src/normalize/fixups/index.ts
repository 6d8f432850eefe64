/**
 * The root file system fix-ups, in the order they run (docs/fixups.md gives each
 * one's reason): first what the recipe lists, then the known build-time state, then `normalize`
 * over every file, then the times. `applyFixups` changes the Tree in place and returns what it
 * changed; the same Tree and options always give the same result.
 */
import { ReprimageError } from '../../errors.js';
import type { Tree } from '../../tree/tree.js';
import { aptLists } from './apt-lists.js';
import { backupFiles } from './backup-files.js';
import { clampTimes } from './clamp-times.js';
import { cracklib } from './cracklib.js';
import { dbusMachineId } from './dbus-machine-id.js';
import { FIXUP_IDS, type Fixup, type FixupChange, type FixupContext, type FixupId, type FixupOptions, type FixupStats } from './fixup.js';
import { fontconfigCache } from './fontconfig-cache.js';
import { ldconfigAuxCache } from './ldconfig-aux-cache.js';
import { listedPaths } from './listed-paths.js';
import { logs } from './logs.js';
import { machineId } from './machine-id.js';
import { gdkPixbufLoaders, gioModules, gtkImmodules, mimeinfoCache } from './module-caches.js';
import { normalizeFiles } from './normalize-files.js';
import { pyc } from './pyc.js';
import { randomSeed } from './random-seed.js';
import { shadow } from './shadow.js';

export { FIXUP_IDS, type FixupChange, type FixupId, type FixupOptions } from './fixup.js';
export { fixShadowText } from './shadow.js';
export { sortBlankLineRecords, sortLineRecords } from './sorted-cache.js';

/** Every fix-up, in the order it runs. */
export const FIXUPS: readonly Fixup[] = [
  listedPaths,
  shadow,
  machineId,
  dbusMachineId,
  randomSeed,
  ldconfigAuxCache,
  fontconfigCache,
  gdkPixbufLoaders,
  gioModules,
  gtkImmodules,
  mimeinfoCache,
  cracklib,
  logs,
  aptLists,
  backupFiles,
  pyc,
  normalizeFiles,
  clampTimes,
];

export interface FixupReport extends FixupStats {
  /** Every path a fix-up changed, in the order the fix-ups ran (normalize's changed files included). */
  changes: FixupChange[];
  /** How many paths each fix-up changed. */
  counts: Partial<Record<FixupId, number>>;
}

/** Applies every fix-up not in `options.skip` to `tree`, in place. */
export async function applyFixups(tree: Tree, options: FixupOptions): Promise<FixupReport> {
  if (!Number.isSafeInteger(options.buildTime)) throw new ReprimageError('USAGE', 'fixups', `timestamp ${options.buildTime} is not a whole number of seconds`);
  for (const id of options.skip ?? []) {
    if (!(FIXUP_IDS as readonly string[]).includes(id)) throw new ReprimageError('USAGE', 'fixups', `unknown fix-up '${id}'; expected one of ${FIXUP_IDS.join(', ')}`);
  }
  const skip = new Set(options.skip ?? []);
  const changes: FixupChange[] = [];
  const counts: Partial<Record<FixupId, number>> = {};
  const stats: FixupStats = { clampedTimes: 0, normalize: [] };
  for (const fixup of FIXUPS) {
    if (skip.has(fixup.id)) continue;
    const ctx: FixupContext = {
      tree,
      options,
      stats,
      record(path, action, detail) {
        changes.push(detail === undefined ? { fixup: fixup.id, path, action } : { fixup: fixup.id, path, action, detail });
        counts[fixup.id] = (counts[fixup.id] ?? 0) + 1;
      },
    };
    await fixup.apply(ctx);
  }
  if (stats.clampedTimes > 0) counts['clamp-times'] = stats.clampedTimes;
  return { changes, counts, ...stats };
}
