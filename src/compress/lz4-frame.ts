/**
 * LZ4 stream decoding: the frame format (magic 0x184D2204, lz4's default; linked or independent
 * blocks, block and content checksums verified, skippable frames skipped) and the legacy format
 * (magic 0x184C2102, `lz4 -l`), which the Linux kernel requires for lz4 initramfs images.
 * Frames and legacy streams may follow each other. Memory: one block plus 64 KiB of history.
 *
 * Decoding stops at the end of the input or, between frames, at bytes that start neither a frame
 * nor a legacy stream (zero padding, another archive); `consumed` on the reader says where.
 */
import { ReprimageError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import { Xxh32, xxh32 } from './xxh32.js';

export const LZ4_FRAME_MAGIC = 0x184d2204;
export const LZ4_LEGACY_MAGIC = 0x184c2102;
const SKIPPABLE_MAGIC = 0x184d2a50;
const HISTORY = 64 * 1024;
const LEGACY_BLOCK = 8 << 20;
/** LZ4_compressBound of a legacy block: larger sizes cannot be a block. */
const LEGACY_MAX_COMPRESSED = LEGACY_BLOCK + Math.floor(LEGACY_BLOCK / 255) + 16;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

const le32 = (b: Uint8Array, i = 0) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/**
 * Decompresses LZ4 frames and legacy streams from `input` until it ends or something else
 * starts; returns how many input bytes belonged to LZ4 streams.
 */
export async function* decodeLz4Stream(input: ByteReader, subject: string): AsyncGenerator<Uint8Array, number> {
  const bad = (what: string) => new ReprimageError('CORRUPT_IMAGE', subject, `corrupt lz4 data: ${what}`);
  const short = (what: string) => new ReprimageError('TRUNCATED', subject, `truncated lz4 data: ${what} cut short at compressed byte ${input.consumed}`);
  const need = async (n: number, what: string) => {
    const b = await input.exactly(n);
    if (b.length !== n) throw short(what);
    return b;
  };
  let streams = 0;
  let used = 0; // input bytes up to the end of the last complete stream
  let pending: number | undefined; // a magic number the legacy decoder already read
  for (;;) {
    let magic = pending;
    pending = undefined;
    if (magic === undefined) {
      if (await input.atEnd()) break;
      const head = await input.exactly(4);
      if (head.length < 4) {
        if (streams > 0) break; // a few bytes after the last stream: not ours
        throw short('magic number');
      }
      magic = le32(head);
    }
    if (magic === LZ4_FRAME_MAGIC) {
      yield* decodeFrame(input, need, bad);
      used = input.consumed;
    } else if (magic === LZ4_LEGACY_MAGIC) {
      const stop = yield* decodeLegacy(input, need, bad);
      used = stop.end;
      pending = stop.next;
    } else if (magic >>> 4 === SKIPPABLE_MAGIC >>> 4) {
      let skip = le32(await need(4, 'skippable frame size'));
      while (skip > 0) {
        const got = await input.some(skip);
        if (got.length === 0) throw short('skippable frame');
        skip -= got.length;
      }
      used = input.consumed;
    } else if (streams === 0) {
      throw bad(`unknown magic number 0x${magic.toString(16)}`);
    } else {
      break; // something else follows the last stream (zero padding, another archive)
    }
    streams++;
    if (pending === 0) break;
  }
  if (streams === 0) throw short('stream');
  return used;
}

type Need = (n: number, what: string) => Promise<Uint8Array>;
type Bad = (what: string) => ReprimageError;

async function* decodeFrame(input: ByteReader, need: Need, bad: Bad): AsyncGenerator<Uint8Array> {
  const [flg, bd] = await need(2, 'frame descriptor');
  if (flg! >> 6 !== 1) throw bad(`frame version ${flg! >> 6}, expected 1`);
  if (flg! & 0b10 || bd! & 0x8f) throw bad('reserved bits set in the frame descriptor');
  const independent = (flg! & 0x20) !== 0;
  const blockChecksum = (flg! & 0x10) !== 0;
  const hasSize = (flg! & 0x08) !== 0;
  const contentChecksum = (flg! & 0x04) !== 0;
  const hasDict = (flg! & 0x01) !== 0;
  const blockMax = BLOCK_MAX[(bd! >> 4) & 7]!;
  if (blockMax === 0) throw bad(`block maximum size code ${(bd! >> 4) & 7}`);
  const rest = await need((hasSize ? 8 : 0) + (hasDict ? 4 : 0) + 1, 'frame descriptor');
  const descriptor = new Uint8Array(2 + rest.length - 1);
  descriptor.set([flg!, bd!], 0);
  descriptor.set(rest.subarray(0, rest.length - 1), 2);
  if (((xxh32(descriptor) >>> 8) & 0xff) !== rest[rest.length - 1]) throw bad('frame descriptor checksum mismatch');
  if (hasDict) throw new ReprimageError('UNSUPPORTED', 'lz4', 'frames that need a dictionary are not supported');
  const declared = hasSize ? Number(new DataView(rest.buffer, rest.byteOffset, 8).getBigUint64(0, true)) : undefined;
  const window = new Uint8Array(HISTORY + blockMax);
  let history = 0; // bytes of history at the start of `window`
  const sum = contentChecksum ? new Xxh32() : undefined;
  let total = 0;
  for (;;) {
    const word = le32(await need(4, 'block size'));
    if (word === 0) break;
    const raw = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw bad(`block of ${size} bytes in a frame of ${blockMax}-byte blocks`);
    const data = await need(size, 'block');
    if (blockChecksum && le32(await need(4, 'block checksum')) !== xxh32(data)) throw bad('block checksum mismatch');
    const start = independent ? 0 : history;
    let end: number;
    if (raw) {
      window.set(data, start);
      end = start + size;
    } else {
      end = decodeBlockInto(data, window, start, start + blockMax, bad);
    }
    const out = window.slice(start, end);
    sum?.update(out);
    total += out.length;
    yield out;
    if (!independent) {
      // keep the last 64 KiB as the history of the next block
      const keep = Math.min(HISTORY, end);
      window.copyWithin(0, end - keep, end);
      history = keep;
    }
  }
  if (sum && le32(await need(4, 'content checksum')) !== sum.digest()) throw bad('content checksum mismatch');
  if (declared !== undefined && declared !== total) throw bad(`frame holds ${total} bytes but declares ${declared}`);
}

/**
 * Decodes legacy blocks until the input ends, a zero size (padding), a magic number (another
 * stream, returned in `next`) or a value that cannot be a block size (another archive). `end`
 * is the input offset after the last block.
 */
async function* decodeLegacy(input: ByteReader, need: Need, bad: Bad): AsyncGenerator<Uint8Array, { end: number; next: number }> {
  const window = new Uint8Array(LEGACY_BLOCK);
  let blocks = 0;
  for (;;) {
    const end = input.consumed;
    if (await input.atEnd()) return { end, next: 0 };
    const head = await input.exactly(4);
    if (head.length < 4) return { end, next: 0 };
    const size = le32(head);
    if (size === LZ4_LEGACY_MAGIC || size === LZ4_FRAME_MAGIC) return { end, next: size };
    if (size === 0 || size > LEGACY_MAX_COMPRESSED) {
      if (blocks === 0) throw bad(`legacy block of ${size} bytes`);
      return { end, next: 0 }; // the kernel's format has no end mark: whatever is not a block ends it
    }
    const data = await need(size, 'legacy block');
    const decoded = decodeBlockInto(data, window, 0, LEGACY_BLOCK, bad);
    blocks++;
    yield window.slice(0, decoded);
  }
}

/**
 * Decodes one LZ4 block into `dst` from `start`, never past `limit`; matches may reach back into
 * `dst[0, start)` (the history of linked blocks). Returns the end of the decoded bytes.
 */
export function decodeBlockInto(src: Uint8Array, dst: Uint8Array, start: number, limit: number, bad: Bad): number {
  let s = 0;
  let d = start;
  const length = (base: number): number => {
    let n = base;
    if (base === 15) {
      for (;;) {
        if (s >= src.length) throw bad('length runs past the end of the block');
        const b = src[s++]!;
        n += b;
        if (b !== 255) break;
      }
    }
    return n;
  };
  while (s < src.length) {
    const token = src[s++]!;
    const literals = length(token >> 4);
    if (s + literals > src.length) throw bad('literals run past the end of the block');
    if (d + literals > limit) throw bad('block decodes to more than its maximum size');
    dst.set(src.subarray(s, s + literals), d);
    s += literals;
    d += literals;
    if (s === src.length) break; // the last sequence has literals only
    if (s + 2 > src.length) throw bad('match offset runs past the end of the block');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > d) throw bad(`match offset ${offset} reaches before the start of the data`);
    const matchLength = length(token & 15) + 4;
    if (d + matchLength > limit) throw bad('block decodes to more than its maximum size');
    if (offset >= matchLength) {
      dst.copyWithin(d, d - offset, d - offset + matchLength);
      d += matchLength;
    } else {
      for (let i = 0; i < matchLength; i++, d++) dst[d] = dst[d - offset]!;
    }
  }
  return d;
}
