/**
 * The module caches GLib, GTK and shared-mime-info tools write (gdk-pixbuf `loaders.cache`,
 * GTK `immodules.cache`, GIO `giomodule.cache`, `mimeinfo.cache`) list one record per module
 * or type in the order the tool met them. Current tools sort that order themselves, older ones
 * took it from readdir(3) or a hash table, so the same packages can give records in another
 * order. Nothing reads meaning into the order of records, so writing them in bytewise order
 * gives what a clean run of a sorting tool gives, whatever the tool did. The text inside each
 * record (including the order of a type's applications in `mimeinfo.cache`, which is a
 * preference) is never touched.
 */
import type { Tree } from '../../tree/tree.js';
import { readText, setText, type Fixup, type FixupId } from './fixup.js';

/** Bytewise order of two latin1 strings (one character per byte). */
export function compareBytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Blank-line separated records after a header of `#` comment lines (loaders.cache,
 * immodules.cache): records sorted; the header, the separator between records and whatever
 * follows the last record are kept as the tool wrote them. Returns the text unchanged when it
 * is already in order.
 */
export function sortBlankLineRecords(text: string): string {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('#')) i++;
  const header = lines.slice(0, i).map((h) => `${h}\n`).join('');
  const body = text.slice(header.length);
  const trailing = /\n*$/.exec(body)![0];
  const core = body.slice(0, body.length - trailing.length);
  const separator = /\n\n+/.exec(core)?.[0] ?? '\n\n';
  const records = core === '' ? [] : core.split(/\n\n+/);
  const sorted = [...records].sort(compareBytewise);
  if (sorted.every((r, k) => r === records[k])) return text;
  return header + sorted.join(separator) + trailing;
}

/**
 * One record per line (giomodule.cache; mimeinfo.cache after its `[Section]` lines): the lines
 * of each section sorted, section headers and comments kept in place.
 */
export function sortLineRecords(text: string): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    out.push(...run.sort(compareBytewise));
    run = [];
  };
  for (const line of lines) {
    if (line.startsWith('[') || line.startsWith('#') || line === '') {
      flush();
      out.push(line);
    } else run.push(line);
  }
  flush();
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

/** A fix-up that sorts the records of every file whose path matches `where`. */
export function sortedCacheFixup(id: FixupId, summary: string, where: RegExp, sort: (text: string) => string): Fixup {
  return {
    id,
    summary,
    async apply(ctx) {
      for (const { path, node } of matching(ctx.tree, where)) {
        const before = await readText(node);
        const after = sort(before);
        if (after === before) continue;
        setText(node, after, node.content.origin);
        ctx.record(path, 'rewritten', 'records sorted');
      }
    },
  };
}

function matching(tree: Tree, where: RegExp) {
  const out = [];
  for (const { path, node, linkTo } of tree.walk()) if (node.kind === 'file' && linkTo === undefined && where.test(path)) out.push({ path, node });
  return out;
}
