/**
 * Whether an entry of the old tree can stay as it is in the new one: same kind, metadata,
 * extended attributes, link target, device numbers and bytes. Directories compare their own
 * metadata only; their children are compared one by one by the delta.
 */
import type { Content } from '../tree/content.js';
import type { Meta, Node } from '../tree/tree.js';

export function sameMeta(a: Meta, b: Meta): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  if (a.mtime.sec !== b.mtime.sec || a.mtime.nsec !== b.mtime.nsec) return false;
  return sameXattrs(a.xattrs, b.xattrs);
}

export function sameXattrs(a: ReadonlyMap<string, Uint8Array>, b: ReadonlyMap<string, Uint8Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    const other = b.get(key);
    if (other === undefined || Buffer.compare(value, other) !== 0) return false;
  }
  return true;
}

/** Same kind, metadata and kind-specific data; for files also the same bytes (streamed, compared in lockstep). */
export async function sameNode(a: Node, b: Node): Promise<boolean> {
  if (a.kind !== b.kind || !sameMeta(a, b)) return false;
  switch (a.kind) {
    case 'file':
      return sameContent(a.content, (b as typeof a).content);
    case 'symlink':
      return a.target === (b as typeof a).target;
    case 'block':
    case 'char':
      return a.major === (b as typeof a).major && a.minor === (b as typeof a).minor;
    default:
      return true;
  }
}

/**
 * Equal sizes, then equal stored forms (no decompression needed), then the bytes themselves,
 * read from both sides in step so that neither is held whole in memory.
 */
export async function sameContent(a: Content, b: Content): Promise<boolean> {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  if (a.size === 0) return true;
  if (a.stored && b.stored && a.stored.form === b.stored.form && (await sameStream(a.stored.parts(), b.stored.parts()))) return true;
  return sameStream(a.chunks(), b.chunks());
}

async function sameStream(x: AsyncIterable<Uint8Array>, y: AsyncIterable<Uint8Array>): Promise<boolean> {
  const ix = x[Symbol.asyncIterator]();
  const iy = y[Symbol.asyncIterator]();
  let bx: Uint8Array = new Uint8Array(0);
  let by: Uint8Array = new Uint8Array(0);
  let endX = false;
  let endY = false;
  try {
    for (;;) {
      while (bx.length === 0 && !endX) {
        const r = await ix.next();
        if (r.done) endX = true;
        else bx = r.value;
      }
      while (by.length === 0 && !endY) {
        const r = await iy.next();
        if (r.done) endY = true;
        else by = r.value;
      }
      if (bx.length === 0 || by.length === 0) return bx.length === 0 && by.length === 0;
      const n = Math.min(bx.length, by.length);
      if (Buffer.compare(bx.subarray(0, n), by.subarray(0, n)) !== 0) return false;
      bx = bx.subarray(n);
      by = by.subarray(n);
    }
  } finally {
    if (!endX) await ix.return?.();
    if (!endY) await iy.return?.();
  }
}
