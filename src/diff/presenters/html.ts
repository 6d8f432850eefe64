/**
 * HTML reports. `renderHtml` gives one self-contained page (inline style and script, nothing
 * fetched, readable without JavaScript): the summary and counts first, with links to the largest
 * changes; then the tree of differences as `<details>` nodes, differences in content open and
 * metadata (file lists, metadata, binary tool views) folded; each diff both side by side, with
 * the changed words highlighted, and unified, one of the two shown as chosen by a CSS-only
 * switch. `writeHtmlDir` writes the same tree split into pages for reports too large for one:
 * the index holds the top of the tree, and a node whose contents are large is stored as
 * `pieces/N.js`, loaded with a `<script>` element when the node is first opened (which works
 * from file:// without a server).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../io/atomic-output.js';
import type { Difference } from '../difference.js';
import { changeLine, summarize, type DiffSummary } from '../summary.js';
import { escapeHtml as escape, sideBySideHtml, unifiedHtml } from './html-diff.js';
import { headings, title } from './text.js';

const STYLE = `
body { font-family: sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; margin-bottom: 0.4em; }
#summary { border: 1px solid #ccd; background: #f6f7fb; padding: 0.5em 1em; margin-bottom: 0.8em; }
#summary table.counts { border-collapse: collapse; margin: 0.3em 0; }
#summary table.counts td { padding: 0.1em 1em 0.1em 0; }
#summary table.counts td.n { text-align: right; font-weight: bold; }
#summary ol { margin: 0.3em 0; padding-left: 1.5em; font-family: monospace; }
#summary .size { color: #555; font-family: sans-serif; font-size: 0.9em; }
.toolbar { margin: 0.3em 0 0.6em; font-size: 0.9em; }
.toolbar label { margin-right: 1em; }
.toolbar button { margin-left: 0.5em; }
details { margin: 0.2em 0 0.2em 1.2em; border-left: 1px solid #ccc; padding-left: 0.5em; }
#tree > details { margin-left: 0; }
summary { cursor: pointer; font-family: monospace; font-weight: bold; padding: 0.1em 0; }
summary .second { color: #555; font-weight: normal; }
summary .size, summary .kind { font-family: sans-serif; font-weight: normal; font-size: 0.85em; color: #555; margin-left: 0.6em; }
summary .kind.added { color: #060; }
summary .kind.removed { color: #900; }
details.meta > summary { color: #666; font-weight: normal; }
.comment { font-style: italic; color: #665; margin: 0.2em 0; }
.diff { background: #f8f8f8; border: 1px solid #ddd; margin: 0.3em 0; font-family: monospace; font-size: 0.9em; }
pre.diff { padding: 0.4em; overflow-x: auto; }
pre.diff span { display: block; }
table.sbs { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.sbs col.ln { width: 3.5em; }
table.sbs td { white-space: pre-wrap; word-break: break-all; vertical-align: top; padding: 0 0.3em; }
table.sbs td.ln { color: #999; text-align: right; user-select: none; }
table.sbs tr.hunk td { color: #07a; background: #eef4f8; }
table.sbs td.gap { background: #eee; }
.del { background: #fdd; color: #900; }
.add { background: #dfd; color: #060; }
del { background: #f99; text-decoration: none; }
ins { background: #8e8; text-decoration: none; }
.hunk { color: #07a; }
#view-uni:checked ~ #tree .sbs, #view-sbs:checked ~ #tree .uni { display: none; }
.toolbar label { cursor: pointer; color: #07a; }
#view-sbs:checked ~ .toolbar label[for=view-sbs], #view-uni:checked ~ .toolbar label[for=view-uni] { font-weight: bold; color: #222; }
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

/** Aspects that describe metadata rather than contents: folded at first sight. */
const METADATA_ASPECTS = new Set(['metadata', 'file list', 'member order']);

/** Whether a node is folded when the page opens: metadata, and the tool views of binaries. */
function folded(d: Difference): boolean {
  return METADATA_ASPECTS.has(d.source1) || d.source1.endsWith(' {}') || d.source1 === 'filetype from file(1)';
}

/** Anchors follow the tree's order, so the same difference always gets the same id. */
function numberNodes(root: Difference): Map<Difference, number> {
  const ids = new Map<Difference, number>();
  const visit = (d: Difference) => {
    ids.set(d, ids.size);
    d.details.forEach(visit);
  };
  visit(root);
  return ids;
}

function sizeText(d: Difference): string {
  const e = d.entry;
  if (!e) return '';
  const kind = e.kind === 'added' || e.kind === 'removed' ? `<span class="kind ${e.kind}">${e.kind}</span>` : '';
  const a = e.size1;
  const b = e.size2;
  const size = a !== undefined && b !== undefined ? (a === b ? `${a} bytes` : `${a} → ${b} bytes`) : a !== undefined || b !== undefined ? `${a ?? b} bytes` : '';
  return `${kind}${size ? `<span class="size">${size}</span>` : ''}`;
}

function summaryTag(d: Difference): string {
  const h = headings(d);
  const full = d.path1 ?? d.path2;
  const titleAttr = full ? ` title="${escape(full)}"` : '';
  const name = h.length === 1 ? escape(h[0]!) : `${escape(h[0]!)} <span class="second">vs ${escape(h[1]!)}</span>`;
  return `<summary${titleAttr}>${name}${sizeText(d)}</summary>`;
}

/** The inside of a node: comments, its diff in both views, then its children. */
function body(d: Difference, renderChild: (c: Difference) => string | undefined): string {
  const parts: string[] = [];
  for (const c of d.comments) parts.push(`<div class="comment">${escape(c)}</div>`);
  if (d.unifiedDiff !== null) parts.push(sideBySideHtml(d.unifiedDiff), unifiedHtml(d.unifiedDiff));
  for (const child of d.details) {
    const html = renderChild(child);
    if (html === undefined) break;
    parts.push(html);
  }
  return parts.join('\n');
}

function detailsTag(d: Difference, id: number, depth: number, extra = ''): string {
  const open = depth === 0 || !folded(d);
  const cls = folded(d) ? ' class="meta"' : '';
  return `<details id="d-${id}"${cls}${open ? ' open' : ''}${extra}>`;
}

function summarySection(s: DiffSummary, ids: Map<Difference, number>): string {
  const fields = Object.entries(s.metadataFields)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([f, n]) => `${escape(f)} ${n}`)
    .join(', ');
  const rows: Array<[string, number, string]> = [
    ['added', s.added, ''],
    ['removed', s.removed, ''],
    ['changed in content', s.content, ''],
    ['changed in metadata only', s.metadataOnly, fields ? `(${fields})` : ''],
  ];
  const counts = rows.map(([label, n, more]) => `<tr><td class="n">${n}</td><td>${label} ${more}</td></tr>`).join('');
  const largest = s.largest.map((c) => `<li><a href="#d-${ids.get(c.node)}">${escape(c.path)}</a> <span class="size">${escape(changeLine(c))}</span></li>`).join('');
  return `<section id="summary"><strong>Summary</strong><table class="counts">${counts}</table>${largest ? `<div>Largest changes first:</div><ol>${largest}</ol>` : ''}</section>`;
}

function page(root: Difference, inner: string, ids: Map<Difference, number>): string {
  const heading = `Comparing ${escape(title(root, 1))} and ${escape(title(root, 2))}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reprimage diff: ${escape(title(root, 1))} vs ${escape(title(root, 2))}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${heading}</h1>
${summarySection(summarize(root), ids)}
<input type="radio" name="view" id="view-sbs" checked hidden><input type="radio" name="view" id="view-uni" hidden>
<div class="toolbar">view: <label for="view-sbs">▣ side by side</label><label for="view-uni">☰ unified</label><button type="button" onclick="setAll(true)">expand all</button><button type="button" onclick="setAll(false)">collapse all</button></div>
<div id="tree">
${inner}
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** One self-contained page. */
export function renderHtml(root: Difference, options: HtmlOptions = {}): string {
  const limit = options.maxReportSize && options.maxReportSize > 0 ? options.maxReportSize : Infinity;
  const ids = numberNodes(root);
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
    return `${detailsTag(d, ids.get(d)!, depth)}${summaryTag(d)}\n${inner}\n</details>`;
  };
  return page(root, node(root, 0) ?? '', ids);
}

/** Contents larger than this go into a piece of their own in --html-dir output. */
const PIECE_THRESHOLD = 32 * 1024;

/**
 * Writes `dir/index.html` and `dir/pieces/N.js`. Numbering follows the tree's order, so the
 * same Difference tree always gives the same files.
 */
export async function writeHtmlDir(root: Difference, dir: string, _options: HtmlOptions = {}): Promise<void> {
  await mkdir(join(dir, 'pieces'), { recursive: true });
  const ids = numberNodes(root);
  let next = 0;
  const pieces: Array<[string, string]> = [];
  const node = (d: Difference, depth: number): string => {
    const inner = body(d, (c) => node(c, depth + 1));
    if (depth === 0 || inner.length <= PIECE_THRESHOLD) return `${detailsTag(d, ids.get(d)!, depth)}${summaryTag(d)}\n${inner}\n</details>`;
    const piece = ++next;
    pieces.push([`pieces/${piece}.js`, `reprimageLoad(${JSON.stringify(`d-${ids.get(d)}`)}, ${JSON.stringify(inner)});\n`]);
    // a piece loads when opened: large nodes start folded, whatever their kind
    return `<details id="d-${ids.get(d)}" data-piece="pieces/${piece}.js">${summaryTag(d)}\n<div class="lazy-body"><span class="lazy-note">loading…</span></div>\n</details>`;
  };
  const index = page(root, node(root, 0), ids);
  for (const [name, text] of pieces) await writeText(join(dir, name), text);
  await writeText(join(dir, 'index.html'), index);
}

async function writeText(path: string, text: string): Promise<void> {
  await writeAtomically(path, async (sink) => {
    await sink.write(Buffer.from(text, 'utf8'));
  });
}
