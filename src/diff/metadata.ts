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

/**
 * The time in UTC ISO 8601 with its epoch seconds: `2024-01-31T12:00:00Z (@1706702400)`; the
 * nanoseconds show when not zero (`…12:00:00.000000500Z (@1706702400.000000500)`).
 */
export function formatTime(t: Time): string {
  const ms = t.sec * 1000;
  const frac = t.nsec ? `.${String(t.nsec).padStart(9, '0')}` : '';
  const iso = Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? `${new Date(ms).toISOString().slice(0, 19)}${frac}Z` : '(out of range)';
  return `${iso} (@${t.sec}${frac})`;
}

const TYPE_CHARS: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };
const S_IFMT_CHARS: Record<number, string> = { 0o100000: '-', 0o040000: 'd', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };

/**
 * A mode as `ls -l` shows it, with its permission bits in octal: `-rw-r--r-- (0644)`. The type
 * comes from `kind` (a Tree node kind) or else from the S_IFMT bits of `mode` (ar, zip, cpio).
 */
export function formatMode(mode: number, kind?: string): string {
  const type = (kind !== undefined ? TYPE_CHARS[kind] : S_IFMT_CHARS[mode & 0o170000]) ?? '?';
  const bit = (mask: number, c: string) => (mode & mask ? c : '-');
  // setuid, setgid, sticky: shown in the execute column, lower case when executable too
  const special = (x: number, mask: number, on: string, off: string) => (mode & mask ? (mode & x ? on : off) : bit(x, 'x'));
  const perms =
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T');
  return `${type}${perms} (${(mode & 0o7777).toString(8).padStart(4, '0')})`;
}

/** An all-ones 64-bit field (SquashFS's SQUASHFS_INVALID_TABLE and the like) means "none". */
export const NONE_64 = 0xffffffffffffffffn;

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
  f.push({ key: 'mode', value: formatMode(node.mode, node.kind), class: 'mode' });
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
