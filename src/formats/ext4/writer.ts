/**
 * The ext4 writer: a Tree in, an ext4 file system out, in one pass, without mounting anything.
 *
 * 1. plan.ts numbers the inodes and works out what each needs (no contents are read);
 * 2. the size (given, or the tree plus headroom) fixes the geometry; blocks are handed out in
 *    increasing order;
 * 3. the image is written front to back: superblock copies, descriptors, bitmaps and inode
 *    tables at their fixed places, and between them the journal superblock, xattr blocks,
 *    directory blocks, extent tree blocks and file contents, each content streamed once. Blocks
 *    nobody wrote (holes of sparse files, the empty journal, unused inodes, free space) are
 *    skipped, so a file sink leaves them as holes in the image file.
 *
 * Every byte is a function of the Tree and the options (docs/design.md rule 1): docs/formats/ext4.md.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { Content } from '../../tree/content.js';
import type { Time, Tree } from '../../tree/tree.js';
import { clampedToBuildTime } from '../../tree/copy.js';
import { directoryBlocks, type DirHashing } from './directory.js';
import { encodeExtentTree, type Extent } from './extents.js';
import { OutOfSpace, computeGeometry, usedBlocksInGroup, INODE_SIZE, type Geometry } from './geometry.js';
import { seedWords } from './htree.js';
import { encodeInode, inodeChecksumSeed, type InodeFields } from './inode.js';
import { defaultJournalBlocks, encodeJournalSuperblock } from './journal.js';
import { BG_BLOCK_UNINIT, BG_INODE_UNINIT, BG_INODE_ZEROED, HASH, IFLAG, I_BLOCK_SIZE, JOURNAL_INO, S_IFREG, SUPERBLOCK_OFFSET, encodeNewDev, encodeOldDev, putU32 } from './layout.js';
import { IBODY_SIZE, allocate, direntsOf, estimateBlocks, planTree, type InodePlan, type JournalPlan, type TreePlan } from './plan.js';
import { checksumSeed, encodeGroupDescriptor, encodeSuperblock, setBits, type GroupCounts } from './superblock.js';
import { encodeXattrBlock, encodeXattrIbody } from './xattr.js';

export interface Ext4WriteOptions {
  /** 1024 or 4096 (default). */
  blockSize?: 1024 | 4096;
  /** Volume size in bytes; by default the tree plus headroom (docs/formats/ext4.md). */
  size?: number;
  /** Inode count (rounded up to fill the groups); by default one per 16 KiB, at least the tree's plus 10 %. */
  inodes?: number;
  /** Blocks reserved for root, in percent (default 5, as mke2fs). */
  reservedPercent?: number;
  /** Volume label, at most 16 bytes of UTF-8. */
  label?: string;
  /** Mount options stored in the superblock (s_mount_opts), at most 63 bytes. */
  mountOptions?: string;
  /** File system UUID, journal UUID and directory hash seed (UUID text); derive them from the seed. */
  uuid: string;
  journalUuid: string;
  hashSeed: string;
  /** SOURCE_DATE_EPOCH: mkfs, write and check times, and the time of lost+found. */
  buildTime: number;
  /** Add lost+found (as mke2fs does) when the tree has no entry of that name; default true. */
  lostAndFound?: boolean;
  /** Name of the output in messages. */
  subject?: string;
}

export interface Ext4WriteReport {
  size: number;
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  inodes: number;
  freeInodes: number;
  groups: number;
  journalBlocks: number;
}

const encoder = new TextEncoder();
const NO_RUNS: Array<{ logical: number; length: number }> = [];

export function uuidBytes(text: string, subject: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new ReprimageError('USAGE', subject, `not a UUID: '${text}'`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function limitedUtf8(text: string | undefined, max: number, subject: string): Uint8Array {
  const bytes = encoder.encode(text ?? '');
  if (bytes.length > max) throw new ReprimageError('USAGE', subject, `at most ${max} bytes, got ${bytes.length}`);
  return bytes;
}

interface Layout {
  geometry: Geometry;
  journal: JournalPlan;
  cursor: number;
}

/** Chooses the size (or takes the given one) and allocates; grows by 20 % until the tree fits. */
function layOut(plan: TreePlan, o: Ext4WriteOptions, blockSize: number, subject: string): Layout {
  const mib = (1 << 20) / blockSize;
  const usedInodes = plan.lastIno;
  const inodesFor = (blocks: number) => o.inodes ?? Math.max(Math.floor((blocks * blockSize) / 16384), usedInodes + Math.ceil(usedInodes / 10) + 16);
  let blocks: number;
  if (o.size !== undefined) {
    blocks = Math.floor(o.size / blockSize);
  } else {
    const est = estimateBlocks(plan, blockSize);
    blocks = Math.ceil((est * 1.1 + defaultJournalBlocks(est) + 64) * (1 + 1 / 48) / mib) * mib;
  }
  for (;;) {
    const inodes = inodesFor(blocks);
    if (inodes < usedInodes) throw new ReprimageError('USAGE', subject, `the tree needs ${usedInodes} inodes (the reserved ones included), more than the ${inodes} asked for`);
    const journalBlocks = defaultJournalBlocks(blocks);
    try {
      const geometry = computeGeometry({ blockSize, blocksCount: blocks, inodesCount: inodes, subject });
      const { journal, allocator } = allocate(plan, geometry, journalBlocks, subject);
      return { geometry, journal, cursor: allocator.cursor };
    } catch (e) {
      if (o.size !== undefined || !(e instanceof OutOfSpace || (e instanceof ReprimageError && e.code === 'USAGE' && /larger size/.test(e.detail)))) throw e;
      blocks = Math.ceil((blocks * 1.2) / mib) * mib;
    }
  }
}

/** Writes `tree` as an ext4 file system to `sink` (from its current position). */
export async function writeExt4(given: Tree, sink: Sink, o: Ext4WriteOptions): Promise<Ext4WriteReport> {
  const subject = o.subject ?? 'ext4';
  const blockSize = o.blockSize ?? 4096;
  if (blockSize !== 1024 && blockSize !== 4096) throw new ReprimageError('USAGE', '--block-size', `ext4 block size must be 1024 or 4096, got ${blockSize}`);
  const reservedPercent = o.reservedPercent ?? 5;
  if (!(reservedPercent >= 0 && reservedPercent <= 50)) throw new ReprimageError('USAGE', '--reserved-percent', `must be from 0 to 50, got ${reservedPercent}`);
  if (!Number.isSafeInteger(o.buildTime) || o.buildTime < 0) throw new ReprimageError('USAGE', 'SOURCE_DATE_EPOCH', `must be a non-negative whole number, got ${o.buildTime}`);
  const tree = clampedToBuildTime(given, o.buildTime);
  const uuid = uuidBytes(o.uuid, '--uuid');
  const hashSeed = uuidBytes(o.hashSeed, '--hash-seed');
  const journalUuid = uuidBytes(o.journalUuid, 'journal UUID');
  const label = limitedUtf8(o.label, 16, '--label');
  const mountOptions = limitedUtf8(o.mountOptions, 63, '--mount-options');
  const hashing: DirHashing = { version: HASH.halfMd4, seed: seedWords(hashSeed) };
  const seed = checksumSeed(uuid);

  const plan = planTree(tree, blockSize, hashing, { lostAndFound: o.lostAndFound ?? true, time: o.buildTime });
  const { geometry: g, journal, cursor } = layOut(plan, o, blockSize, subject);
  // allocation is done: the runs it started from need not stay in memory while the image is written
  for (const p of plan.inodes) p.logicalRuns = NO_RUNS;
  const B = blockSize;
  const ipg = g.inodesPerGroup;
  const fsTime: Time = { sec: o.buildTime, nsec: 0 };

  // ── per-group numbers, bitmaps and descriptors ──
  const usedInodesIn = (grp: number) => Math.min(ipg, Math.max(0, plan.lastIno - grp * ipg));
  const dirsIn = new Array<number>(g.groups).fill(0);
  for (const p of plan.inodes) if (p.node.kind === 'dir') dirsIn[Math.floor((p.ino - 1) / ipg)]!++;
  const blockBitmap = (grp: number): Uint8Array => {
    const p = g.groupPlaces[grp]!;
    const b = new Uint8Array(B);
    setBits(b, 0, Math.max(0, Math.min(p.blocks, cursor - p.first)));
    for (const [a, e] of g.fixed) {
      const s = Math.max(a, p.first);
      const t = Math.min(e, p.first + p.blocks);
      if (t > s) setBits(b, s - p.first, t - p.first);
    }
    setBits(b, p.blocks, 8 * B);
    return b;
  };
  const inodeBitmap = (grp: number): Uint8Array => {
    const b = new Uint8Array(B);
    setBits(b, 0, usedInodesIn(grp));
    setBits(b, ipg, 8 * B);
    return b;
  };
  // As mke2fs: a group without inodes in use is INODE_UNINIT, and one (not the last) whose only
  // used blocks are its own superblock copy is BLOCK_UNINIT; their bitmaps are left unwritten.
  const usedBlocks = Array.from({ length: g.groups }, (_, grp) => usedBlocksInGroup(g, grp, cursor));
  const inodeUninit = (grp: number) => usedInodesIn(grp) === 0;
  const blockUninit = (grp: number) =>
    grp < g.groups - 1 && usedBlocks[grp] === (g.groupPlaces[grp]!.hasSuper ? 1 + g.gdtBlocks : 0);
  const gdt = new Uint8Array(g.gdtBlocks * B);
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let grp = 0; grp < g.groups; grp++) {
    const used = usedInodesIn(grp);
    const counts: GroupCounts = {
      flags: BG_INODE_ZEROED | (inodeUninit(grp) ? BG_INODE_UNINIT : 0) | (blockUninit(grp) ? BG_BLOCK_UNINIT : 0),
      freeBlocks: g.groupPlaces[grp]!.blocks - usedBlocks[grp]!,
      freeInodes: ipg - used,
      usedDirs: dirsIn[grp]!,
      itableUnused: ipg - used,
    };
    freeBlocks += counts.freeBlocks;
    freeInodes += counts.freeInodes;
    gdt.set(encodeGroupDescriptor(g, grp, counts, blockBitmap(grp), inodeBitmap(grp), seed), grp * 64);
  }

  // ── inodes ──
  const journalInode = (): InodeFields => {
    const tree8 = encodeExtentTree(journal.extents, journal.treeBlocks, B, inodeChecksumSeed(seed, JOURNAL_INO));
    return {
      mode: S_IFREG | 0o600, uid: 0, gid: 0, size: journal.blocks * B, links: 1, time: fsTime, flags: IFLAG.extents,
      iBlock: tree8.iBlock, blocks: journal.blocks + journal.treeBlocks.length, xattrBlock: 0,
    };
  };
  const journalFields = journalInode();
  const journalBackup = new Uint8Array(17 * 4);
  journalBackup.set(journalFields.iBlock, 0);
  putU32(journalBackup, 15 * 4, Math.floor(journalFields.size / 0x1_0000_0000));
  putU32(journalBackup, 16 * 4, journalFields.size % 0x1_0000_0000);

  const byIno = new Map<number, InodePlan>();
  for (const p of plan.inodes) byIno.set(p.ino, p);
  const fieldsOf = (p: InodePlan): InodeFields => {
    const n = p.node;
    let iBlock: Uint8Array = new Uint8Array(I_BLOCK_SIZE);
    let flags = 0;
    const usesExtents = n.kind === 'file' || n.kind === 'dir' || (n.kind === 'symlink' && p.dataBlocks > 0);
    if (usesExtents) {
      iBlock = encodeExtentTree(p.extents, p.treeBlocks, B, inodeChecksumSeed(seed, p.ino)).iBlock;
      flags = IFLAG.extents | (p.htree ? IFLAG.index : 0);
    } else if (n.kind === 'symlink') {
      iBlock.set(p.target!);
    } else if (n.kind === 'char' || n.kind === 'block') {
      if (n.major < 256 && n.minor < 256) putU32(iBlock, 0, encodeOldDev(n.major, n.minor));
      else putU32(iBlock, 4, encodeNewDev(n.major, n.minor));
    }
    return {
      mode: p.mode, uid: n.uid, gid: n.gid, size: p.size, links: p.links, time: n.mtime, flags, iBlock,
      blocks: p.dataBlocks + p.treeBlocks.length + (p.xattrBlock ? 1 : 0), xattrBlock: p.xattrBlock,
      ibody: p.xattrs.inInode.length > 0 ? encodeXattrIbody(p.xattrs.inInode, IBODY_SIZE) : undefined,
    };
  };
  const inodeTable = (grp: number): Uint8Array => {
    const used = usedInodesIn(grp);
    const out = new Uint8Array(Math.ceil((used * INODE_SIZE) / B) * B);
    for (let i = 0; i < used; i++) {
      const ino = grp * ipg + i + 1;
      const p = byIno.get(ino);
      const fields = ino === JOURNAL_INO ? journalFields : p ? fieldsOf(p) : undefined;
      if (fields) out.set(encodeInode(fields, ino, INODE_SIZE, B, seed), i * INODE_SIZE);
    }
    return out;
  };

  // ── the fixed items, by byte offset ──
  const sbFields = {
    geometry: g, freeBlocks, freeInodes, reservedBlocks: Math.floor((g.blocksCount * reservedPercent) / 100),
    uuid, hashSeed, label, mountOptions, time: o.buildTime, journalBackup,
  };
  const fixed: Array<{ offset: number; bytes: () => Uint8Array }> = [];
  g.groupPlaces.forEach((p, grp) => {
    if (p.hasSuper) {
      fixed.push({ offset: grp === 0 ? SUPERBLOCK_OFFSET : p.first * B, bytes: () => encodeSuperblock(sbFields, grp) });
      fixed.push({ offset: (p.first + 1) * B, bytes: () => gdt });
    }
    if (!blockUninit(grp)) fixed.push({ offset: p.blockBitmap * B, bytes: () => blockBitmap(grp) });
    if (!inodeUninit(grp)) fixed.push({ offset: p.inodeBitmap * B, bytes: () => inodeBitmap(grp) });
    if (usedInodesIn(grp) > 0) fixed.push({ offset: p.inodeTable * B, bytes: () => inodeTable(grp) });
  });
  fixed.sort((a, b) => a.offset - b.offset);

  // ── the writing pass ──
  const base = sink.position;
  let pos = 0;
  let nextFixed = 0;
  const skipTo = async (offset: number) => {
    if (offset < pos) throw new Error(`ext4 writer: out of order at byte ${offset} (at ${pos})`);
    await skip(sink, offset - pos);
    pos = offset;
  };
  const write = async (bytes: Uint8Array) => {
    await sink.write(bytes);
    pos += bytes.length;
  };
  /** Moves to block `block`, writing the fixed items before it on the way. */
  const seekBlock = async (block: number) => {
    const target = block * B;
    while (nextFixed < fixed.length && fixed[nextFixed]!.offset < target) {
      const item = fixed[nextFixed++]!;
      await skipTo(item.offset);
      await write(item.bytes());
    }
    await skipTo(target);
  };
  const writeBlocksAt = async (extents: Extent[], blocks: Uint8Array[]) => {
    for (const e of extents) {
      await seekBlock(e.physical);
      for (let i = 0; i < e.length; i++) await write(blocks[e.logical + i]!);
    }
  };
  const writeTreeBlocks = async (extents: Extent[], treeBlocks: number[], ino: number) => {
    for (const { nr, bytes } of encodeExtentTree(extents, treeBlocks, B, inodeChecksumSeed(seed, ino)).blocks.sort((a, b) => a.nr - b.nr)) {
      await seekBlock(nr);
      await write(bytes);
    }
  };

  await seekBlock(journal.extents[0]!.physical);
  await write(encodeJournalSuperblock(B, journal.blocks, journalUuid));
  await writeTreeBlocks(journal.extents, journal.treeBlocks, JOURNAL_INO);

  for (const p of plan.inodes) {
    const n = p.node;
    if (p.xattrBlock) {
      await seekBlock(p.xattrBlock);
      await write(encodeXattrBlock(p.xattrs.inBlock, B, p.xattrBlock, seed));
    }
    const inodeSeed = inodeChecksumSeed(seed, p.ino);
    if (n.kind === 'dir') {
      const parent = plan.byNode.get(p.parent!)!.ino;
      const blocks = directoryBlocks(p.ino, parent, direntsOf(p, plan.byNode), B, hashing, inodeSeed, p.path, p.minBlocks);
      await writeBlocksAt(p.extents, blocks);
    } else if (n.kind === 'symlink' && p.dataBlocks > 0) {
      const block = new Uint8Array(B);
      block.set(p.target!);
      await writeBlocksAt(p.extents, [block]);
    } else if (n.kind === 'file' && p.extents.length > 0) {
      await writeFileData(p, n.content, B, seekBlock, write, sink, (bytes) => (pos += bytes));
    }
    if (p.treeBlocks.length > 0) await writeTreeBlocks(p.extents, p.treeBlocks, p.ino);
  }
  await seekBlock(g.blocksCount);
  if (sink.position - base !== g.blocksCount * B) throw new Error('ext4 writer: wrong image length');

  return {
    size: g.blocksCount * B, blockSize: B, blocks: g.blocksCount, freeBlocks, inodes: g.inodesCount, freeInodes, groups: g.groups,
    journalBlocks: journal.blocks,
  };
}

/** Streams a file's contents into its extents; bytes in holes (outside every extent) are dropped. */
async function writeFileData(
  p: InodePlan,
  content: Content,
  B: number,
  seekBlock: (block: number) => Promise<void>,
  write: (bytes: Uint8Array) => Promise<void>,
  sink: Sink,
  advance: (bytes: number) => void,
): Promise<void> {
  const extents = p.extents;
  if (content.dataRegions === undefined && content.openSync && sink.fill) {
    // a dense file on disk: read straight into the sink's buffer, extent by extent (no buffer
    // per file, which was most of this writer's garbage)
    const reader = content.openSync();
    try {
      let left = content.size;
      for (const e of extents) {
        await seekBlock(e.physical);
        const n = Math.min(left, e.length * B);
        await sink.fill(n, (view) => reader.read(view));
        advance(n);
        left -= n;
      }
      reader.finish();
    } finally {
      reader.close();
    }
    return;
  }
  let k = 0;
  let offset = 0;
  let inExtent = false;
  for await (const chunk of content.chunks()) {
    let at = 0;
    while (at < chunk.length) {
      while (k < extents.length && offset >= (extents[k]!.logical + extents[k]!.length) * B) {
        k++;
        inExtent = false;
      }
      const e = extents[k];
      if (!e) {
        offset += chunk.length - at;
        break;
      }
      const start = e.logical * B;
      const end = (e.logical + e.length) * B;
      if (offset < start) {
        const n = Math.min(chunk.length - at, start - offset);
        at += n;
        offset += n;
        continue;
      }
      if (!inExtent) {
        await seekBlock(e.physical + Math.floor((offset - start) / B));
        inExtent = true;
      }
      const n = Math.min(chunk.length - at, end - offset);
      await write(chunk.subarray(at, at + n));
      at += n;
      offset += n;
    }
  }
  if (offset !== content.size) throw new ReprimageError('IO', content.origin, `gave ${offset} bytes, ${content.size} expected`);
}

const ZEROS = new Uint8Array(1 << 16);

/**
 * Advances the sink by `length` zero bytes: a hole when the sink can make one and the gap is
 * large; short gaps (the tail of a file's last block) are written, which costs less than the
 * flush a hole needs.
 */
async function skip(sink: Sink, length: number): Promise<void> {
  if (length === 0) return;
  if (length < ZEROS.length) return sink.write(ZEROS.subarray(0, length));
  if (typeof sink.skip === 'function') return sink.skip(length);
  for (let left = length; left > 0; left -= ZEROS.length) await sink.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
}
