/**
 * One unified diff as HTML, twice: the unified view (`-`/`+` lines coloured) and a side-by-side
 * table with line numbers, where a removed line and the added line facing it have the words
 * that changed highlighted. A page shows one of the two views, chosen by CSS alone.
 */
import { editScript } from '../unified.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The unified view: one coloured span per line. */
export function unifiedHtml(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const spans = lines.map((l) => {
    const cls = l.startsWith('@@') ? 'hunk' : l.startsWith('-') ? 'del' : l.startsWith('+') ? 'add' : '';
    return `<span${cls ? ` class="${cls}"` : ''}>${escapeHtml(l) || ' '}</span>`;
  });
  return `<pre class="diff uni">${spans.join('')}</pre>`;
}

interface Row {
  left?: { n: number; html: string; cls: string };
  right?: { n: number; html: string; cls: string };
  note?: string;
}

/** The side-by-side view of a unified diff. */
export function sideBySideHtml(text: string): string {
  const rows: Row[] = [];
  let la = 0;
  let lb = 0;
  let minus: string[] = [];
  let plus: string[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(minus.length, plus.length); i++) {
      const a = minus[i];
      const b = plus[i];
      const [ha, hb] = a !== undefined && b !== undefined ? wordDiff(a, b) : [a === undefined ? '' : escapeHtml(a), b === undefined ? '' : escapeHtml(b)];
      rows.push({ left: a === undefined ? undefined : { n: ++la, html: ha, cls: 'del' }, right: b === undefined ? undefined : { n: ++lb, html: hb, cls: 'add' } });
    }
    minus = [];
    plus = [];
  };
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      flush();
      la = Number(hunk[1]) - (line.includes(`-${hunk[1]},0 `) ? 0 : 1);
      lb = Number(hunk[2]) - (line.includes(`+${hunk[2]},0 `) ? 0 : 1);
      rows.push({ note: line });
    } else if (line.startsWith('-')) minus.push(line.slice(1));
    else if (line.startsWith('+')) plus.push(line.slice(1));
    else if (line.startsWith(' ')) {
      flush();
      const h = escapeHtml(line.slice(1));
      rows.push({ left: { n: ++la, html: h, cls: '' }, right: { n: ++lb, html: h, cls: '' } });
    } else {
      flush();
      rows.push({ note: line });
    }
  }
  flush();
  const cell = (c: Row['left']) => (c ? `<td class="ln">${c.n}</td><td${c.cls ? ` class="${c.cls}"` : ''}>${c.html}</td>` : '<td class="ln"></td><td class="gap"></td>');
  const body = rows.map((r) => (r.note !== undefined ? `<tr class="hunk"><td colspan="4">${escapeHtml(r.note)}</td></tr>` : `<tr>${cell(r.left)}${cell(r.right)}</tr>`));
  return `<table class="diff sbs"><colgroup><col class="ln"><col><col class="ln"><col></colgroup>${body.join('')}</table>`;
}

/** Words (and runs of spaces, and single other characters): what intra-line highlighting compares. */
function tokens(line: string): string[] {
  return line.match(/\w+|\s+|[^\w\s]/gu) ?? [];
}

/** Both lines as HTML, with the tokens one has and the other lacks marked. */
export function wordDiff(a: string, b: string): [string, string] {
  if (a.length + b.length > 4000) return [escapeHtml(a), escapeHtml(b)];
  const ta = tokens(a);
  const tb = tokens(b);
  const ops = editScript(ta, tb, 200);
  let ia = 0;
  let ib = 0;
  let outA = '';
  let outB = '';
  let runA = '';
  let runB = '';
  const close = () => {
    if (runA) outA += `<del>${escapeHtml(runA)}</del>`;
    if (runB) outB += `<ins>${escapeHtml(runB)}</ins>`;
    runA = '';
    runB = '';
  };
  for (const op of ops) {
    if (op === 0) {
      close();
      outA += escapeHtml(ta[ia++]!);
      outB += escapeHtml(tb[ib++]!);
    } else if (op === 1) runA += ta[ia++]!;
    else runB += tb[ib++]!;
  }
  close();
  return [outA, outB];
}
