/**
 * Members of any format that reads into a Tree (directory, tar, cpio, SquashFS, ISO 9660, FAT):
 * one member per path, with the node's metadata as fields and its contents as bytes.
 */
import type { Container, Member } from '../comparator.js';
import { NONE_64, nodeFields, type MetaField } from '../metadata.js';
import type { Node, Tree, WalkEntry } from '../../tree/tree.js';
import type { Content } from '../../tree/content.js';

/**
 * The root is listed as `.` when `root` is true (archives record it; a top-level directory's own
 * times are noise); then members are labelled `./path`, as diffoscope names archive members.
 */
export function treeMembers(tree: Tree, options: { root?: boolean } = {}): Member[] {
  const out: Member[] = [];
  for (const entry of tree.walk()) {
    if (entry.path === '' && !options.root) continue;
    out.push(treeMember(entry, options.root ?? false));
  }
  return out;
}

/** The member of one visit of a walk; `label` as `treeMembers` gives it. */
export function treeMember({ path, node, linkTo }: WalkEntry, labelled: boolean): Member {
  return new TreeMember(path, node, linkTo, labelled);
}

/** A member standing for a Tree node (a class, not a literal: a walk makes tens of thousands). */
class TreeMember implements Member {
  #fields: MetaField[] | undefined;

  constructor(
    readonly path: string,
    readonly node: Node,
    readonly linkTo: string | undefined,
    readonly labelled: boolean,
  ) {}

  get name(): string {
    return this.path === '' ? '.' : this.path;
  }

  get label(): string | undefined {
    return this.labelled ? `./${this.path}` : undefined;
  }

  // formatted when first asked for: most members of two similar trees never need it
  get fields(): MetaField[] {
    this.#fields ??= nodeFields(this.node, this.linkTo);
    return this.#fields;
  }

  get content(): Content | undefined {
    return this.node.kind === 'file' ? this.node.content : undefined;
  }
}

/**
 * True when two members of trees have the same metadata (so the same `fields`), found without
 * formatting any line; false when they differ or either is not a tree member.
 */
export function sameTreeMetadata(a: Member, b: Member): boolean {
  if (!(a instanceof TreeMember) || !(b instanceof TreeMember) || a.linkTo !== b.linkTo) return false;
  const n = a.node;
  const m = b.node;
  if (n.kind !== m.kind || n.mode !== m.mode || n.uid !== m.uid || n.gid !== m.gid || n.mtime.sec !== m.mtime.sec || n.mtime.nsec !== m.mtime.nsec) return false;
  if (n.kind === 'file' && m.kind === 'file' && n.content.size !== m.content.size) return false;
  if (n.kind === 'symlink' && m.kind === 'symlink' && n.target !== m.target) return false;
  if ((n.kind === 'block' || n.kind === 'char') && (m.kind === 'block' || m.kind === 'char') && (n.major !== m.major || n.minor !== m.minor)) return false;
  if (n.xattrs.size !== m.xattrs.size) return false;
  for (const [k, v] of n.xattrs) {
    const w = m.xattrs.get(k);
    if (!w || Buffer.compare(v, w) !== 0) return false;
  }
  return true;
}

/** A container over a Tree, with optional described structures and a close action. */
export function treeContainer(
  tree: Tree,
  extra: { describe?: () => Promise<Record<string, string>>; order?: () => Promise<string[]>; close?: () => Promise<void>; root?: boolean } = {},
): Container {
  return {
    describe: extra.describe,
    order: extra.order,
    members: async () => treeMembers(tree, { root: extra.root ?? true }),
    close: extra.close ?? (async () => undefined),
  };
}

/**
 * `key: value` lines of a flat record, in the record's key order. Bigints and arrays print
 * plainly; an all-ones 64-bit value (a table that is not there) prints as `none`.
 */
export function describeFields(record: object): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    if (value === NONE_64) lines.push(`${key}: none`);
    else if (value instanceof Uint8Array) lines.push(`${key}: ${Buffer.from(value).toString('hex')}`);
    else if (typeof value === 'object' && value !== null) lines.push(`${key}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    else lines.push(`${key}: ${String(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
