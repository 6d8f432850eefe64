/**
 * Metadata of a member as `key: value` lines, the form the differ compares and prints. Each
 * line belongs to a class that `--exclude-metadata` can leave out. Times print in UTC with
 * their nanoseconds, so the report never depends on the time zone of the machine that runs it.
 */
import { ReprimageError } from '../errors.js';
import { compareNames } from '../tree/names.js';
import type { Node, Time } from '../tree/tree.js';

export const METADATA_CLASSES = ['type', 'mode', 'owner', 'mtime', 'xattrs', 'target', 'device', 'size', 'links', 'format'] as const;
/** What `--exclude-metadata` names: `owner` covers uid and gid, `format` the fields only one format has. */
export type MetadataClass = (typeof METADATA_CLASSES)[number];

export interface MetaField {
  key: string;
  value: string;
  class: MetadataClass;
}

/** Parses `mtime,owner` (aliases: `uid`, `gid` → owner; `time`, `times` → mtime; `xattr` → xattrs). */
export function parseMetadataClasses(list: string, subject = '--exclude-metadata'): Set<MetadataClass> {
  const aliases: Record<string, MetadataClass> = { uid: 'owner', gid: 'owner', time: 'mtime', times: 'mtime', xattr: 'xattrs', link: 'target', links: 'links', permissions: 'mode' };
  const out = new Set<MetadataClass>();
  for (const raw of list.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const cls = (METADATA_CLASSES as readonly string[]).includes(raw) ? (raw as MetadataClass) : aliases[raw];
    if (cls === undefined) throw new ReprimageError('USAGE', subject, `unknown metadata '${raw}' (expected ${METADATA_CLASSES.join(', ')})`);
    out.add(cls);
  }
  return out;
}

/** The time as `2024-01-31 12:00:00.000000000 UTC (@1706702400)`. */
export function formatTime(t: Time): string {
  const ms = t.sec * 1000;
  const iso = Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '(out of range)';
  return `${iso}.${String(t.nsec).padStart(9, '0')} UTC (@${t.sec}${t.nsec ? `.${String(t.nsec).padStart(9, '0')}` : ''})`;
}

/** A value shown as text when it is printable UTF-8, else as hex. */
export function formatValue(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (!text.includes('\uFFFD') && !/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) return JSON.stringify(text);
  return `0x${Buffer.from(bytes).toString('hex')}`;
}

/** The metadata lines of a Tree node, in a fixed order. `linkTo`: the first path of a hard link. */
export function nodeFields(node: Node, linkTo?: string): MetaField[] {
  const f: MetaField[] = [{ key: 'type', value: node.kind, class: 'type' }];
  if (linkTo !== undefined) f.push({ key: 'hard link to', value: linkTo, class: 'links' });
  f.push({ key: 'mode', value: node.mode.toString(8).padStart(4, '0'), class: 'mode' });
  f.push({ key: 'uid', value: String(node.uid), class: 'owner' }, { key: 'gid', value: String(node.gid), class: 'owner' });
  f.push({ key: 'mtime', value: formatTime(node.mtime), class: 'mtime' });
  if (node.kind === 'file') f.push({ key: 'size', value: String(node.content.size), class: 'size' });
  if (node.kind === 'symlink') f.push({ key: 'link target', value: node.target, class: 'target' });
  if (node.kind === 'char' || node.kind === 'block') f.push({ key: 'device', value: `${node.major},${node.minor}`, class: 'device' });
  for (const name of [...node.xattrs.keys()].sort(compareNames)) {
    f.push({ key: `xattr ${name}`, value: formatValue(node.xattrs.get(name)!), class: 'xattrs' });
  }
  return f;
}

/** The lines compared, with the excluded classes left out. */
export function fieldLines(fields: readonly MetaField[], exclude: ReadonlySet<MetadataClass>): string[] {
  return fields.filter((f) => !exclude.has(f.class)).map((f) => `${f.key}: ${f.value}`);
}
