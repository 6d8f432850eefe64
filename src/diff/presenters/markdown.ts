/**
 * The Markdown report: the summary first, then one heading per node (members by their name in
 * their container, deeper nodes at deeper levels down to `######`), comments as quotes, unified
 * diffs in ```diff blocks.
 */
import type { Difference } from '../difference.js';
import { headings, title } from './text.js';
import { changeLine, countsLine, summarize } from '../summary.js';

export function renderMarkdown(root: Difference, options: { maxReportSize?: number } = {}): string {
  const out: string[] = [];
  let size = 0;
  const limit = options.maxReportSize && options.maxReportSize > 0 ? options.maxReportSize : Infinity;
  const code = (s: string) => `\`${s.replace(/`/g, 'ˋ')}\``;
  const visit = (d: Difference, depth: number): boolean => {
    const hashes = '#'.repeat(Math.min(depth + 1, 6));
    const h = headings(d);
    const parts = [
      depth === 0 ? `${hashes} Comparing ${code(title(d, 1))} and ${code(title(d, 2))}` : h.length === 1 ? `${hashes} ${code(h[0]!)}` : `${hashes} ${code(h[0]!)} vs ${code(h[1]!)}`,
      '',
    ];
    if (depth === 0) parts.push(...summaryBlock(d));
    for (const c of d.comments) parts.push(`> ${c}`, '');
    if (d.unifiedDiff !== null) {
      const fence = d.unifiedDiff.includes('```') ? '~~~~' : '```';
      parts.push(`${fence}diff`, d.unifiedDiff.replace(/\n$/, ''), fence, '');
    }
    const text = parts.join('\n');
    size += Buffer.byteLength(text) + 1;
    if (size > limit) {
      out.push(`*Report cut at ${limit} bytes (--max-report-size).*`);
      return false;
    }
    out.push(text);
    for (const child of d.details) if (!visit(child, depth + 1)) return false;
    return true;
  };
  visit(root, 0);
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

function summaryBlock(root: Difference): string[] {
  const s = summarize(root);
  const out = [`**Summary:** ${countsLine(s)}.`, ''];
  if (s.largest.length > 0) {
    out.push('Largest changes first:', '');
    for (const c of s.largest) out.push(`* \`${c.path.replace(/`/g, 'ˋ')}\` (${changeLine(c)})`);
    out.push('');
  }
  return out;
}
