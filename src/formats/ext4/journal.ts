/**
 * The internal jbd2 journal: an empty log (s_start = 0, so nothing is replayed) of the size
 * mke2fs picks for the volume, whose only written block is its big-endian superblock. The rest
 * of the journal reads as zeros and stays a hole in the image file.
 */
import { JBD2_MAGIC, JBD2_SUPERBLOCK_V2, JSB, putU32BE } from './layout.js';

/** mke2fs's default journal size in blocks for a volume of `blocks` blocks (at least 1024 here). */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/** The journal superblock (one block): version 2, empty, owned by the file system. */
export function encodeJournalSuperblock(blockSize: number, journalBlocks: number, uuid: Uint8Array): Uint8Array {
  const b = new Uint8Array(blockSize);
  putU32BE(b, JSB.magic, JBD2_MAGIC);
  putU32BE(b, JSB.blocktype, JBD2_SUPERBLOCK_V2);
  putU32BE(b, JSB.sequence, 0);
  putU32BE(b, JSB.blocksize, blockSize);
  putU32BE(b, JSB.maxlen, journalBlocks);
  putU32BE(b, JSB.first, 1);
  putU32BE(b, JSB.sequenceFirst, 1);
  putU32BE(b, JSB.start, 0);
  b.set(uuid, JSB.uuid);
  putU32BE(b, JSB.nrUsers, 1);
  return b;
}
