/**
 * Two in-memory Trees compared by reprimage's diff engine, member by member (metadata, then
 * bytes, recursing into archives and images inside), so that `iuk-apply --expect` explains a
 * mismatch as `reprimage diff` would. The engine compares blobs; each Tree is handed to it as a
 * tiny marker blob that only the comparator registered here recognizes and opens as the Tree.
 */
import type { Blob } from '../diff/blob.js';
import type { Comparator } from '../diff/comparator.js';
import type { Difference } from '../diff/difference.js';
import { treeContainer } from '../diff/comparators/tree-members.js';
import { diffBlobs } from '../diff/engine.js';
import { bufferSource } from '../io/source.js';
import type { Tree } from '../tree/tree.js';

const MARKER = '\0reprimage in-memory tree ';

function markerBlob(id: string): Blob {
  const bytes = Buffer.from(MARKER + id, 'latin1');
  return {
    size: bytes.length,
    async *chunks() {
      yield bytes;
    },
    head: async (n) => bytes.subarray(0, n),
    open: async () => bufferSource(bytes, id),
  };
}

/** undefined when the trees hold the same entries (root metadata included), else the differences. */
export async function compareTrees(a: { name: string; tree: Tree }, b: { name: string; tree: Tree }, options: { warn?: (m: string) => void } = {}): Promise<Difference | undefined> {
  const { defaultComparators } = await import('../diff/registry.js');
  const trees = new Map<string, Tree>([
    ['a', a.tree],
    ['b', b.tree],
  ]);
  const idOf = (head: Uint8Array): string | undefined => {
    const text = Buffer.from(head).toString('latin1');
    if (!text.startsWith(MARKER)) return undefined;
    const id = text.slice(MARKER.length);
    return trees.has(id) ? id : undefined;
  };
  const comparator: Comparator = {
    id: 'tree',
    recognizes: (head) => idOf(head) !== undefined,
    async open(input) {
      const id = idOf(await input.blob.head(64));
      return treeContainer(trees.get(id!)!, { root: true });
    },
  };
  const d = await diffBlobs({ name: a.name, blob: markerBlob('a') }, { name: b.name, blob: markerBlob('b') }, { comparators: [comparator, ...defaultComparators], warn: options.warn });
  // the markers always differ; only what was found inside the trees counts
  if (!d || d.details.length === 0) return undefined;
  d.comments = [];
  d.unifiedDiff = null;
  return d;
}

/** The paths (inside the compared trees) of the members that differ, in report order. */
export function differingPaths(d: Difference): string[] {
  const prefixes = [d.path1, d.path2, d.source1, d.source2].filter((p): p is string => p !== undefined).map((p) => `${p} ▸ `);
  const relative = (whole: string): string => {
    for (const p of prefixes) if (whole.startsWith(p)) return whole.slice(p.length);
    return whole;
  };
  const out: string[] = [];
  const visit = (node: Difference): void => {
    const own = node.path1 ?? node.path2;
    // members differing in metadata only are named by their container's file list node
    const listed = node.details.flatMap((c) => (c.entries ?? []).map((e) => e.path1 ?? e.path2).filter((p): p is string => p !== undefined));
    const deeper = listed.length > 0 || node.details.some((c) => c.path1 !== undefined || c.path2 !== undefined);
    if (node !== d && own !== undefined && !deeper) out.push(relative(own));
    for (const p of listed) out.push(relative(p));
    for (const c of node.details) visit(c);
  };
  visit(d);
  return [...new Set(out)];
}
