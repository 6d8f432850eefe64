/**
 * The text report, in diffoscope's layout: `---`/`+++` for the two inputs, the summary as `┄`
 * lines, `├──` for each difference inside (members by their name in their container, as
 * diffoscope names them), `│┄` for comments, and the unified diffs indented under their heading. With `color`, removed lines are red, added green, hunk headers
 * cyan. `maxReportSize` (bytes) cuts the report with a closing line saying so.
 */
import type { Difference } from '../difference.js';
import { summarize, summaryLines } from '../summary.js';

export interface TextOptions {
  color?: boolean;
  /** Stop once the report reaches this many bytes (0 or undefined: no limit). */
  maxReportSize?: number;
}

const RESET = '\x1b[0m';
const STYLE = { red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', bold: '\x1b[1m', dim: '\x1b[2m' };

class Budget extends Error {}

/** The whole report as one string, ending with a newline. */
export function renderText(root: Difference, options: TextOptions = {}): string {
  const out: string[] = [];
  let size = 0;
  const limit = options.maxReportSize && options.maxReportSize > 0 ? options.maxReportSize : Infinity;
  const paint = (style: keyof typeof STYLE, s: string) => (options.color ? `${STYLE[style]}${s}${RESET}` : s);
  const line = (s: string) => {
    size += Buffer.byteLength(s) + 1;
    if (size > limit) throw new Budget();
    out.push(s);
  };
  const body = (d: Difference, prefix: string) => {
    for (const c of d.comments) line(`${prefix}${paint('dim', `┄ ${c}`)}`);
    if (d.unifiedDiff !== null) {
      for (const l of d.unifiedDiff.replace(/\n$/, '').split('\n')) {
        const styled = l.startsWith('@@') ? paint('cyan', l) : l.startsWith('-') ? paint('red', l) : l.startsWith('+') ? paint('green', l) : l;
        line(`${prefix}${styled}`);
      }
    }
  };
  const visit = (d: Difference, prefix: string) => {
    body(d, prefix);
    for (const child of d.details) {
      const heading = headings(child);
      if (heading.length === 1) line(`${prefix}├── ${paint('bold', heading[0]!)}`);
      else {
        line(`${prefix}│   --- ${heading[0]}`);
        line(`${prefix}├── +++ ${heading[1]}`);
      }
      visit(child, `${prefix}│ `);
    }
  };
  try {
    line(`--- ${title(root, 1)}`);
    line(`+++ ${title(root, 2)}`);
    for (const s of summaryLines(summarize(root))) line(paint('dim', `┄ ${s}`));
    visit(root, '');
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    out.push(`[ report cut at ${limit} bytes (--max-report-size) ]`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * A node's heading, relative to its container (the parent heading gives the rest of the path):
 * one line when both sides have the same local name, else the two sides' names.
 */
export function headings(d: Difference): string[] {
  if (d.source1 === d.source2) return [d.source1];
  return [d.source1, d.source2];
}

/** A node's heading on one side: the whole path for files and members, else the local name. */
export function title(d: Difference, side: 1 | 2): string {
  const path = side === 1 ? d.path1 : d.path2;
  const local = side === 1 ? d.source1 : d.source2;
  // a missing side keeps /dev/null; the other side's whole path stays informative
  return path ?? local;
}
