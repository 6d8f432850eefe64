/**
 * Where an xz stream ends, found without decompressing it, so that what follows it (the next
 * segment of a concatenated initramfs, which the kernel unpacks too) is not fed to the xz
 * decoder. The xz format (tukaani.org/xz/xz-file-format.txt §2.1) ends each stream with a
 * 12-byte footer: CRC-32 of the next 6 bytes, the index size ("backward size"), the stream flags
 * (equal to the header's) and "YZ"; the index just before it starts with a 0 byte and ends with
 * its own CRC-32. A candidate "YZ" is taken only when all of these agree, so compressed bytes
 * that happen to contain "YZ" are not mistaken for the end.
 */
import { ReprimageError } from '../errors.js';
import type { RandomAccessSource } from '../io/source.js';
import { crc32 } from './crc32.js';

const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const HEADER_SIZE = 12;
const FOOTER_SIZE = 12;
/** Bytes scanned per read; consecutive reads overlap by one byte so "YZ" across them is found. */
const SCAN = 1 << 20;
/** An index larger than this is not believed (it lists one record per block: 16 GiB of index is absurd). */
const MAX_INDEX = 1 << 30;

/** The offset just after the footer of the xz stream starting at `offset`. */
export async function xzStreamEnd(source: RandomAccessSource, offset: number, subject: string): Promise<number> {
  if (offset + HEADER_SIZE + FOOTER_SIZE > source.size) throw new ReprimageError('TRUNCATED', subject, `truncated xz data: ${source.size - offset} bytes cannot hold an xz stream`);
  const header = await source.read(offset, HEADER_SIZE);
  if (!HEADER_MAGIC.every((b, i) => header[i] === b)) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt xz data: no xz stream header at byte ${offset}`);
  if (crc32(header.subarray(6, 8)) !== u32(header, 8)) throw new ReprimageError('CORRUPT_IMAGE', subject, `corrupt xz data: stream header CRC-32 mismatch at byte ${offset}`);
  const flags = header.subarray(6, 8);
  for (let at = offset + HEADER_SIZE; at < source.size - 1; at += SCAN - 1) {
    const chunk = await source.read(at, Math.min(SCAN, source.size - at));
    for (let i = chunk.indexOf(0x59); i >= 0 && i + 1 < chunk.length; i = chunk.indexOf(0x59, i + 1)) {
      if (chunk[i + 1] !== 0x5a) continue;
      const end = at + i + 2;
      // a stream is a whole number of 4-byte units
      if ((end - offset) % 4 !== 0) continue;
      if (await isStreamEnd(source, offset, end, flags)) return end;
    }
  }
  throw new ReprimageError('TRUNCATED', subject, `truncated xz data: the stream starting at byte ${offset} has no end (no stream footer)`);
}

async function isStreamEnd(source: RandomAccessSource, start: number, end: number, flags: Uint8Array): Promise<boolean> {
  const footerAt = end - FOOTER_SIZE;
  if (footerAt < start + HEADER_SIZE) return false;
  const footer = await source.read(footerAt, FOOTER_SIZE);
  if (footer[8] !== flags[0] || footer[9] !== flags[1]) return false;
  if (crc32(footer.subarray(4, 10)) !== u32(footer, 0)) return false;
  const indexSize = (u32(footer, 4) + 1) * 4;
  const indexAt = footerAt - indexSize;
  if (indexSize > MAX_INDEX || indexAt < start + HEADER_SIZE) return false;
  const index = await source.read(indexAt, indexSize);
  return index[0] === 0 && crc32(index.subarray(0, indexSize - 4)) === u32(index, indexSize - 4);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
