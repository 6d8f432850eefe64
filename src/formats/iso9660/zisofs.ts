/**
 * zisofs: files that mkisofs -z, mkzftree or xorriso's --zisofs filter stored compressed, marked
 * by a Rock Ridge ZF entry (algorithm "pz", the header size / 4, log2 of the block size, the
 * uncompressed size). The file's data is a 16-byte header (magic 37 E4 53 96 C9 DB D6 07,
 * uncompressed size u32 LE, header size / 4, log2 block size, 2 reserved bytes), a table of
 * n + 1 u32 LE offsets (from the file's start) for its n blocks, then each block as a zlib stream
 * of one block size (the last one shorter); a block whose two offsets are equal is all zeros.
 * Reading inflates with node:zlib, which docs/design.md rule 6 allows for reading.
 */
import { inflateSync } from 'node:zlib';
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { streamContent, type Content } from '../../tree/content.js';

export interface ZisofsInfo {
  /** "pz" for zisofs (zlib). */
  algorithm: string;
  headerSize: number;
  blockLog: number;
  size: number;
}

const MAGIC = [0x37, 0xe4, 0x53, 0x96, 0xc9, 0xdb, 0xd6, 0x07];
const HEADER_SIZE = 16;

/** The ZF entry's data (after the SUSP header), or undefined when too short. */
export function decodeZf(data: Uint8Array): ZisofsInfo | undefined {
  if (data.length < 12) return undefined;
  const size = (data[4]! | (data[5]! << 8) | (data[6]! << 16) | (data[7]! << 24)) >>> 0;
  return { algorithm: String.fromCharCode(data[0]!, data[1]!), headerSize: data[2]! * 4, blockLog: data[3]!, size };
}

/**
 * The uncompressed contents of a zisofs file whose compressed bytes are `length` bytes at
 * `offset` of `source`. The header and block table are checked when the contents are read.
 */
export function zisofsContent(source: RandomAccessSource, offset: number, length: number, zf: ZisofsInfo, origin: string): Content {
  const bad = (detail: string) => corruptError(source.name, `zisofs data of ${origin}`, offset, detail);
  // the Linux kernel reads block sizes of 32, 64 and 128 KiB only
  if (zf.blockLog < 15 || zf.blockLog > 17) throw new ReprimageError('UNSUPPORTED', source.name, `${origin}: zisofs block size 2^${zf.blockLog} (only 2^15..2^17 exist)`);
  const blockSize = 2 ** zf.blockLog;
  const blocks = Math.ceil(zf.size / blockSize);
  return streamContent(zf.size, origin, async function* () {
    if (zf.size === 0) return;
    const tableAt = Math.max(HEADER_SIZE, zf.headerSize);
    const tableBytes = (blocks + 1) * 4;
    if (tableAt + tableBytes > length) throw bad(`${blocks} blocks need a ${tableBytes}-byte table, but the file holds ${length} bytes`);
    const head = await source.read(offset, tableAt + tableBytes);
    if (!MAGIC.every((b, i) => head[i] === b)) throw bad('no zisofs magic at the start of the data');
    const view = new DataView(head.buffer, head.byteOffset, head.length);
    if (view.getUint32(8, true) !== zf.size) throw bad(`the header says ${view.getUint32(8, true)} bytes, the ZF entry ${zf.size}`);
    if (head[13] !== zf.blockLog) throw bad(`the header's block size 2^${head[13]} differs from the ZF entry's 2^${zf.blockLog}`);
    for (let i = 0; i < blocks; i++) {
      const from = view.getUint32(tableAt + i * 4, true);
      const to = view.getUint32(tableAt + (i + 1) * 4, true);
      const want = Math.min(blockSize, zf.size - i * blockSize);
      if (from > to || to > length || from < tableAt + tableBytes) throw bad(`block ${i} at bytes ${from}..${to} lies outside the ${length}-byte data`);
      if (from === to) {
        yield new Uint8Array(want);
        continue;
      }
      let out: Buffer;
      try {
        // maxOutputLength: a block that inflates beyond its size is corrupt, and must not fill memory
        out = inflateSync(await source.read(offset + from, to - from), { maxOutputLength: blockSize });
      } catch (e) {
        throw bad(`block ${i} does not inflate (${e instanceof Error ? e.message : String(e)})`);
      }
      if (out.length !== want) throw bad(`block ${i} inflates to ${out.length} bytes, not ${want}`);
      yield new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
  });
}
