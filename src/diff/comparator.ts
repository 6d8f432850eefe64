/**
 * The contract between the diff engine and one format. A comparator recognizes its format from
 * the first bytes (never from a file name) and opens one side as a Container: some decoded
 * structures to compare as text (a superblock, a boot catalog, a gzip header) and the members
 * inside, which the engine pairs by name, compares (metadata, then bytes) and recurses into.
 *
 * A format of the format registry gets one from its registry line (its Tree, or the disk it
 * holds); one with structures of its own worth comparing has a module in comparators/, listed in
 * registry.ts (docs/diff.md, "Adding a format").
 */
import type { Blob } from './blob.js';
import type { MetaField } from './metadata.js';
import type { Content } from '../tree/content.js';

/** Bytes sniffed before choosing a comparator: enough for ISO 9660's descriptor at 32 KiB. */
export const HEAD_SIZE = 64 * 1024;

export interface Comparator {
  /**
   * The format's name, used in comments ("could not read as squashfs: …"). Two sides whose
   * comparators share an id are compared, each opened by its own (a qcow2 and a VHD: `disk`).
   */
  readonly id: string;
  /** Whether the bytes starting with `head` (of `size` bytes in all) are this format. */
  recognizes(head: Uint8Array, size: number): boolean;
  /** Opens one side; throws (any error) when it cannot, and the engine falls back to bytes. */
  open(input: ComparatorInput): Promise<Container>;
}

export interface ComparatorInput {
  /** Local name of the file (a member path, or the argument given). */
  readonly name: string;
  /** Whole path from the outermost file down, for messages. */
  readonly path: string;
  readonly blob: Blob;
  readonly warn: (message: string) => void;
}

export interface Container {
  /** Decoded structures as text, compared line by line under their key (e.g. `superblock`). */
  describe?(): Promise<Record<string, string>>;
  /** The members, each under a name unique within the container. */
  members(): Promise<Member[]>;
  /**
   * The members one at a time, for containers too large to hold as a list (a SquashFS of a
   * whole root file system): in `Tree.walk`'s order (the root `.` first, then depth first,
   * children in bytewise name order). When both sides have it, the engine pairs the two walks
   * as they go and keeps only the members that differ.
   */
  walk?(): AsyncIterable<Member>;
  /**
   * Member names in stored order, when the format has one that matters (tar, cpio, zip). The
   * engine reports a difference in order when both sides hold the same names in another order.
   */
  order?(): Promise<string[]>;
  /** Releases what open() acquired (temporary files, open sources). */
  close(): Promise<void>;
}

export interface Member {
  /** The name shown: a path inside the container. */
  readonly name: string;
  /** The name shown in reports, when not `name`: `./etc/x` for archive members, as diffoscope shows them. */
  readonly label?: string;
  /** What pairs members across the two sides, when not the name (the one stream inside a gzip file). */
  readonly key?: string;
  /**
   * A layer rather than a place: the member's own members keep the container's path (the data
   * inside `a.tar.gz` is reported as `a.tar.gz ▸ etc/x`, not `a.tar.gz ▸ a.tar ▸ etc/x`).
   */
  readonly transparent?: boolean;
  /** Metadata lines (type first); compared line by line. */
  readonly fields: readonly MetaField[];
  /** The bytes, for regular files and other byte-carrying members. */
  readonly content?: Content;
  /** Set for hard links: the name of the first member sharing the content (bytes are compared there). */
  readonly linkTo?: string;
  /** A member that is itself a container without bytes of its own (a cpio segment). */
  readonly container?: () => Promise<Container>;
}
