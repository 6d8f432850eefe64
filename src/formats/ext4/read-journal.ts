/**
 * Replaying an ext3/ext4 (jbd2) journal in memory, as e2fsck and the kernel do when a file system
 * was not unmounted cleanly (needs_recovery): the committed transactions from s_start on are
 * found (descriptor, commit and revoke blocks, each carrying the expected sequence number), the
 * revoke records of all of them are gathered, and each logged block not revoked by the same or a
 * later transaction replaces the file system block it names, later transactions last. Nothing is
 * written: the result is a map of block number → where its replayed bytes are in the journal,
 * which the reader lays over the image (only positions are kept, so a large journal costs no
 * more memory than its list of tags).
 *
 * Tags come in every layout jbd2 has: 8 bytes (32-bit), 12 (64bit), +2 with csum v2, 16 with
 * csum v3 (each followed by a UUID unless SAME_UUID). With csum v2/v3 a transaction counts only
 * if its commit block's crc32c matches, as in the kernel's recovery; v1 commit checksums
 * (compat CHECKSUM) and data-block tag checksums are not verified, and ext4 fast commits (kept
 * after the jbd2 area) are not replayed: `fastCommit` tells the caller, who warns. The walk is
 * bounded by the journal's length, so a hostile journal cannot loop.
 */
import { corruptError } from '../../errors.js';
import { crc32cUpdate } from '../../compress/crc32c.js';
import { JBD2_MAGIC, JSB, getU32BE } from './layout.js';
import type { Run } from './read-mapping.js';

const BLOCK_DESCRIPTOR = 1;
const BLOCK_COMMIT = 2;
const BLOCK_SUPERBLOCK_V1 = 3;
const BLOCK_SUPERBLOCK_V2 = 4;
const BLOCK_REVOKE = 5;

const INCOMPAT_REVOKE = 0x1;
const INCOMPAT_64BIT = 0x2;
const INCOMPAT_ASYNC_COMMIT = 0x4;
const INCOMPAT_CSUM_V2 = 0x8;
const INCOMPAT_CSUM_V3 = 0x10;
const INCOMPAT_FAST_COMMIT = 0x20;
const KNOWN_INCOMPAT = INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_ASYNC_COMMIT | INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3 | INCOMPAT_FAST_COMMIT;

const TAG_ESCAPE = 0x1;
const TAG_SAME_UUID = 0x2;
const TAG_LAST = 0x8;
const HEADER_SIZE = 12;
/** The commit block's h_chksum[0]. */
const COMMIT_CHECKSUM_AT = 16;

export interface JournalFile {
  /** Where the journal inode's blocks are: its runs, logical → physical. */
  runs: readonly Run[];
  /** Reads one file system block (already bounds-checked by the caller's mapping). */
  readBlock(physical: number): Promise<Uint8Array>;
  blockSize: number;
  /** For messages. */
  name: string;
}

/** Where a replayed block's bytes are: a block of the image (inside the journal). */
export interface ReplayedBlock {
  physical: number;
  /** The block began with the jbd2 magic, which the log replaced by zeros: put it back. */
  escaped: boolean;
}

export interface Replay {
  /** File system block → where its replayed bytes are. */
  blocks: Map<number, ReplayedBlock>;
  transactions: number;
  /** The journal uses fast commits (ext4's own log after the jbd2 area), which are not replayed here. */
  fastCommit: boolean;
}

/** A replayed block's bytes as read from `physical` of the image, its magic put back if escaped (a copy then). */
export function restoreEscaped(data: Uint8Array, block: ReplayedBlock): Uint8Array {
  if (!block.escaped) return data;
  const copy = data.slice();
  copy.set(MAGIC_BYTES, 0);
  return copy;
}

const MAGIC_BYTES = Uint8Array.of(0xc0, 0x3b, 0x39, 0x98);

interface Tag {
  target: number;
  /** The journal block (logical, within the journal) holding the data. */
  logBlock: number;
  escaped: boolean;
}

export async function replayJournal(journal: JournalFile, fsBlocks: number): Promise<Replay> {
  const { blockSize, name } = journal;
  const bad = (detail: string) => corruptError(name, 'ext4 journal', undefined, detail);
  /** The image block holding journal block `n`. */
  const physical = (n: number): number => {
    for (const r of journal.runs) {
      if (n >= r.logical && n < r.logical + r.length && !r.unwritten) return r.physical + (n - r.logical);
    }
    throw bad(`journal block ${n} is not mapped by the journal inode`);
  };
  const logical = (n: number): Promise<Uint8Array> => journal.readBlock(physical(n));

  const sb = (await logical(0)).slice();
  if (getU32BE(sb, 0) !== JBD2_MAGIC) throw bad('no jbd2 magic in the journal superblock');
  const sbType = getU32BE(sb, JSB.blocktype);
  if (sbType !== BLOCK_SUPERBLOCK_V1 && sbType !== BLOCK_SUPERBLOCK_V2) throw bad(`journal superblock type ${sbType}`);
  if (getU32BE(sb, JSB.blocksize) !== blockSize) throw bad(`journal block size ${getU32BE(sb, JSB.blocksize)} differs from the file system's ${blockSize}`);
  const maxlen = getU32BE(sb, JSB.maxlen);
  const first = getU32BE(sb, JSB.first);
  const start = getU32BE(sb, JSB.start);
  let sequence = getU32BE(sb, JSB.sequenceFirst);
  const incompat = sbType === BLOCK_SUPERBLOCK_V2 ? getU32BE(sb, JSB.featureIncompat) : 0;
  if (incompat & ~KNOWN_INCOMPAT) throw bad(`journal incompatible feature(s) 0x${(incompat & ~KNOWN_INCOMPAT).toString(16)}`);
  if (first < 1 || first >= maxlen || maxlen > fsBlocks) throw bad(`journal area ${first}..${maxlen} is impossible`);
  const out: Replay = { blocks: new Map(), transactions: 0, fastCommit: false };
  if (start === 0) return out; // clean: nothing to replay
  out.fastCommit = (incompat & INCOMPAT_FAST_COMMIT) !== 0;
  if (start < first || start >= maxlen) throw bad(`journal start ${start} outside ${first}..${maxlen - 1}`);

  const csum3 = (incompat & INCOMPAT_CSUM_V3) !== 0;
  const csum2 = (incompat & INCOMPAT_CSUM_V2) !== 0;
  const bit64 = (incompat & INCOMPAT_64BIT) !== 0;
  const tagBytes = csum3 ? 16 : (csum2 ? 10 : 8) + (bit64 ? 4 : 0);
  const tailBytes = csum2 || csum3 ? 4 : 0;
  const seed = csum2 || csum3 ? crc32cUpdate(0xffffffff, sb.subarray(JSB.uuid, JSB.uuid + 16)) : 0;
  const wrap = (n: number) => (n >= maxlen ? n - maxlen + first : n);

  // one pass over the log: transactions as lists of tags, and the revoke records (block → latest sequence)
  const transactions: Array<{ sequence: number; tags: Tag[] }> = [];
  const revoked = new Map<number, number>();
  let steps = 0;
  let pending: { sequence: number; tags: Tag[]; revokes: Array<[number, number]> } = { sequence, tags: [], revokes: [] };
  for (let at = start; ; ) {
    if (++steps > maxlen) break; // the log wrapped onto itself: stop as recovery does at a stale block
    const block = await logical(at);
    if (getU32BE(block, 0) !== JBD2_MAGIC || getU32BE(block, 8) !== sequence) break;
    const type = getU32BE(block, 4);
    if (type === BLOCK_DESCRIPTOR) {
      let p = HEADER_SIZE;
      let next = wrap(at + 1);
      for (;;) {
        if (p + tagBytes > blockSize - tailBytes) break;
        const lo = getU32BE(block, p);
        const flags = csum3 ? getU32BE(block, p + 4) : (block[p + 6]! << 8) | block[p + 7]!;
        const hi = bit64 ? getU32BE(block, p + 8) : 0;
        const target = hi * 0x1_0000_0000 + lo;
        pending.tags.push({ target, logBlock: next, escaped: (flags & TAG_ESCAPE) !== 0 });
        next = wrap(next + 1);
        p += tagBytes + (flags & TAG_SAME_UUID ? 0 : 16);
        if (flags & TAG_LAST) break;
      }
      at = next;
    } else if (type === BLOCK_REVOKE) {
      const count = getU32BE(block, HEADER_SIZE);
      const size = bit64 ? 8 : 4;
      if (count > blockSize - tailBytes || count < HEADER_SIZE + 4) throw bad(`revoke block at journal block ${at} claims ${count} bytes`);
      for (let p = HEADER_SIZE + 4; p + size <= count; p += size) {
        const target = bit64 ? getU32BE(block, p) * 0x1_0000_0000 + getU32BE(block, p + 4) : getU32BE(block, p);
        pending.revokes.push([target, sequence]);
      }
      at = wrap(at + 1);
    } else if (type === BLOCK_COMMIT) {
      if (csum2 || csum3) {
        const copy = block.slice();
        copy.fill(0, COMMIT_CHECKSUM_AT, COMMIT_CHECKSUM_AT + 4);
        // (the kernel ends recovery at a commit block whose checksum fails: the transaction never completed)
        if ((crc32cUpdate(seed, copy) >>> 0) !== getU32BE(block, COMMIT_CHECKSUM_AT)) break;
      }
      transactions.push({ sequence, tags: pending.tags });
      for (const [target, seq] of pending.revokes) revoked.set(target, Math.max(revoked.get(target) ?? 0, seq));
      sequence = (sequence + 1) >>> 0;
      pending = { sequence, tags: [], revokes: [] };
      at = wrap(at + 1);
    } else {
      break;
    }
  }

  for (const t of transactions) {
    for (const tag of t.tags) {
      const r = revoked.get(tag.target);
      if (r !== undefined && seqAtLeast(r, t.sequence)) continue;
      if (tag.target >= fsBlocks) throw bad(`transaction ${t.sequence} writes block ${tag.target}, outside the ${fsBlocks} blocks`);
      out.blocks.set(tag.target, { physical: physical(tag.logBlock), escaped: tag.escaped });
    }
  }
  out.transactions = transactions.length;
  return out;
}

/** Whether sequence `a` is `b` or later, with jbd2's 32-bit wrap-around. */
function seqAtLeast(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
