/**
 * SquashFS inodes: a 16-byte common header followed by a type-specific body. Basic types are
 * compact (32-bit block start and size, no link count for files, no xattrs); their extended
 * twins (type + 7) carry 64-bit sizes, link counts and an xattr index.
 *
 * `encodeInode` is pure. `readInode` decodes from a cursor over the inode table so that the
 * variable parts (block lists, link targets, directory indexes) are read only after their
 * declared size has been checked against limits the caller gives.
 */
import { ReprimageError, corruptError } from '../../../errors.js';
import { InodeType, SQUASHFS_INVALID_FRAGMENT, SQUASHFS_INVALID_XATTR } from '../constants.js';

export const INODE_HEADER_SIZE = 16;

/** Byte offsets of the common header. */
export const INODE_HEADER_FIELDS = { type: 0, mode: 2, uid: 4, gid: 6, mtime: 8, inodeNumber: 12 } as const;

/** One entry of an extended directory's index: where a run of the listing starts. */
export interface DirIndexEntry {
  /** Byte offset into this directory's listing of a directory header. */
  index: number;
  /** Start of the metadata block holding that header, relative to the directory table. */
  start: number;
  /** The first name under that header. */
  name: Uint8Array;
}

interface InodeCommon {
  /** Permission bits (mask 0o7777). */
  mode: number;
  uidIndex: number;
  gidIndex: number;
  mtime: number;
  inodeNumber: number;
  nlink: number;
  /** Index into the xattr id table, SQUASHFS_INVALID_XATTR when none. */
  xattr: number;
}

export interface DirInode extends InodeCommon {
  kind: 'dir';
  extended: boolean;
  startBlock: number;
  offset: number;
  /** Listing size + 3, as the format stores it. */
  fileSize: number;
  parentInode: number;
  index: DirIndexEntry[];
}

export interface FileInode extends InodeCommon {
  kind: 'file';
  extended: boolean;
  blocksStart: number;
  fileSize: number;
  /** Bytes saved by sparse blocks (extended inodes only). */
  sparse: number;
  fragment: number;
  fragmentOffset: number;
  blockSizes: Uint32Array;
}

export interface SymlinkInode extends InodeCommon {
  kind: 'symlink';
  extended: boolean;
  target: Uint8Array;
}

export interface DeviceInode extends InodeCommon {
  kind: 'block' | 'char';
  extended: boolean;
  rdev: number;
}

export interface IpcInode extends InodeCommon {
  kind: 'fifo' | 'socket';
  extended: boolean;
}

export type Inode = DirInode | FileInode | SymlinkInode | DeviceInode | IpcInode;

const BASIC_TYPE: Record<Inode['kind'], number> = {
  dir: InodeType.DIR,
  file: InodeType.FILE,
  symlink: InodeType.SYMLINK,
  block: InodeType.BLOCK,
  char: InodeType.CHAR,
  fifo: InodeType.FIFO,
  socket: InodeType.SOCKET,
};

/** The basic type number of an inode kind, as directory entries record it. */
export function basicInodeType(kind: Inode['kind']): number {
  return BASIC_TYPE[kind];
}

export function inodeTypeNumber(inode: Inode): number {
  return BASIC_TYPE[inode.kind] + (inode.extended ? 7 : 0);
}

/** Device numbers as the kernel's old_encode_dev/new_encode_dev pack them (12-bit major, 20-bit minor). */
export function encodeDevice(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & 0xfff00) << 12);
}

export function decodeDevice(rdev: number): { major: number; minor: number } {
  return { major: (rdev >>> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) };
}

class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u16(x: number) {
    this.view.setUint16(this.at, x, true);
    this.at += 2;
  }
  u32(x: number) {
    this.view.setUint32(this.at, x >>> 0, true);
    this.at += 4;
  }
  u64(x: number) {
    this.view.setBigUint64(this.at, BigInt(x), true);
    this.at += 8;
  }
  raw(b: Uint8Array) {
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
}

/** The on-disk size of an inode. */
export function inodeSize(inode: Inode): number {
  const x = inode.extended;
  switch (inode.kind) {
    case 'dir':
      return x ? 40 + inode.index.reduce((n, e) => n + 12 + e.name.length, 0) : 32;
    case 'file':
      return (x ? 56 : 32) + 4 * inode.blockSizes.length;
    case 'symlink':
      return 24 + inode.target.length + (x ? 4 : 0);
    case 'block':
    case 'char':
      return x ? 28 : 24;
    case 'fifo':
    case 'socket':
      return x ? 24 : 20;
  }
}

export function encodeInode(inode: Inode): Uint8Array {
  const w = new Writer(inodeSize(inode));
  w.u16(inodeTypeNumber(inode));
  w.u16(inode.mode & 0o7777);
  w.u16(inode.uidIndex);
  w.u16(inode.gidIndex);
  w.u32(inode.mtime);
  w.u32(inode.inodeNumber);
  switch (inode.kind) {
    case 'dir':
      if (inode.extended) {
        w.u32(inode.nlink);
        w.u32(inode.fileSize);
        w.u32(inode.startBlock);
        w.u32(inode.parentInode);
        w.u16(inode.index.length);
        w.u16(inode.offset);
        w.u32(inode.xattr);
        for (const e of inode.index) {
          w.u32(e.index);
          w.u32(e.start);
          w.u32(e.name.length - 1);
          w.raw(e.name);
        }
      } else {
        w.u32(inode.startBlock);
        w.u32(inode.nlink);
        w.u16(inode.fileSize);
        w.u16(inode.offset);
        w.u32(inode.parentInode);
      }
      break;
    case 'file':
      if (inode.extended) {
        w.u64(inode.blocksStart);
        w.u64(inode.fileSize);
        w.u64(inode.sparse);
        w.u32(inode.nlink);
        w.u32(inode.fragment);
        w.u32(inode.fragmentOffset);
        w.u32(inode.xattr);
      } else {
        w.u32(inode.blocksStart);
        w.u32(inode.fragment);
        w.u32(inode.fragmentOffset);
        w.u32(inode.fileSize);
      }
      for (const s of inode.blockSizes) w.u32(s);
      break;
    case 'symlink':
      w.u32(inode.nlink);
      w.u32(inode.target.length);
      w.raw(inode.target);
      if (inode.extended) w.u32(inode.xattr);
      break;
    case 'block':
    case 'char':
      w.u32(inode.nlink);
      w.u32(inode.rdev);
      if (inode.extended) w.u32(inode.xattr);
      break;
    case 'fifo':
    case 'socket':
      w.u32(inode.nlink);
      if (inode.extended) w.u32(inode.xattr);
      break;
  }
  return w.bytes;
}

/**
 * Sequential reads from the inode table, synchronous: the reader hands in bytes it already holds
 * (decompressed metadata blocks), so that decoding tens of thousands of inodes costs no promise
 * per field. `read` throws when the bytes are not there (the caller fetches them and decodes again).
 */
export interface InodeCursor {
  read(length: number): Uint8Array;
}

export interface InodeReadLimits {
  blockSize: number;
  /** Largest plausible byte count of a block list, link target or directory index. */
  maxVariableBytes: number;
  subject: string;
}

function le(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads one inode at the cursor. Throws CORRUPT_IMAGE for unknown types and impossible sizes. */
export function readInode(cur: InodeCursor, limits: InodeReadLimits): Inode {
  const h = le(cur.read(INODE_HEADER_SIZE));
  const type = h.getUint16(0, true);
  // the common fields as locals, written out in each result: an object spread here cost more
  // than the rest of the decoding (V8's slow path), and a root file system has ~50,000 inodes
  const mode = h.getUint16(2, true) & 0o7777;
  const uidIndex = h.getUint16(4, true);
  const gidIndex = h.getUint16(6, true);
  const mtime = h.getUint32(8, true);
  const inodeNumber = h.getUint32(12, true);
  const bad = (what: string) => corruptError(limits.subject, 'squashfs inode', undefined, `${what} (inode ${inodeNumber}, type ${type})`);
  const checkVariable = (n: number, what: string) => {
    if (!Number.isSafeInteger(n) || n < 0 || n > limits.maxVariableBytes) throw bad(`${what} of ${n} bytes is impossible`);
  };
  switch (type) {
    case InodeType.DIR: {
      const v = le(cur.read(16));
      return {
        kind: 'dir', extended: false, mode, uidIndex, gidIndex, mtime, inodeNumber, xattr: SQUASHFS_INVALID_XATTR,
        startBlock: v.getUint32(0, true), nlink: v.getUint32(4, true), fileSize: v.getUint16(8, true),
        offset: v.getUint16(10, true), parentInode: v.getUint32(12, true), index: [],
      };
    }
    case InodeType.LDIR: {
      const v = le(cur.read(24));
      const count = v.getUint16(16, true);
      const inode: DirInode = {
        kind: 'dir', extended: true, mode, uidIndex, gidIndex, mtime, inodeNumber,
        nlink: v.getUint32(0, true), fileSize: v.getUint32(4, true), startBlock: v.getUint32(8, true),
        parentInode: v.getUint32(12, true), offset: v.getUint16(18, true), xattr: v.getUint32(20, true), index: [],
      };
      checkVariable(count * 12, 'directory index');
      for (let i = 0; i < count; i++) {
        const e = le(cur.read(12));
        const nameSize = e.getUint32(8, true) + 1;
        if (nameSize > 256) throw bad(`directory index name of ${nameSize} bytes`);
        inode.index.push({ index: e.getUint32(0, true), start: e.getUint32(4, true), name: (cur.read(nameSize)).slice() });
      }
      return inode;
    }
    case InodeType.FILE:
    case InodeType.LFILE: {
      const extended = type === InodeType.LFILE;
      let blocksStart: number, fileSize: number, sparse = 0, fragment: number, fragmentOffset: number;
      let nlink = 1, xattr = SQUASHFS_INVALID_XATTR;
      if (extended) {
        const v = le(cur.read(40));
        const start = v.getBigUint64(0, true), size = v.getBigUint64(8, true), sp = v.getBigUint64(16, true);
        if (start > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER) || sp > size) throw bad('file size or start out of range');
        blocksStart = Number(start);
        fileSize = Number(size);
        sparse = Number(sp);
        nlink = v.getUint32(24, true);
        fragment = v.getUint32(28, true);
        fragmentOffset = v.getUint32(32, true);
        xattr = v.getUint32(36, true);
      } else {
        const v = le(cur.read(16));
        blocksStart = v.getUint32(0, true);
        fragment = v.getUint32(4, true);
        fragmentOffset = v.getUint32(8, true);
        fileSize = v.getUint32(12, true);
      }
      const hasFragment = fragment !== SQUASHFS_INVALID_FRAGMENT;
      const blocks = hasFragment ? Math.floor(fileSize / limits.blockSize) : Math.ceil(fileSize / limits.blockSize);
      checkVariable(blocks * 4, 'block list');
      const raw = cur.read(blocks * 4);
      const blockSizes = new Uint32Array(blocks);
      const bv = le(raw);
      for (let i = 0; i < blocks; i++) blockSizes[i] = bv.getUint32(i * 4, true);
      return { kind: 'file', extended, mode, uidIndex, gidIndex, mtime, inodeNumber, blocksStart, fileSize, sparse, fragment, fragmentOffset, blockSizes, nlink, xattr };
    }
    case InodeType.SYMLINK:
    case InodeType.LSYMLINK: {
      const v = le(cur.read(8));
      const size = v.getUint32(4, true);
      checkVariable(size, 'symlink target');
      if (size > 4096) throw bad(`symlink target of ${size} bytes`);
      const target = (cur.read(size)).slice();
      const extended = type === InodeType.LSYMLINK;
      const xattr = extended ? le(cur.read(4)).getUint32(0, true) : SQUASHFS_INVALID_XATTR;
      return { kind: 'symlink', extended, mode, uidIndex, gidIndex, mtime, inodeNumber, nlink: v.getUint32(0, true), target, xattr };
    }
    case InodeType.BLOCK:
    case InodeType.CHAR:
    case InodeType.LBLOCK:
    case InodeType.LCHAR: {
      const extended = type >= InodeType.LDIR;
      const v = le(cur.read(extended ? 12 : 8));
      const kind = type === InodeType.BLOCK || type === InodeType.LBLOCK ? 'block' : 'char';
      return { kind, extended, mode, uidIndex, gidIndex, mtime, inodeNumber, nlink: v.getUint32(0, true), rdev: v.getUint32(4, true), xattr: extended ? v.getUint32(8, true) : SQUASHFS_INVALID_XATTR };
    }
    case InodeType.FIFO:
    case InodeType.SOCKET:
    case InodeType.LFIFO:
    case InodeType.LSOCKET: {
      const extended = type >= InodeType.LDIR;
      const v = le(cur.read(extended ? 8 : 4));
      const kind = type === InodeType.FIFO || type === InodeType.LFIFO ? 'fifo' : 'socket';
      return { kind, extended, mode, uidIndex, gidIndex, mtime, inodeNumber, nlink: v.getUint32(0, true), xattr: extended ? v.getUint32(4, true) : SQUASHFS_INVALID_XATTR };
    }
    default:
      throw new ReprimageError('CORRUPT_IMAGE', limits.subject, `corrupt squashfs inode: unknown type ${type} (inode ${inodeNumber})`);
  }
}
