/**
 * Where the build applies the root-file-system fix-ups (src/normalize/fixups, docs/fixups.md):
 * the recipe's exclude and empty lists, the known build-time state (shadow dates, machine-id,
 * caches, logs, apt lists, .pyc), `normalize` over every file, and clamped times.
 */
import { applyFixups } from '../normalize/fixups/index.js';
import type { Tree } from '../tree/tree.js';

export interface FixupContext {
  buildTime: number;
  /** The recipe's `exclude` patterns. */
  remove: readonly string[];
  /** The recipe's `empty` patterns. */
  empty: readonly string[];
  warn: (message: string) => void;
}

/** Applies every fix-up to `tree` in place; returns how many paths each one changed, in the order they ran. */
export async function applyRootFixups(tree: Tree, context: FixupContext): Promise<Record<string, number>> {
  const report = await applyFixups(tree, { buildTime: context.buildTime, remove: context.remove, empty: context.empty });
  return { ...report.counts };
}
