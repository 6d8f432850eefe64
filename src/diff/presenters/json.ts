/**
 * The JSON report, in diffoscope's structure (docs/diff.md gives the schema): every node has
 * `source1`, `source2` and `unified_diff` (a string or null), and `comments` and `details` when
 * it has any; the root adds `"diffoscope-json-version": 1`. reprimage adds `path1`/`path2`, the
 * whole paths of nodes standing for files and members, and `summary` on the root (the counts
 * at the top of every report); diffoscope readers ignore them. The summary is also the first of
 * the root's comments, which diffoscope shows when it renders our JSON.
 */
import type { Difference } from '../difference.js';
import { summarize, summaryLines } from '../summary.js';

/** reprimage extension on the root node: the counts of the report's summary. */
export interface JsonSummary {
  added: number;
  removed: number;
  changed_content: number;
  changed_metadata_only: number;
  metadata_fields: Record<string, number>;
  largest: Array<{ path: string; kind: string; lines_removed: number; lines_added: number; lines_cut: number; size1?: number; size2?: number }>;
}

export interface JsonDifference {
  'diffoscope-json-version'?: number;
  source1: string;
  source2: string;
  unified_diff: string | null;
  comments?: string[];
  details?: JsonDifference[];
  path1?: string;
  path2?: string;
  summary?: JsonSummary;
}

export function toJson(d: Difference, root = true): JsonDifference {
  const out = {} as JsonDifference;
  if (root) out['diffoscope-json-version'] = 1;
  out.source1 = d.source1;
  out.source2 = d.source2;
  out.unified_diff = d.unifiedDiff;
  // the root's comments start with the summary, so that diffoscope shows it when it renders our JSON
  const comments = root ? [...summaryLines(summarize(d)), ...d.comments] : d.comments;
  if (comments.length > 0) out.comments = [...comments];
  if (d.details.length > 0) out.details = d.details.map((c) => toJson(c, false));
  if (d.path1 !== undefined) out.path1 = d.path1;
  if (d.path2 !== undefined) out.path2 = d.path2;
  if (root) out.summary = jsonSummary(d);
  return out;
}

function jsonSummary(d: Difference): JsonSummary {
  const s = summarize(d);
  return {
    added: s.added,
    removed: s.removed,
    changed_content: s.content,
    changed_metadata_only: s.metadataOnly,
    metadata_fields: s.metadataFields,
    largest: s.largest.map((c) => ({ path: c.path, kind: c.kind, lines_removed: c.removedLines, lines_added: c.addedLines, lines_cut: c.cutLines, size1: c.size1, size2: c.size2 })),
  };
}

export function renderJson(d: Difference): string {
  return `${JSON.stringify(toJson(d), null, 2)}\n`;
}
