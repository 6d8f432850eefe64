/**
 * Reads metadata streams: each block is a u16 header (bit 15 = stored raw, low 15 bits = stored
 * size) and at most 8 KiB once decompressed. Blocks are cached (bounded); a read never runs
 * past the end of its table, and nothing is allocated before the bytes it holds were read.
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

export class MetadataReader {
  #cache = new Map<number, Block>();

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
    const head = await this.source.read(at, 2);
    const word = head[0]! | (head[1]! << 8);
    const size = word & ~SQUASHFS_METADATA_UNCOMPRESSED;
    if (size === 0 || size > SQUASHFS_METADATA_SIZE) throw corruptError(this.subject, 'squashfs metadata block', at, `stored size ${size}`);
    if (at + 2 + size > end) throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `squashfs metadata block at ${at} runs past its table (ends at ${end})`);
    const payload = await this.source.read(at + 2, size);
    const data = word & SQUASHFS_METADATA_UNCOMPRESSED ? payload : await this.decompress(payload, SQUASHFS_METADATA_SIZE);
    const block = { data, next: at + 2 + size };
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(at, block);
    return block;
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

  async read(length: number): Promise<Uint8Array> {
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
        this.at = block.next;
        this.offset = 0;
      }
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(length);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
