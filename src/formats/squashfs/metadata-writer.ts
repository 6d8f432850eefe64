/**
 * Metadata streams (inode table, directory table, xattr table, lookup tables): bytes are cut
 * into 8 KiB blocks, each compressed on its own and prefixed by a u16 header whose bit 15 says
 * "stored uncompressed". A reference into a stream is (start of its block relative to the
 * stream, in compressed bytes) << 16 | offset inside the uncompressed block.
 */
import { SQUASHFS_METADATA_SIZE, SQUASHFS_METADATA_UNCOMPRESSED } from './constants.js';

/** Compresses one metadata block; returns undefined when storing it raw is better. */
export type MetadataCompressor = (data: Uint8Array) => Promise<Uint8Array | undefined>;

/** One encoded metadata block: the u16 header followed by the payload. */
export async function encodeMetadataBlock(data: Uint8Array, compress: MetadataCompressor | undefined): Promise<Uint8Array> {
  const packed = compress ? await compress(data) : undefined;
  const useRaw = packed === undefined || packed.length >= data.length;
  const payload = useRaw ? data : packed;
  const out = new Uint8Array(2 + payload.length);
  new DataView(out.buffer).setUint16(0, payload.length | (useRaw ? SQUASHFS_METADATA_UNCOMPRESSED : 0), true);
  out.set(payload, 2);
  return out;
}

export class MetadataWriter {
  #pending = new Uint8Array(SQUASHFS_METADATA_SIZE * 2);
  #pendingLength = 0;
  /** Encoded blocks so far. */
  readonly blocks: Uint8Array[] = [];
  /** Start of each encoded block, relative to the stream. */
  readonly starts: number[] = [];
  #encodedBytes = 0;
  #position = 0;

  constructor(private readonly compress: MetadataCompressor | undefined) {}

  /** Uncompressed bytes appended so far. */
  get position(): number {
    return this.#position;
  }

  /** Appends bytes, then encodes every block that is complete. */
  async append(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, this.#pending.length - this.#pendingLength);
      this.#pending.set(bytes.subarray(at, at + take), this.#pendingLength);
      this.#pendingLength += take;
      at += take;
      this.#position += take;
      await this.#encodeComplete();
    }
  }

  /** The reference of the next byte to be appended (every earlier block is already encoded). */
  nextRef(): { block: number; offset: number } {
    return { block: this.#encodedBytes, offset: this.#pendingLength };
  }

  /**
   * Start (relative to the stream) of the block that holds uncompressed position `pos`; valid for
   * positions in encoded blocks and in the block being filled.
   */
  blockStartOf(pos: number): number {
    const b = Math.floor(pos / SQUASHFS_METADATA_SIZE);
    return b < this.starts.length ? this.starts[b]! : this.#encodedBytes;
  }

  /** Encodes what is left and returns the whole stream. */
  async finish(): Promise<Uint8Array> {
    if (this.#pendingLength > 0) {
      await this.#emit(this.#pending.slice(0, this.#pendingLength));
      this.#pendingLength = 0;
    }
    const out = new Uint8Array(this.#encodedBytes);
    let at = 0;
    for (const b of this.blocks) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  get encodedBytes(): number {
    return this.#encodedBytes;
  }

  async #encodeComplete(): Promise<void> {
    while (this.#pendingLength >= SQUASHFS_METADATA_SIZE) {
      const block = this.#pending.slice(0, SQUASHFS_METADATA_SIZE);
      this.#pending.copyWithin(0, SQUASHFS_METADATA_SIZE, this.#pendingLength);
      this.#pendingLength -= SQUASHFS_METADATA_SIZE;
      await this.#emit(block);
    }
  }

  async #emit(block: Uint8Array): Promise<void> {
    const encoded = await encodeMetadataBlock(block, this.compress);
    this.starts.push(this.#encodedBytes);
    this.blocks.push(encoded);
    this.#encodedBytes += encoded.length;
  }
}

/**
 * A lookup table (fragment, export, id, xattr id): the entries as metadata blocks, then an
 * optional fixed header, then one u64 absolute pointer per metadata block. Returns the bytes
 * to append at `at` and the offset (absolute) the superblock records: that of the header if
 * any, else of the pointer list.
 *
 * ```
 * at ─► [meta block 0][meta block 1]…[header?][u64 → block 0][u64 → block 1]…
 *                                     ▲ table start
 * ```
 */
export async function encodeLookupTable(
  entries: Uint8Array,
  at: number,
  compress: MetadataCompressor | undefined,
  header?: Uint8Array,
): Promise<{ bytes: Uint8Array; tableStart: number }> {
  const parts: Uint8Array[] = [];
  const pointers: number[] = [];
  let pos = at;
  for (let off = 0; off < entries.length; off += SQUASHFS_METADATA_SIZE) {
    const block = await encodeMetadataBlock(entries.subarray(off, Math.min(entries.length, off + SQUASHFS_METADATA_SIZE)), compress);
    pointers.push(pos);
    parts.push(block);
    pos += block.length;
  }
  const tableStart = pos;
  if (header) {
    parts.push(header);
    pos += header.length;
  }
  const list = new Uint8Array(pointers.length * 8);
  const v = new DataView(list.buffer);
  pointers.forEach((p, i) => v.setBigUint64(i * 8, BigInt(p), true));
  parts.push(list);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, tableStart };
}
