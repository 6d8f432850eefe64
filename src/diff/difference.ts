/**
 * The Difference tree: what `reprimage diff` found, built once and rendered by presenters.
 *
 * The shape is diffoscope's (`source1`, `source2`, `unified_diff`, `comments`, `details`), so
 * the JSON presenter writes what tools reading diffoscope JSON expect. `source1`/`source2` are
 * local names (a member path inside its container, or an aspect such as `metadata`); `path1`/
 * `path2` are the whole paths from the outermost file down (`a.iso ▸ live/fs.squashfs ▸ etc/x`),
 * set on nodes that stand for a file or member.
 */
import { unifiedDiff, type UnifiedDiffOptions } from './unified.js';

/**
 * What happened to one member, for the summary at the top of a report. Member nodes carry the
 * entry for `added`, `removed` and `content`; a container's `file list` node carries those of
 * its members that differ in metadata only (they get no node of their own).
 */
export interface EntryChange {
  kind: 'added' | 'removed' | 'content' | 'metadata';
  /** Whole paths on each side (absent on the side a member is missing from). */
  path1?: string;
  path2?: string;
  /** Metadata classes that differ (`mtime`, `mode`, …). */
  fields: string[];
  size1?: number;
  size2?: number;
}

/** What joins the parts of a whole path: `a.iso ▸ live/filesystem.squashfs ▸ etc/shadow`. */
export const PATH_SEPARATOR = ' ▸ ';

/** The name diffoscope gives the absent side of a member present on one side only. */
export const MISSING = '/dev/null';

export class Difference {
  comments: string[] = [];
  details: Difference[] = [];
  path1?: string;
  path2?: string;
  /** Set on member nodes: what changed in that member. */
  entry?: EntryChange;
  /** Set on `file list` nodes: the members differing in metadata only. */
  entries?: EntryChange[];

  constructor(
    public source1: string,
    public source2: string,
    public unifiedDiff: string | null = null,
  ) {}

  /** A node holding only comments (and later details). */
  static withComment(source1: string, source2: string, comment: string): Difference {
    const d = new Difference(source1, source2);
    d.comments.push(comment);
    return d;
  }

  /**
   * The unified diff of two texts split into lines, or undefined when they are equal.
   * The diff is cut at `maxLines` lines with a closing note saying how many were left out.
   */
  static fromText(source1: string, source2: string, a: string, b: string, options: UnifiedDiffOptions = {}): Difference | undefined {
    if (a === b) return undefined;
    const text = unifiedDiff(splitLines(a), splitLines(b), options);
    return text === '' ? undefined : new Difference(source1, source2, text);
  }

  /** Like fromText, over lines already split (each without its newline). */
  static fromLines(source1: string, source2: string, a: readonly string[], b: readonly string[], options: UnifiedDiffOptions = {}): Difference | undefined {
    const text = unifiedDiff(a, b, options);
    return text === '' ? undefined : new Difference(source1, source2, text);
  }

  /** Whether this node says anything at all. */
  get isEmpty(): boolean {
    return this.unifiedDiff === null && this.comments.length === 0 && this.details.length === 0;
  }

  /** The mirror image: what comparing the two sides the other way round reports. */
  mirror(): Difference {
    const m = new Difference(this.source2, this.source1, this.unifiedDiff === null ? null : mirrorUnified(this.unifiedDiff));
    m.comments = [...this.comments];
    m.details = this.details.map((d) => d.mirror());
    if (this.path2 !== undefined) m.path1 = this.path2;
    if (this.path1 !== undefined) m.path2 = this.path1;
    if (this.entry) m.entry = mirrorEntry(this.entry);
    if (this.entries) m.entries = this.entries.map(mirrorEntry);
    return m;
  }
}

function mirrorEntry(e: EntryChange): EntryChange {
  const kind = e.kind === 'added' ? 'removed' : e.kind === 'removed' ? 'added' : e.kind;
  const m: EntryChange = { kind, fields: [...e.fields] };
  if (e.path2 !== undefined) m.path1 = e.path2;
  if (e.path1 !== undefined) m.path2 = e.path1;
  if (e.size2 !== undefined) m.size1 = e.size2;
  if (e.size1 !== undefined) m.size2 = e.size1;
  return m;
}

/**
 * Splits text into lines without their newlines. A missing newline at the end is marked the
 * way diff(1) does, so that `a\n` and `a` still differ.
 */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines.push('\\ No newline at end of file');
  return lines;
}

/** Swaps `-` and `+` lines and the two ranges of every hunk header. */
function mirrorUnified(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let minus: string[] = [];
  let plus: string[] = [];
  const flush = () => {
    out.push(...plus.map((l) => `-${l.slice(1)}`), ...minus.map((l) => `+${l.slice(1)}`));
    minus = [];
    plus = [];
  };
  for (const line of lines) {
    if (line.startsWith('-')) minus.push(line);
    else if (line.startsWith('+')) plus.push(line);
    else {
      flush();
      const m = /^@@ -(\S+) \+(\S+) @@(.*)$/.exec(line);
      out.push(m ? `@@ -${m[2]} +${m[1]} @@${m[3]}` : line);
    }
  }
  flush();
  return out.join('\n');
}
