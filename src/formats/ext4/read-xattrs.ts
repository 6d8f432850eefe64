/**
 * Extended attributes: the entries after the inode body (in-inode) and in the xattr block
 * (i_file_acl), with the block's checksum verified. POSIX ACLs, which ext4 stores in its own
 * compact form, are returned in the form getfattr shows (and the Tree carries): version 2 with
 * 8-byte entries. Values kept in their own inode (ea_inode) are read through `readValueInode`.
 * `system.data` (inline data) is returned like any other entry; the caller takes it out.
 */
import { corruptError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import {
  ACL_TAG, EXT4_ACL_VERSION, POSIX_ACL_XATTR_VERSION, XATTR_BLOCK_HEADER, XATTR_BLOCK_HEADER_SIZE, XATTR_ENTRY,
  XATTR_ENTRY_HEADER_SIZE, XATTR_IBODY_HEADER_SIZE, XATTR_INDEX_ACL_ACCESS, XATTR_INDEX_ACL_DEFAULT, XATTR_MAGIC,
  getU16, getU32, xattrEntrySize, xattrPrefix,
} from './layout.js';
import type { Inode } from './read-inode.js';
import { hex32, type Ext4Superblock } from './read-superblock.js';
import { nameFromBytes } from '../../tree/names.js';

/** Linux's XATTR_SIZE_MAX: no value may be larger. */
const XATTR_SIZE_MAX = 65536;

export type ValueInodeReader = (inum: number, size: number, owner: number) => Promise<Uint8Array>;

/**
 * What the xattr parser needs from the image reader: ea_inode values, and where to report an
 * attribute whose name index has no prefix we know (index 0 as debugfs `ea_set` writes for a
 * name without a known prefix, 9 for fscrypt's context, …). Such an attribute is skipped: no
 * writer could store it under a name the kernel would give back.
 */
export interface XattrReadContext {
  readValueInode: ValueInodeReader;
  unknownIndex(index: number, owner: number): void;
}

/** The in-inode attributes of `inode` (empty when the inode has no room or no magic). */
export async function readInodeXattrs(inode: Inode, name: string, ctx: XattrReadContext): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const start = inode.bodyEnd;
  if (start + XATTR_IBODY_HEADER_SIZE > inode.raw.length || getU32(inode.raw, start) !== XATTR_MAGIC) return out;
  const region = inode.raw.subarray(start + XATTR_IBODY_HEADER_SIZE);
  await parseEntries(region, region, `ext4 in-inode xattrs of inode ${inode.ino}`, inode.offset + start, inode.ino, name, ctx, out);
  return out;
}

/** The attributes in xattr block `blockNr` (already read as `block`) of `inode`. */
export async function readBlockXattrs(
  sb: Ext4Superblock,
  block: Uint8Array,
  blockNr: number,
  inode: Inode,
  name: string,
  ctx: XattrReadContext,
): Promise<Map<string, Uint8Array>> {
  const what = `ext4 xattr block ${blockNr} of inode ${inode.ino}`;
  const offset = blockNr * sb.blockSize;
  const magic = getU32(block, XATTR_BLOCK_HEADER.magic);
  if (magic !== XATTR_MAGIC) throw corruptError(name, what, offset, `magic 0x${hex32(magic)} is not 0xea020000`);
  const blocks = getU32(block, XATTR_BLOCK_HEADER.blocks);
  if (blocks !== 1) throw corruptError(name, what, offset, `spans ${blocks} blocks, not 1`);
  if (sb.metadataCsum) {
    const le = new Uint8Array(8);
    new DataView(le.buffer).setBigUint64(0, BigInt(blockNr), true);
    const copy = block.slice();
    copy.fill(0, XATTR_BLOCK_HEADER.checksum, XATTR_BLOCK_HEADER.checksum + 4);
    const got = crc32cUpdate(crc32cUpdate(sb.csumSeed, le), copy);
    const want = getU32(block, XATTR_BLOCK_HEADER.checksum);
    if (want !== got) throw corruptError(name, what, offset, `checksum mismatch (stored 0x${hex32(want)}, computed 0x${hex32(got)})`);
  }
  const out = new Map<string, Uint8Array>();
  await parseEntries(block.subarray(XATTR_BLOCK_HEADER_SIZE), block, what, offset + XATTR_BLOCK_HEADER_SIZE, inode.ino, name, ctx, out, XATTR_BLOCK_HEADER_SIZE);
  return out;
}

/**
 * Entries from `entries` up to a 4-byte zero terminator (or the end); values at `valueOffs`
 * within `values` (the region after the in-inode magic, or the whole block). `entriesAt` is
 * where `entries` starts within `values`, so entries and values may not overlap.
 */
async function parseEntries(
  entries: Uint8Array,
  values: Uint8Array,
  what: string,
  offset: number,
  owner: number,
  name: string,
  ctx: XattrReadContext,
  out: Map<string, Uint8Array>,
  entriesAt = 0,
): Promise<void> {
  let at = 0;
  while (at + 4 <= entries.length && getU32(entries, at) !== 0) {
    const bad = (detail: string) => corruptError(name, what, offset + at, detail);
    if (at + XATTR_ENTRY_HEADER_SIZE > entries.length) throw bad('entry header runs past the end');
    const nameLen = entries[at + XATTR_ENTRY.nameLen]!;
    const index = entries[at + XATTR_ENTRY.nameIndex]!;
    const valueOffs = getU16(entries, at + XATTR_ENTRY.valueOffs);
    const valueInum = getU32(entries, at + XATTR_ENTRY.valueInum);
    const valueSize = getU32(entries, at + XATTR_ENTRY.valueSize);
    const size = xattrEntrySize(nameLen);
    if (at + size > entries.length) throw bad(`name of ${nameLen} bytes runs past the end`);
    const prefix = xattrPrefix(index);
    if (prefix === undefined) {
      // its value is not even located: an unknown index may mean an unknown value layout
      ctx.unknownIndex(index, owner);
      at += size;
      continue;
    }
    const suffix = nameFromBytes(entries.subarray(at + XATTR_ENTRY.name, at + XATTR_ENTRY.name + nameLen));
    const full = prefix + suffix;
    if (valueSize > XATTR_SIZE_MAX) throw bad(`value of ${full} is ${valueSize} bytes, more than ${XATTR_SIZE_MAX}`);
    let value: Uint8Array;
    if (valueInum !== 0) {
      value = await ctx.readValueInode(valueInum, valueSize, owner);
    } else {
      if (valueSize > 0 && (valueOffs < entriesAt + at + size || valueOffs + valueSize > values.length)) {
        throw bad(`value of ${full} (${valueSize} bytes at ${valueOffs}) lies outside its ${values.length}-byte region`);
      }
      value = values.slice(valueOffs, valueOffs + valueSize);
    }
    if (index === XATTR_INDEX_ACL_ACCESS || index === XATTR_INDEX_ACL_DEFAULT) value = aclToXattr(value, () => bad(`${full} is not an ext4 ACL`));
    if (out.has(full)) throw bad(`${full} appears twice`);
    out.set(full, value);
    at += size;
  }
}

/** ext4's ACL form (version 1; short entries without id for the *_OBJ, MASK and OTHER tags) to the xattr form. */
export function aclToXattr(acl: Uint8Array, bad: () => Error): Uint8Array {
  if (acl.length < 4 || getU32(acl, 0) !== EXT4_ACL_VERSION) throw bad();
  const entries: Array<[number, number, number]> = [];
  let at = 4;
  while (at < acl.length) {
    if (at + 4 > acl.length) throw bad();
    const tag = getU16(acl, at);
    const perm = getU16(acl, at + 2);
    if (tag === ACL_TAG.user || tag === ACL_TAG.group) {
      if (at + 8 > acl.length) throw bad();
      entries.push([tag, perm, getU32(acl, at + 4)]);
      at += 8;
    } else if (tag === ACL_TAG.userObj || tag === ACL_TAG.groupObj || tag === ACL_TAG.mask || tag === ACL_TAG.other) {
      entries.push([tag, perm, 0xffffffff]);
      at += 4;
    } else {
      throw bad();
    }
  }
  const out = new Uint8Array(4 + entries.length * 8);
  const v = new DataView(out.buffer);
  v.setUint32(0, POSIX_ACL_XATTR_VERSION, true);
  entries.forEach(([tag, perm, id], i) => {
    v.setUint16(4 + i * 8, tag, true);
    v.setUint16(6 + i * 8, perm, true);
    v.setUint32(8 + i * 8, id, true);
  });
  return out;
}
