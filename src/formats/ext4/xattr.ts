/**
 * Extended attributes as ext4 stores them: a name index (the prefix) and the rest of the name,
 * sorted as the kernel searches them (index, name length, name bytes); POSIX ACLs converted
 * from the xattr form (version 2) to the ext4 form (version 1, short entries without an id).
 * As many attributes as fit go into the inode's spare bytes; the rest into one xattr block.
 */
import { ReprimageError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import { nameBytes } from '../../tree/names.js';
import {
  ACL_TAG, EXT4_ACL_VERSION, POSIX_ACL_XATTR_VERSION, XATTR_BLOCK_HEADER, XATTR_BLOCK_HEADER_SIZE, XATTR_ENTRY,
  XATTR_IBODY_HEADER_SIZE, XATTR_INDEX_ACL_ACCESS, XATTR_INDEX_ACL_DEFAULT, XATTR_MAGIC, XATTR_PREFIXES,
  putU16, putU32, putU64, xattrEntrySize, xattrValueSize,
} from './layout.js';

export interface XattrEntry {
  index: number;
  /** The name without its prefix (empty for ACLs). */
  name: Uint8Array;
  value: Uint8Array;
}

/** Where a node's attributes go. */
export interface XattrPlan {
  inInode: XattrEntry[];
  inBlock: XattrEntry[];
}

// xattr names are bytes like file names (names.ts)

/** Converts a `system.posix_acl_*` value (xattr form, version 2) to the ext4 on-disk form. */
export function aclToExt4(value: Uint8Array, subject: string): Uint8Array {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || view.getUint32(0, true) !== POSIX_ACL_XATTR_VERSION) {
    throw new ReprimageError('CORRUPT_IMAGE', subject, 'a POSIX ACL attribute is not in the version 2 xattr form');
  }
  const out = new Uint8Array(4 + (value.length - 4));
  putU32(out, 0, EXT4_ACL_VERSION);
  let at = 4;
  for (let i = 4; i < value.length; i += 8) {
    const tag = view.getUint16(i, true);
    const perm = view.getUint16(i + 2, true);
    putU16(out, at, tag);
    putU16(out, at + 2, perm);
    if (tag === ACL_TAG.user || tag === ACL_TAG.group) {
      putU32(out, at + 4, view.getUint32(i + 4, true));
      at += 8;
    } else if (tag === ACL_TAG.userObj || tag === ACL_TAG.groupObj || tag === ACL_TAG.mask || tag === ACL_TAG.other) {
      at += 4;
    } else {
      throw new ReprimageError('CORRUPT_IMAGE', subject, `a POSIX ACL has an unknown tag 0x${tag.toString(16)}`);
    }
  }
  return out.slice(0, at);
}

/** The entries of one node's attributes, in the order ext4 keeps them. */
export function xattrEntries(xattrs: ReadonlyMap<string, Uint8Array>, subject: string): XattrEntry[] {
  const out: XattrEntry[] = [];
  for (const [full, value] of xattrs) {
    const match = XATTR_PREFIXES.find(([index, prefix]) => (index === XATTR_INDEX_ACL_ACCESS || index === XATTR_INDEX_ACL_DEFAULT ? full === prefix : full.startsWith(prefix)));
    if (!match) throw new ReprimageError('UNSUPPORTED', subject, `ext4 cannot store the extended attribute '${full}' (unknown namespace)`);
    const [index, prefix] = match;
    const name = nameBytes(full.slice(prefix.length));
    if (name.length > 255) throw new ReprimageError('UNSUPPORTED', subject, `the extended attribute name '${full}' is longer than 255 bytes`);
    const isAcl = index === XATTR_INDEX_ACL_ACCESS || index === XATTR_INDEX_ACL_DEFAULT;
    out.push({ index, name, value: isAcl ? aclToExt4(value, `${subject}: ${full}`) : value });
  }
  out.sort(compareEntries);
  return out;
}

function compareEntries(a: XattrEntry, b: XattrEntry): number {
  if (a.index !== b.index) return a.index - b.index;
  if (a.name.length !== b.name.length) return a.name.length - b.name.length;
  for (let i = 0; i < a.name.length; i++) if (a.name[i] !== b.name[i]) return a.name[i]! - b.name[i]!;
  return 0;
}

function entryCost(e: XattrEntry): number {
  return xattrEntrySize(e.name.length) + xattrValueSize(e.value.length);
}

/**
 * Splits entries between the inode (`ibodySize` spare bytes after i_extra_isize) and a block:
 * in order, each entry goes into the inode while it fits, the rest into the block. Fails when
 * the block cannot hold its share.
 */
export function planXattrs(entries: XattrEntry[], ibodySize: number, blockSize: number, subject: string): XattrPlan {
  const inInode: XattrEntry[] = [];
  const inBlock: XattrEntry[] = [];
  let free = ibodySize - XATTR_IBODY_HEADER_SIZE - 4;
  for (const e of entries) {
    const cost = entryCost(e);
    if (inBlock.length === 0 && cost <= free) {
      inInode.push(e);
      free -= cost;
    } else {
      inBlock.push(e);
    }
  }
  const blockNeed = XATTR_BLOCK_HEADER_SIZE + 4 + inBlock.reduce((n, e) => n + entryCost(e), 0);
  if (inBlock.length > 0 && blockNeed > blockSize) {
    throw new ReprimageError('UNSUPPORTED', subject, `extended attributes need ${blockNeed} bytes, more than one ${blockSize}-byte xattr block`);
  }
  return { inInode, inBlock };
}

/** The hash of one entry as e2fsck checks it: name bytes, then the value's 32-bit words. */
export function xattrEntryHash(e: XattrEntry): number {
  let hash = 0;
  for (const c of e.name) hash = ((hash << 5) ^ (hash >>> 27) ^ c) >>> 0;
  const padded = new Uint8Array(xattrValueSize(e.value.length));
  padded.set(e.value);
  for (let i = 0; i < padded.length; i += 4) {
    const w = (padded[i]! | (padded[i + 1]! << 8) | (padded[i + 2]! << 16) | (padded[i + 3]! << 24)) >>> 0;
    hash = ((hash << 16) ^ (hash >>> 16) ^ w) >>> 0;
  }
  return hash;
}

/**
 * Writes entries into `area`: entries from `entriesAt` upward, values from the end downward.
 * Value offsets count from `offsetBase`. Returns the entry hashes.
 */
function fillArea(area: Uint8Array, entriesAt: number, offsetBase: number, entries: XattrEntry[]): number[] {
  let at = entriesAt;
  let valueEnd = area.length;
  const hashes: number[] = [];
  for (const e of entries) {
    let offs = 0;
    if (e.value.length > 0) {
      valueEnd -= xattrValueSize(e.value.length);
      area.set(e.value, valueEnd);
      offs = valueEnd - offsetBase;
    }
    const hash = xattrEntryHash(e);
    hashes.push(hash);
    area[at + XATTR_ENTRY.nameLen] = e.name.length;
    area[at + XATTR_ENTRY.nameIndex] = e.index;
    putU16(area, at + XATTR_ENTRY.valueOffs, offs);
    putU32(area, at + XATTR_ENTRY.valueInum, 0);
    putU32(area, at + XATTR_ENTRY.valueSize, e.value.length);
    putU32(area, at + XATTR_ENTRY.hash, hash);
    area.set(e.name, at + XATTR_ENTRY.name);
    at += xattrEntrySize(e.name.length);
  }
  return hashes;
}

/** The bytes after i_extra_isize (`ibodySize` of them) holding in-inode attributes. */
export function encodeXattrIbody(entries: XattrEntry[], ibodySize: number): Uint8Array {
  const area = new Uint8Array(ibodySize);
  if (entries.length === 0) return area;
  putU32(area, 0, XATTR_MAGIC);
  fillArea(area, XATTR_IBODY_HEADER_SIZE, XATTR_IBODY_HEADER_SIZE, entries);
  return area;
}

/** One xattr block (refcount 1) at block number `blockNr`, with its checksum when `csumSeed` is given. */
export function encodeXattrBlock(entries: XattrEntry[], blockSize: number, blockNr: number, csumSeed: number | undefined): Uint8Array {
  const block = new Uint8Array(blockSize);
  putU32(block, XATTR_BLOCK_HEADER.magic, XATTR_MAGIC);
  putU32(block, XATTR_BLOCK_HEADER.refcount, 1);
  putU32(block, XATTR_BLOCK_HEADER.blocks, 1);
  const hashes = fillArea(block, XATTR_BLOCK_HEADER_SIZE, 0, entries);
  let blockHash = 0;
  for (const h of hashes) {
    if (h === 0) {
      blockHash = 0;
      break;
    }
    blockHash = ((blockHash << 16) ^ (blockHash >>> 16) ^ h) >>> 0;
  }
  putU32(block, XATTR_BLOCK_HEADER.hash, blockHash);
  if (csumSeed !== undefined) {
    const nr = new Uint8Array(8);
    putU64(nr, 0, blockNr);
    putU32(block, XATTR_BLOCK_HEADER.checksum, crc32cUpdate(crc32cUpdate(csumSeed, nr), block));
  }
  return block;
}
