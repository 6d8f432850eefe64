/**
 * HOOK POINT for the root-file-system fix-ups of issue 7 (src/normalize/, written by the
 * "fixups" work). When that module is committed, this function calls its entry point; until
 * then it applies nothing and says so, and the manifest records that no fix-ups ran.
 */
import type { Tree } from '../tree/tree.js';

export interface FixupContext {
  sourceDateEpoch: number;
  warn: (message: string) => void;
}

/** Applies every root-file-system fix-up to `tree` in place; returns the names of those applied. */
export async function applyRootFixups(_tree: Tree, context: FixupContext): Promise<string[]> {
  context.warn('root file-system fix-ups are not available yet (src/normalize fix-ups not committed); the tree is built without them');
  return [];
}
