/**
 * How a layer says "this entry of the layers below is gone" and "ignore what is below this
 * directory", in the two conventions live systems use:
 *
 * - overlayfs (the kernel's, used by live-boot today): a removed entry is a character device
 *   0/0 with the removed entry's name; an opaque directory carries the extended attribute
 *   `trusted.overlay.opaque` = `y` (Documentation/filesystems/overlayfs.rst).
 * - aufs (what Tails' kits used first): a removed entry `x` is an empty file `.wh.x` beside it;
 *   an opaque directory holds an empty file `.wh..wh..opq`.
 */
import { emptyContent } from '../tree/content.js';
import type { Node, Time } from '../tree/tree.js';

export type WhiteoutStyle = 'overlay' | 'aufs';
export const WHITEOUT_STYLES: readonly WhiteoutStyle[] = ['overlay', 'aufs'];

export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
/** The same marker when overlayfs is mounted with `userxattr` (read, never written). */
const OVERLAY_USER_OPAQUE_XATTR = 'user.overlay.opaque';
export const AUFS_PREFIX = '.wh.';
export const AUFS_OPAQUE = '.wh..wh..opq';
/** aufs' own bookkeeping names (`.wh..wh.aufs`, `.wh..wh.plnk`, …) carry nothing to apply. */
const AUFS_META_PREFIX = '.wh..wh.';

/** The whiteout entry for a removed entry, and the name it goes under. */
export function whiteoutFor(name: string, style: WhiteoutStyle, time: Time): { name: string; node: Node } {
  const meta = { uid: 0, gid: 0, mtime: { ...time }, xattrs: new Map<string, Uint8Array>() };
  if (style === 'overlay') return { name, node: { kind: 'char', mode: 0, major: 0, minor: 0, ...meta } };
  return { name: AUFS_PREFIX + name, node: { kind: 'file', mode: 0o444, content: emptyContent, ...meta } };
}

/** The marker entry that makes a directory opaque in aufs (overlayfs uses an xattr instead). */
export function aufsOpaqueMarker(time: Time): Node {
  return { kind: 'file', mode: 0o444, content: emptyContent, uid: 0, gid: 0, mtime: { ...time }, xattrs: new Map() };
}

export const OPAQUE_VALUE = new Uint8Array([0x79]); // "y"

/** What one entry of an upper layer means for the merged view. */
export type LayerEntry =
  | { role: 'whiteout'; target: string }
  | { role: 'opaque-marker' }
  | { role: 'ignored' }
  | { role: 'entry'; name: string };

export function classifyEntry(name: string, node: Node, style: WhiteoutStyle): LayerEntry {
  if (style === 'overlay') {
    if (node.kind === 'char' && node.major === 0 && node.minor === 0) return { role: 'whiteout', target: name };
    return { role: 'entry', name };
  }
  if (name === AUFS_OPAQUE) return { role: 'opaque-marker' };
  if (name.startsWith(AUFS_META_PREFIX)) return { role: 'ignored' };
  if (name.startsWith(AUFS_PREFIX)) return { role: 'whiteout', target: name.slice(AUFS_PREFIX.length) };
  return { role: 'entry', name };
}

/** Whether an overlayfs directory hides the lower layers' contents. */
export function hasOpaqueXattr(node: Node): boolean {
  for (const key of [OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR]) {
    const v = node.xattrs.get(key);
    if (v !== undefined && v.length === 1 && v[0] === OPAQUE_VALUE[0]) return true;
  }
  return false;
}

/** The directory's xattrs without overlayfs' own markers, as the merged view shows them. */
export function withoutOverlayXattrs(xattrs: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of xattrs) if (!k.startsWith('trusted.overlay.') && !k.startsWith('user.overlay.')) out.set(k, v);
  return out;
}
