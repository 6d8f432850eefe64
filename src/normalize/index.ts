/**
 * `reprimage/normalize`: strips what makes build artifacts differ between builds (timestamps in
 * gzip, zip/jar, ar, tar, cpio, PNG, gettext, javadoc, pyc …), in files on disk or inside a Tree.
 */
export { normalizeFile, type NormalizeOptions, type FileResult, type FileStatus } from './file.js';
export { normalizePaths, type NormalizeRun, type RunReport } from './walk.js';
export { normalizeTree, type TreeNormalizeOptions, type TreeFileResult, type TreeFileStatus } from './tree.js';
export { NORMALIZERS, detectNormalizer, normalizerById } from './registry.js';
export { HANDLER_IDS, type HandlerId, type Normalizer, type NormalizeContext, type Rewrite } from './handler.js';
export { applyFixups, FIXUPS, FIXUP_IDS, type FixupId, type FixupOptions, type FixupReport } from './fixups/index.js';
