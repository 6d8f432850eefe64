/**
 * The summary at the top of every report: how many members were added, removed, changed in
 * content and changed in metadata only (by field), and the largest changes first. Counted from
 * the Difference tree: a member counts as changed in content only when nothing inside it
 * explains the change (a `data.tar.xz` whose files differ is a container, its files count).
 */
import { PATH_SEPARATOR, type Difference, type EntryChange } from './difference.js';

export interface LargeChange {
  kind: EntryChange['kind'];
  /** The whole path below the compared inputs (`data.tar.xz ▸ usr/lib/libx.so`). */
  path: string;
  /** Lines removed and added in the member's diffs (its metadata and file lists left out). */
  removedLines: number;
  addedLines: number;
  /** Lines of diff cut by --max-diff-lines (either sign). */
  cutLines: number;
  size1?: number;
  size2?: number;
  /** The node, so that presenters can link to it. */
  node: Difference;
}

export interface DiffSummary {
  added: number;
  removed: number;
  content: number;
  metadataOnly: number;
  /** Members differing in metadata only, per field (`mtime`: 17); a member may count in several. */
  metadataFields: Record<string, number>;
  /** Changed members, the largest first (at most `largest` of them). */
  largest: LargeChange[];
}

/** Lines of diff kept out of "largest": they list metadata, not contents. */
const ASPECTS = new Set(['metadata', 'file list', 'member order']);

export function summarize(root: Difference, largest = 10): DiffSummary {
  const s: DiffSummary = { added: 0, removed: 0, content: 0, metadataOnly: 0, metadataFields: {}, largest: [] };
  const changes: LargeChange[] = [];
  // paths below the two inputs, without their names (the report's title gives them)
  const prefixes = [root.path1, root.path2].filter((p): p is string => p !== undefined).map((p) => `${p}${PATH_SEPARATOR}`);
  const relative = (path: string) => {
    const prefix = prefixes.find((p) => path.startsWith(p));
    return prefix ? path.slice(prefix.length) : path;
  };
  // returns whether the subtree holds an entry (so that its ancestors are containers, not leaves)
  const visit = (d: Difference): boolean => {
    let inner = false;
    for (const e of d.entries ?? []) {
      inner = true;
      s.metadataOnly++;
      for (const f of e.fields) s.metadataFields[f] = (s.metadataFields[f] ?? 0) + 1;
    }
    for (const c of d.details) if (visit(c)) inner = true;
    const e = d.entry;
    if (!e) return inner;
    if (e.kind === 'added') s.added++;
    else if (e.kind === 'removed') s.removed++;
    else if (!inner) s.content++;
    else return true;
    const [removedLines, addedLines, cutLines] = e.kind === 'content' ? countLines(d) : [0, 0, 0];
    const change: LargeChange = { kind: e.kind, path: relative(e.path1 ?? e.path2 ?? d.source1), removedLines, addedLines, cutLines, node: d };
    if (e.size1 !== undefined) change.size1 = e.size1;
    if (e.size2 !== undefined) change.size2 = e.size2;
    changes.push(change);
    return true;
  };
  visit(root);
  const weight = (c: LargeChange) => c.removedLines + c.addedLines + c.cutLines;
  const delta = (c: LargeChange) => Math.abs((c.size2 ?? 0) - (c.size1 ?? 0));
  s.largest = changes.sort((a, b) => weight(b) - weight(a) || delta(b) - delta(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).slice(0, largest);
  return s;
}

/** Removed, added and cut lines in the diffs of a node and below, metadata aspects left out. */
function countLines(d: Difference): [number, number, number] {
  let minus = 0;
  let plus = 0;
  let cut = 0;
  const visit = (n: Difference) => {
    if (ASPECTS.has(n.source1)) return;
    if (n.unifiedDiff !== null) {
      for (const line of n.unifiedDiff.split('\n')) {
        if (line.startsWith('-')) minus++;
        else if (line.startsWith('+')) plus++;
        else {
          const m = /^\[ (\d+) lines left out/.exec(line);
          if (m) cut += Number(m[1]);
        }
      }
    }
    for (const c of n.details) visit(c);
  };
  visit(d);
  return [minus, plus, cut];
}

/** `3 added, 1 removed, 5 changed in content, 17 changed in metadata only (mtime 17, mode 1)`. */
export function countsLine(s: DiffSummary): string {
  const fields = Object.entries(s.metadataFields)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([f, n]) => `${f} ${n}`);
  const meta = `${s.metadataOnly} changed in metadata only${fields.length > 0 ? ` (${fields.join(', ')})` : ''}`;
  return `${s.added} added, ${s.removed} removed, ${s.content} changed in content, ${meta}`;
}

/** One change as `+12 −3 lines, 174184 → 186472 bytes` (what is known of it). */
export function changeLine(c: LargeChange): string {
  const parts: string[] = [];
  if (c.kind === 'added') parts.push('added');
  else if (c.kind === 'removed') parts.push('removed');
  else parts.push(`+${c.addedLines} −${c.removedLines} lines${c.cutLines > 0 ? ` and ${c.cutLines} more not shown` : ''}`);
  if (c.size1 !== undefined && c.size2 !== undefined) parts.push(c.size1 === c.size2 ? `${c.size1} bytes` : `${c.size1} → ${c.size2} bytes`);
  else if (c.size1 !== undefined || c.size2 !== undefined) parts.push(`${c.size1 ?? c.size2} bytes`);
  return parts.join(', ');
}

/** The summary as plain lines, for the text and Markdown reports. */
export function summaryLines(s: DiffSummary): string[] {
  const out = [`summary: ${countsLine(s)}`];
  if (s.largest.length > 0) {
    out.push('largest changes first:');
    for (const c of s.largest) out.push(`  ${c.path} (${changeLine(c)})`);
  }
  return out;
}
