/**
 * Directory blocks. A directory whose entries fit in one block is linear ("." and ".." then the
 * names in bytewise order). A larger one is hashed (htree): block 0 is the dx root, then one
 * level of index blocks when the root cannot point at every leaf, then the leaves, whose
 * entries are sorted by (hash, minor hash, name) and packed full. When a leaf starts with the
 * hash the previous leaf ended with, its index entry gets the low "collision" bit, so lookups
 * continue into it. Every block ends with its metadata_csum tail.
 */
import { ReprimageError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import { dirHash } from './htree.js';
import {
  DIR_TAIL, DIR_TAIL_FT, DIR_TAIL_SIZE, DIRENT, DX_COUNTLIMIT, DX_ENTRY, DX_ENTRY_SIZE, DX_NODE_ENTRIES,
  DX_ROOT, DX_ROOT_INFO_LENGTH, DX_TAIL_SIZE, FT, direntSize, putU16, putU32,
} from './layout.js';

export interface DirEntryIn {
  name: Uint8Array;
  ino: number;
  fileType: number;
}

export interface DirHashing {
  version: number;
  seed: readonly number[];
}

interface HashedEntry extends DirEntryIn {
  hash: number;
  minor: number;
}

/** The shape of a directory: enough to count its blocks before inode numbers are known. */
export interface DirShape {
  kind: 'linear' | 'htree';
  blocks: number;
}

function leafCapacity(blockSize: number): number {
  return blockSize - DIR_TAIL_SIZE;
}

function linearFits(entries: readonly { name: Uint8Array }[], blockSize: number): boolean {
  let used = direntSize(1) + direntSize(2);
  for (const e of entries) used += direntSize(e.name.length);
  return used <= leafCapacity(blockSize);
}

/** Packs sorted entries into leaves; returns the index of the first entry of each leaf. */
function packLeaves(entries: readonly { name: Uint8Array }[], blockSize: number): number[] {
  const starts: number[] = [];
  const cap = leafCapacity(blockSize);
  let used = cap;
  entries.forEach((e, i) => {
    const size = direntSize(e.name.length);
    if (used + size > cap) {
      starts.push(i);
      used = 0;
    }
    used += size;
  });
  return starts;
}

function rootLimit(blockSize: number): number {
  return (blockSize - DX_ROOT.entries) / DX_ENTRY_SIZE - 1;
}
function nodeLimit(blockSize: number): number {
  return (blockSize - DX_NODE_ENTRIES) / DX_ENTRY_SIZE - 1;
}

function hashed(entries: readonly DirEntryIn[], hashing: DirHashing): HashedEntry[] {
  const out = entries.map((e) => ({ ...e, ...dirHash(e.name, hashing.version, hashing.seed) }));
  out.sort((a, b) => a.hash - b.hash || a.minor - b.minor || Buffer.compare(a.name, b.name));
  return out;
}

/** The number of index blocks under the root (0 or more) for `leaves` leaves; throws past two levels. */
function indexBlocks(leaves: number, blockSize: number, subject: string): number {
  if (leaves <= rootLimit(blockSize)) return 0;
  const nodes = Math.ceil(leaves / nodeLimit(blockSize));
  if (nodes > rootLimit(blockSize)) throw new ReprimageError('UNSUPPORTED', subject, `directory too large for a two-level htree (${leaves} leaf blocks)`);
  return nodes;
}

/** How a directory with these children (sorted) is laid out, and in how many blocks. */
export function directoryShape(entries: readonly DirEntryIn[], blockSize: number, hashing: DirHashing, subject: string, minBlocks = 1): DirShape {
  if (linearFits(entries, blockSize)) return { kind: 'linear', blocks: Math.max(1, minBlocks) };
  const leaves = packLeaves(hashed(entries, hashing), blockSize).length;
  return { kind: 'htree', blocks: 1 + indexBlocks(leaves, blockSize, subject) + leaves };
}

function putDirent(b: Uint8Array, at: number, ino: number, recLen: number, name: Uint8Array, fileType: number): void {
  putU32(b, at + DIRENT.inode, ino);
  putU16(b, at + DIRENT.recLen, recLen);
  b[at + DIRENT.nameLen] = name.length;
  b[at + DIRENT.fileType] = fileType;
  b.set(name, at + DIRENT.name);
}

function sealLeaf(b: Uint8Array, inodeSeed: number): void {
  const at = b.length - DIR_TAIL_SIZE;
  putU32(b, at + DIR_TAIL.inode, 0);
  putU16(b, at + DIR_TAIL.recLen, DIR_TAIL_SIZE);
  b[at + DIR_TAIL.nameLen] = 0;
  b[at + DIR_TAIL.fileType] = DIR_TAIL_FT;
  putU32(b, at + DIR_TAIL.checksum, crc32cUpdate(inodeSeed, b.subarray(0, at)));
}

/** A leaf block holding `entries` (the last one's rec_len reaches the tail). */
function leafBlock(entries: readonly DirEntryIn[], blockSize: number, inodeSeed: number): Uint8Array {
  const b = new Uint8Array(blockSize);
  const cap = leafCapacity(blockSize);
  let at = 0;
  if (entries.length === 0) {
    putU32(b, DIRENT.inode, 0);
    putU16(b, DIRENT.recLen, cap);
  }
  entries.forEach((e, i) => {
    const size = direntSize(e.name.length);
    putDirent(b, at, e.ino, i === entries.length - 1 ? cap - at : size, e.name, e.fileType);
    at += size;
  });
  sealLeaf(b, inodeSeed);
  return b;
}

const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);

function sealDx(b: Uint8Array, countOffset: number, count: number, limit: number, inodeSeed: number): void {
  const tailAt = countOffset + limit * DX_ENTRY_SIZE;
  putU32(b, tailAt, 0);
  let crc = crc32cUpdate(inodeSeed, b.subarray(0, countOffset + count * DX_ENTRY_SIZE));
  crc = crc32cUpdate(crc, new Uint8Array(DX_TAIL_SIZE));
  putU32(b, tailAt + 4, crc);
}

function putDxEntries(b: Uint8Array, countOffset: number, limit: number, targets: ReadonlyArray<{ hash: number; block: number }>): void {
  putU16(b, countOffset + DX_COUNTLIMIT.limit, limit);
  putU16(b, countOffset + DX_COUNTLIMIT.count, targets.length);
  putU32(b, countOffset + DX_COUNTLIMIT.block, targets[0]!.block);
  for (let i = 1; i < targets.length; i++) {
    putU32(b, countOffset + i * DX_ENTRY_SIZE + DX_ENTRY.hash, targets[i]!.hash);
    putU32(b, countOffset + i * DX_ENTRY_SIZE + DX_ENTRY.block, targets[i]!.block);
  }
}

/**
 * Every block of a directory, in logical order. `self` and `parent` are the inode numbers of
 * "." and ".."; `inodeSeed` keys the checksums.
 */
export function directoryBlocks(
  self: number,
  parent: number,
  entries: readonly DirEntryIn[],
  blockSize: number,
  hashing: DirHashing,
  inodeSeed: number,
  subject: string,
  minBlocks = 1,
): Uint8Array[] {
  const dots: DirEntryIn[] = [
    { name: DOT, ino: self, fileType: FT.dir },
    { name: DOTDOT, ino: parent, fileType: FT.dir },
  ];
  if (linearFits(entries, blockSize)) {
    const out = [leafBlock([...dots, ...entries], blockSize, inodeSeed)];
    while (out.length < minBlocks) out.push(leafBlock([], blockSize, inodeSeed));
    return out;
  }
  const sorted = hashed(entries, hashing);
  const starts = packLeaves(sorted, blockSize);
  const nodes = indexBlocks(starts.length, blockSize, subject);
  const firstLeaf = 1 + nodes;
  // The index entry of each leaf: its first hash, with the collision bit when it continues the previous leaf.
  const leafTargets = starts.map((s, i) => ({
    hash: (sorted[s]!.hash | (i > 0 && sorted[s - 1]!.hash === sorted[s]!.hash ? 1 : 0)) >>> 0,
    block: firstLeaf + i,
  }));
  const out: Uint8Array[] = [];
  const root = new Uint8Array(blockSize);
  putDirent(root, 0, self, direntSize(1), DOT, FT.dir);
  putDirent(root, direntSize(1), parent, blockSize - direntSize(1), DOTDOT, FT.dir);
  putU32(root, DX_ROOT.infoReservedZero, 0);
  root[DX_ROOT.infoHashVersion] = hashing.version;
  root[DX_ROOT.infoLength] = DX_ROOT_INFO_LENGTH;
  root[DX_ROOT.infoIndirectLevels] = nodes > 0 ? 1 : 0;
  root[DX_ROOT.infoUnusedFlags] = 0;
  const rl = rootLimit(blockSize);
  if (nodes === 0) {
    putDxEntries(root, DX_ROOT.entries, rl, leafTargets);
    sealDx(root, DX_ROOT.entries, leafTargets.length, rl, inodeSeed);
    out.push(root);
  } else {
    const nl = nodeLimit(blockSize);
    const nodeTargets: Array<{ hash: number; block: number }> = [];
    const nodeBlocks: Uint8Array[] = [];
    for (let n = 0; n < nodes; n++) {
      const slice = leafTargets.slice(n * nl, (n + 1) * nl);
      const b = new Uint8Array(blockSize);
      putU32(b, DIRENT.inode, 0);
      putU16(b, DIRENT.recLen, blockSize);
      putDxEntries(b, DX_NODE_ENTRIES, nl, slice);
      sealDx(b, DX_NODE_ENTRIES, slice.length, nl, inodeSeed);
      nodeBlocks.push(b);
      nodeTargets.push({ hash: slice[0]!.hash, block: 1 + n });
    }
    putDxEntries(root, DX_ROOT.entries, rl, nodeTargets);
    sealDx(root, DX_ROOT.entries, nodeTargets.length, rl, inodeSeed);
    out.push(root, ...nodeBlocks);
  }
  starts.forEach((s, i) => out.push(leafBlock(sorted.slice(s, starts[i + 1] ?? sorted.length), blockSize, inodeSeed)));
  return out;
}
