/**
 * The `file list` of a container, as diffoscope shows it: one `ls -l`-like line per member
 * (`-rw-r--r-- 0/0      562 2025-04-05T05:36:55Z ./control`), both sides diffed. Differences
 * of metadata only are reported there and counted ("17 entries differ only in mtime") rather
 * than as one node per member, so two archives that differ in every mtime stay readable.
 */
import type { MetaField, MetadataClass } from './metadata.js';

/** Classes a listing line shows; the others (xattrs, format-specific fields) get a `metadata` node. */
export const LISTED_CLASSES: ReadonlySet<MetadataClass> = new Set(['type', 'mode', 'owner', 'mtime', 'size', 'target', 'device', 'links']);

/** One `ls -l`-like line of a member; columns of excluded classes are left out. */
export function listingLine(fields: readonly MetaField[], label: string, exclude: ReadonlySet<MetadataClass>): string {
  const get = (key: string, cls: MetadataClass) => (exclude.has(cls) ? undefined : fields.find((f) => f.key === key)?.value);
  const cols: string[] = [];
  if (!exclude.has('mode')) cols.push(firstWord(get('mode', 'mode')) ?? modeless(get('type', 'type')));
  if (!exclude.has('owner')) cols.push(`${get('uid', 'owner') ?? '-'}/${get('gid', 'owner') ?? '-'}`);
  if (!exclude.has('size') || !exclude.has('device')) cols.push((get('device', 'device') ?? get('size', 'size') ?? '-').padStart(10));
  if (!exclude.has('mtime')) cols.push(firstWord(get('mtime', 'mtime') ?? get('DOS time', 'mtime')) ?? '-');
  let line = `${cols.join(' ')} ${label}`.trimStart();
  const target = get('link target', 'target');
  if (target !== undefined) line += ` -> ${target}`;
  const link = get('hard link to', 'links');
  if (link !== undefined) line += ` link to ${link}`;
  return line;
}

function firstWord(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.split(' ')[0];
}

/** Members without a mode (a partition, a cpio segment): a type letter and dashes. */
function modeless(type: string | undefined): string {
  return type === 'dir' ? 'd---------' : '----------';
}

/** Metadata classes whose lines differ between two members' fields. */
export function changedClasses(a: readonly MetaField[], b: readonly MetaField[], exclude: ReadonlySet<MetadataClass>): MetadataClass[] {
  const byClass = (fields: readonly MetaField[]) => {
    const m = new Map<MetadataClass, string[]>();
    for (const f of fields) if (!exclude.has(f.class)) m.set(f.class, [...(m.get(f.class) ?? []), `${f.key}: ${f.value}`]);
    return m;
  };
  const ma = byClass(a);
  const mb = byClass(b);
  const out: MetadataClass[] = [];
  for (const cls of new Set([...ma.keys(), ...mb.keys()])) {
    if ((ma.get(cls) ?? []).join('\n') !== (mb.get(cls) ?? []).join('\n')) out.push(cls);
  }
  return out.sort();
}

/** "17 entries differ only in mtime", one line per set of fields, the most frequent first. */
export function aggregateComments(sets: ReadonlyArray<readonly string[]>): string[] {
  const counts = new Map<string, number>();
  for (const s of sets) counts.set(s.join(', '), (counts.get(s.join(', ')) ?? 0) + 1);
  return [...counts]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map(([fields, n]) => `${n} ${n === 1 ? 'entry differs' : 'entries differ'} only in ${fields}`);
}
