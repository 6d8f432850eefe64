/**
 * Reads metadata streams: each block is a u16 header (bit 15 = stored raw, low 15 bits = stored
 * size) and at most 8 KiB once decompressed. Blocks are cached (bounded); a read never runs
 * past the end of its table, and nothing is allocated before the bytes it holds were read.
 * A cursor also reads synchronously from the blocks held (`readHeld`), so that decoding many
 * small records (inodes) costs no promise each; it throws `NotHeld` when a block must be read.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import type { SquashfsBlockDecompressor } from '../../compress/squashfs-codecs.js';
import { SQUASHFS_METADATA_SIZE, SQUASHFS_METADATA_UNCOMPRESSED } from './constants.js';

interface Block {
  data: Uint8Array;
  /** Absolute offset of the following block. */
  next: number;
}

const CACHE_LIMIT = 2048;
/** Stored metadata read at once (about eight compressed blocks). */
const READ_AHEAD = 64 << 10;

/** Thrown by `MetadataCursor.readHeld` when a block it needs is not in the cache. */
export class NotHeld extends Error {}

export class MetadataReader {
  #cache = new Map<number, Block>();
  #ahead: { start: number; bytes: Uint8Array } | undefined;
  /** Metadata blocks decompressed so far (a block read again after eviction counts again). */
  decompressed = 0;

  constructor(
    private readonly source: RandomAccessSource,
    private readonly decompress: SquashfsBlockDecompressor,
    private readonly subject: string,
  ) {}

  /** The metadata block at absolute offset `at`, which must lie before `end`. */
  async block(at: number, end: number): Promise<Block> {
    const cached = this.#cache.get(at);
    if (cached) return cached;
    if (!Number.isSafeInteger(at) || at < 0 || at + 2 > end) {
      throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `squashfs metadata block at ${at} is outside its table (ends at ${end})`);
    }
    const head = await this.#stored(at, 2, end);
    const word = head[0]! | (head[1]! << 8);
    const size = word & ~SQUASHFS_METADATA_UNCOMPRESSED;
    if (size === 0 || size > SQUASHFS_METADATA_SIZE) throw corruptError(this.subject, 'squashfs metadata block', at, `stored size ${size}`);
    if (at + 2 + size > end) throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `squashfs metadata block at ${at} runs past its table (ends at ${end})`);
    const payload = await this.#stored(at + 2, size, end);
    const raw = (word & SQUASHFS_METADATA_UNCOMPRESSED) !== 0;
    if (!raw) this.decompressed++;
    // a raw block is copied out of the read-ahead bytes, which are replaced by the next read
    const data = raw ? payload.slice() : await this.decompress(payload, SQUASHFS_METADATA_SIZE);
    const block = { data, next: at + 2 + size };
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(at, block);
    return block;
  }

  /**
   * `length` stored bytes at `at` (before `end`), from the bytes read ahead when they hold them:
   * a table's blocks lie back to back and are mostly read in order, so one read serves several.
   */
  async #stored(at: number, length: number, end: number): Promise<Uint8Array> {
    const ahead = this.#ahead;
    if (ahead && at >= ahead.start && at + length <= ahead.start + ahead.bytes.length) return ahead.bytes.subarray(at - ahead.start, at - ahead.start + length);
    const bytes = await this.source.read(at, Math.max(length, Math.min(READ_AHEAD, end - at)));
    this.#ahead = { start: at, bytes };
    return bytes.subarray(0, length);
  }

  /** The block at `at` when it is in the cache. */
  held(at: number): Block | undefined {
    return this.#cache.get(at);
  }

  /** A cursor at `offset` inside the block at `at`, reading no further than `end`. */
  cursor(at: number, offset: number, end: number): MetadataCursor {
    return new MetadataCursor(this, at, offset, end, this.subject);
  }

  /** `length` bytes of consecutive blocks starting at `at` (lookup tables). */
  async readRun(at: number, length: number, end: number): Promise<Uint8Array> {
    return this.cursor(at, 0, end).read(length);
  }
}

export class MetadataCursor {
  constructor(
    private readonly reader: MetadataReader,
    private at: number,
    private offset: number,
    private readonly end: number,
    private readonly subject: string,
  ) {}

  /** The next `length` bytes; throws when the table ends first. */
  async read(length: number): Promise<Uint8Array> {
    return this.#gather(length, await this.#blocks(length, false));
  }

  /** The next `length` bytes, or fewer when the table ends first. */
  async readUpTo(length: number): Promise<Uint8Array> {
    return this.#gather(length, await this.#blocks(length, true));
  }

  /**
   * The next `length` bytes from blocks already in the cache; throws `NotHeld` (the cursor
   * unmoved) when one is not, or when the table ends first.
   */
  readHeld(length: number): Uint8Array {
    let at = this.at;
    let offset = this.offset;
    const first = this.reader.held(at);
    if (first === undefined) throw new NotHeld();
    // the common case, one block: a view of it, no allocation beyond that
    if (offset <= first.data.length && length <= first.data.length - offset) {
      this.offset += length;
      return first.data.subarray(offset, offset + length);
    }
    const out = new Uint8Array(length);
    let got = 0;
    let block: Block | undefined = first;
    while (got < length) {
      if (block === undefined || offset > block.data.length) throw new NotHeld();
      const take = Math.min(length - got, block.data.length - offset);
      out.set(block.data.subarray(offset, offset + take), got);
      got += take;
      offset += take;
      if (offset === block.data.length && got < length) {
        if (block.next + 2 > this.end) throw new NotHeld();
        at = block.next;
        offset = 0;
        block = this.reader.held(at);
      }
    }
    this.at = at;
    this.offset = offset;
    return out;
  }

  async #blocks(length: number, upTo: boolean): Promise<Uint8Array[]> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < length) {
      const block = await this.reader.block(this.at, this.end);
      if (this.offset > block.data.length) throw corruptError(this.subject, 'squashfs metadata reference', this.at, `offset ${this.offset} past a ${block.data.length}-byte block`);
      const take = Math.min(length - got, block.data.length - this.offset);
      parts.push(block.data.subarray(this.offset, this.offset + take));
      got += take;
      this.offset += take;
      if (this.offset === block.data.length && got < length) {
        if (upTo && block.next + 2 > this.end) break;
        this.at = block.next;
        this.offset = 0;
      }
    }
    return parts;
  }

  #gather(length: number, parts: Uint8Array[]): Uint8Array {
    if (parts.length === 1 && parts[0]!.length === length) return parts[0]!;
    let total = 0;
    for (const p of parts) total += p.length;
    const out = new Uint8Array(Math.min(total, length));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
