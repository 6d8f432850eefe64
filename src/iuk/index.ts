/** Incremental upgrade kits: the delta of two builds, and stacking it back (docs/iuk.md). */
export { makeKit, openKit, applyKit, kitManagedPaths, type MakeKitOptions, type KitReport, type OpenedKit, type AppliedKit } from './kit.js';
export { openBuild, DEFAULT_ROOT_SQUASHFS, type OpenedBuild } from './open-build.js';
export { computeDelta, type Delta, type DeltaStats, type DeltaMode } from './delta.js';
export { stackLayer, deleteThenOverlay } from './overlay.js';
export { compareTrees, differingPaths } from './compare-trees.js';
export { WHITEOUT_STYLES, type WhiteoutStyle } from './whiteouts.js';
export { encodeControl, parseControl, IUK_FORMAT_VERSION, type KitControl } from './control.js';
