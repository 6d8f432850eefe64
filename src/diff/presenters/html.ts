/**
 * HTML reports. `renderHtml` gives one self-contained page (inline style and script, nothing
 * fetched) where each difference is a collapsible `<details>` node of a tree. `writeHtmlDir`
 * writes the same tree split into pages for reports too large for one: the index holds the top
 * of the tree, and a node whose contents are large is stored as `pieces/N.js`, loaded with a
 * `<script>` element when the node is first opened (which works from file:// without a server).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../io/atomic-output.js';
import type { Difference } from '../difference.js';
import { headings, title } from './text.js';

const STYLE = `
body { font-family: sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; }
details { margin: 0.2em 0 0.2em 1.2em; border-left: 1px solid #ccc; padding-left: 0.5em; }
summary { cursor: pointer; font-family: monospace; font-weight: bold; padding: 0.1em 0; }
summary .second { color: #555; font-weight: normal; }
.comment { font-style: italic; color: #665; margin: 0.2em 0; }
pre.diff { background: #f8f8f8; border: 1px solid #ddd; padding: 0.4em; overflow-x: auto; margin: 0.3em 0; }
pre.diff span { display: block; }
.del { background: #fdd; color: #900; }
.add { background: #dfd; color: #060; }
.hunk { color: #07a; }
.toolbar button { margin-right: 0.5em; }
.lazy-note { color: #888; }
`;

const SCRIPT = `
function setAll(open) { document.querySelectorAll('details').forEach(function (d) { d.open = open; if (open) loadPiece(d); }); }
function loadPiece(d) {
  var src = d.getAttribute('data-piece');
  if (!src || d.getAttribute('data-loaded')) return;
  d.setAttribute('data-loaded', '1');
  var s = document.createElement('script'); s.src = src; document.body.appendChild(s);
}
function reprimageLoad(id, html) {
  var d = document.getElementById(id);
  if (!d) return;
  d.querySelector('.lazy-body').innerHTML = html;
  d.querySelectorAll('details[data-piece]').forEach(function (c) {
    c.addEventListener('toggle', function () { if (c.open) loadPiece(c); });
    if (location.hash === '#expand-all') { c.open = true; loadPiece(c); }
  });
}
document.querySelectorAll('details[data-piece]').forEach(function (d) { d.addEventListener('toggle', function () { if (d.open) loadPiece(d); }); });
if (location.hash === '#expand-all') setAll(true);
`;

export interface HtmlOptions {
  /** Stop adding nodes once the page reaches this many bytes (single page only). */
  maxReportSize?: number;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function diffBlock(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const spans = lines.map((l) => {
    const cls = l.startsWith('@@') ? 'hunk' : l.startsWith('-') ? 'del' : l.startsWith('+') ? 'add' : '';
    return `<span${cls ? ` class="${cls}"` : ''}>${escape(l) || ' '}</span>`;
  });
  return `<pre class="diff">${spans.join('')}</pre>`;
}

function summary(d: Difference): string {
  const h = headings(d);
  return h.length === 1 ? `<summary>${escape(h[0]!)}</summary>` : `<summary>${escape(h[0]!)} <span class="second">vs ${escape(h[1]!)}</span></summary>`;
}

/** The inside of a node: comments, its diff, then its children. */
function body(d: Difference, renderChild: (c: Difference) => string | undefined): string {
  const parts: string[] = [];
  for (const c of d.comments) parts.push(`<div class="comment">${escape(c)}</div>`);
  if (d.unifiedDiff !== null) parts.push(diffBlock(d.unifiedDiff));
  for (const child of d.details) {
    const html = renderChild(child);
    if (html === undefined) break;
    parts.push(html);
  }
  return parts.join('\n');
}

function page(root: Difference, inner: string): string {
  const heading = `Comparing ${escape(title(root, 1))} and ${escape(title(root, 2))}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>reprimage diff: ${escape(title(root, 1))} vs ${escape(title(root, 2))}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${heading}</h1>
<div class="toolbar"><button type="button" onclick="setAll(true)">expand all</button><button type="button" onclick="setAll(false)">collapse all</button></div>
<div id="tree">
${inner}
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** One self-contained page; nodes open down to the first members. */
export function renderHtml(root: Difference, options: HtmlOptions = {}): string {
  const limit = options.maxReportSize && options.maxReportSize > 0 ? options.maxReportSize : Infinity;
  let size = 0;
  let cut = false;
  const node = (d: Difference, depth: number): string | undefined => {
    if (cut) return undefined;
    const inner = body(d, (c) => node(c, depth + 1));
    size += inner.length;
    if (size > limit) {
      cut = true;
      return `<div class="comment">Report cut at ${limit} bytes (--max-report-size).</div>`;
    }
    return `<details${depth < 3 ? ' open' : ''}>${summary(d)}\n${inner}\n</details>`;
  };
  return page(root, node(root, 0) ?? '');
}

/** Contents larger than this go into a piece of their own in --html-dir output. */
const PIECE_THRESHOLD = 32 * 1024;

/**
 * Writes `dir/index.html` and `dir/pieces/N.js`. Numbering follows the tree's order, so the
 * same Difference tree always gives the same files.
 */
export async function writeHtmlDir(root: Difference, dir: string, _options: HtmlOptions = {}): Promise<void> {
  await mkdir(join(dir, 'pieces'), { recursive: true });
  let next = 0;
  const pieces: Array<[string, string]> = [];
  const node = (d: Difference, depth: number): string => {
    const inner = body(d, (c) => node(c, depth + 1));
    if (depth === 0 || inner.length <= PIECE_THRESHOLD) return `<details${depth < 2 ? ' open' : ''}>${summary(d)}\n${inner}\n</details>`;
    const id = `piece-${++next}`;
    pieces.push([`pieces/${next}.js`, `reprimageLoad(${JSON.stringify(id)}, ${JSON.stringify(inner)});\n`]);
    return `<details id="${id}" data-piece="pieces/${next}.js">${summary(d)}\n<div class="lazy-body"><span class="lazy-note">loading…</span></div>\n</details>`;
  };
  const index = page(root, node(root, 0));
  for (const [name, text] of pieces) await writeText(join(dir, name), text);
  await writeText(join(dir, 'index.html'), index);
}

async function writeText(path: string, text: string): Promise<void> {
  await writeAtomically(path, async (sink) => {
    await sink.write(Buffer.from(text, 'utf8'));
  });
}
