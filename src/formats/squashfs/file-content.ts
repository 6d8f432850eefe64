/**
 * The contents of a SquashFS regular file: its data blocks (stored back to back from
 * `blocksStart`, sparse ones as a size of 0) and an optional tail in a shared fragment block.
 * Nothing is read until the bytes are asked for, and nothing per file is built beyond this one
 * object: a root file system has tens of thousands of files that a walk passes by.
 *
 * The stored form (`stored`) lets the differ compare two files without decompressing them: the
 * same codec, block size, block list and fragment layout, and equal stored bytes, mean equal
 * contents, wherever in their images the bytes sit.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { streamContent, type Content, type DataRegion, type StoredExtent, type StoredForm } from '../../tree/content.js';
import { SQUASHFS_BLOCK_SIZE_MASK, SQUASHFS_BLOCK_UNCOMPRESSED, SQUASHFS_INVALID_FRAGMENT } from './constants.js';
import type { FileInode } from './layout/inode.js';
import type { FragmentEntry } from './layout/tables.js';
import type { Superblock } from './layout/superblock.js';

/** Largest single read of a file's stored blocks (the differ compares them in these steps). */
const STORED_READ = 1 << 20;

/** What a file's contents need from the image's reader. */
export interface FileDataReader {
  readonly source: RandomAccessSource;
  readonly sb: Superblock;
  /** End of the image's bytes (`bytesUsed`). */
  readonly end: number;
  readonly subject: string;
  /** Decompresses one data block, counting it. */
  decompressData(raw: Uint8Array): Promise<Uint8Array>;
  fragmentBlock(index: number): Promise<{ frag: FragmentEntry; data: Uint8Array }>;
  storedFragmentBlock(index: number): Promise<{ frag: FragmentEntry; raw: Uint8Array }>;
  /** The fragment table entry when the table is already read; undefined when it is not. */
  heldFragment(index: number): FragmentEntry | undefined;
}

export class SquashfsFileContent implements Content, StoredForm {
  readonly #tail: number;
  #form: string | undefined;
  #regions: DataRegion[] | undefined | null = null;

  constructor(
    readonly reader: FileDataReader,
    readonly inode: FileInode,
    readonly path: string,
  ) {
    const hasFragment = inode.fragment !== SQUASHFS_INVALID_FRAGMENT;
    const tail = hasFragment ? inode.fileSize - inode.blockSizes.length * reader.sb.blockSize : 0;
    if (hasFragment && (tail <= 0 || tail >= reader.sb.blockSize)) throw corruptError(reader.subject, 'squashfs file inode', undefined, `${path}: fragment tail of ${tail} bytes`);
    this.#tail = tail;
  }

  get size(): number {
    return this.inode.fileSize;
  }

  get origin(): string {
    return `${this.reader.subject} ▸ ${this.path}`;
  }

  /** The runs that hold data, when some blocks are sparse (a size of 0). */
  get dataRegions(): DataRegion[] | undefined {
    if (this.#regions === null) this.#regions = this.#sparseRegions();
    return this.#regions;
  }

  get stored(): StoredForm {
    return this;
  }

  /** Codec, block size, size, block list and fragment layout (with the fragment's raw bit when the table is read). */
  get form(): string {
    if (this.#form === undefined) {
      const { inode, reader } = this;
      let fragment = '-';
      if (this.#tail > 0) {
        const frag = reader.heldFragment(inode.fragment);
        fragment = `${inode.fragmentOffset}+${this.#tail}${frag === undefined ? '' : frag.size & SQUASHFS_BLOCK_UNCOMPRESSED ? ' raw' : ' packed'}`;
      }
      this.#form = `squashfs:${reader.sb.compressor}:${reader.sb.blockSize}:${inode.fileSize}:${inode.blockSizes.join(',')}:${fragment}`;
    }
    return this.#form;
  }

  /** The blocks in one run, then the whole fragment block: where `parts()` reads them. */
  extents(): StoredExtent[] | undefined {
    const { reader, inode } = this;
    const out: StoredExtent[] = [];
    const total = this.#blocksLength();
    if (total > 0) out.push({ source: reader.source, offset: inode.blocksStart, length: total });
    if (this.#tail > 0) {
      const frag = reader.heldFragment(inode.fragment);
      if (frag === undefined) return undefined;
      out.push({ source: reader.source, offset: frag.start, length: this.#fragmentLength(frag) });
    }
    return out;
  }

  async *parts(): AsyncIterable<Uint8Array> {
    const { reader, inode } = this;
    const total = this.#blocksLength();
    // the blocks of a file are stored back to back: read in a few large reads
    for (let done = 0; done < total; done += STORED_READ) yield await reader.source.read(inode.blocksStart + done, Math.min(STORED_READ, total - done));
    if (this.#tail > 0) {
      const { frag, raw } = await reader.storedFragmentBlock(inode.fragment);
      yield new Uint8Array([frag.size & SQUASHFS_BLOCK_UNCOMPRESSED ? 1 : 0]);
      yield raw;
    }
  }

  chunks(): AsyncIterable<Uint8Array> {
    return streamContent(this.size, this.origin, () => this.#data()).chunks();
  }

  /** Bytes of the file's blocks as stored; throws when a block size is impossible or the run leaves the image. */
  #blocksLength(): number {
    const { reader, inode } = this;
    const bs = reader.sb.blockSize;
    let total = 0;
    for (const word of inode.blockSizes) {
      const n = word & SQUASHFS_BLOCK_SIZE_MASK;
      if (n > bs) throw corruptError(reader.subject, 'squashfs file', inode.blocksStart, `${this.path}: a block stored in ${n} bytes`);
      total += n;
    }
    if (inode.blocksStart + total > reader.end) throw new ReprimageError('OUT_OF_BOUNDS', reader.subject, `squashfs ${this.path}: its blocks run past the image`);
    return total;
  }

  #fragmentLength(frag: FragmentEntry): number {
    const stored = frag.size & SQUASHFS_BLOCK_SIZE_MASK;
    if (stored > this.reader.sb.blockSize || stored === 0 || frag.start + stored > this.reader.end) {
      throw corruptError(this.reader.subject, 'squashfs fragment', frag.start, `fragment ${this.inode.fragment} of ${stored} bytes`);
    }
    return stored;
  }

  #sparseRegions(): DataRegion[] | undefined {
    const { inode } = this;
    if (!inode.blockSizes.includes(0)) return undefined;
    const bs = this.reader.sb.blockSize;
    const size = inode.fileSize;
    const regions: DataRegion[] = [];
    inode.blockSizes.forEach((s, i) => {
      if (s === 0) return;
      const off = i * bs;
      const len = Math.min(bs, size - off);
      const last = regions[regions.length - 1];
      if (last && last.offset + last.length === off) regions[regions.length - 1] = { offset: last.offset, length: last.length + len };
      else regions.push({ offset: off, length: len });
    });
    if (this.#tail > 0) regions.push({ offset: size - this.#tail, length: this.#tail });
    return regions;
  }

  async *#data(): AsyncGenerator<Uint8Array> {
    const { reader, inode, path } = this;
    const bs = reader.sb.blockSize;
    const size = inode.fileSize;
    let at = inode.blocksStart;
    for (let i = 0; i < inode.blockSizes.length; i++) {
      const word = inode.blockSizes[i]!;
      const len = Math.min(bs, size - i * bs);
      if (word === 0) {
        yield new Uint8Array(len);
        continue;
      }
      const stored = word & SQUASHFS_BLOCK_SIZE_MASK;
      if (stored > bs || stored === 0) throw corruptError(reader.subject, 'squashfs file', at, `${path}: block ${i} stored in ${stored} bytes`);
      if (at + stored > reader.end) throw new ReprimageError('OUT_OF_BOUNDS', reader.subject, `squashfs ${path}: block ${i} at ${at} runs past the image`);
      const raw = await reader.source.read(at, stored);
      at += stored;
      const data = word & SQUASHFS_BLOCK_UNCOMPRESSED ? raw : await reader.decompressData(raw);
      if (data.length !== len) throw corruptError(reader.subject, 'squashfs file', at - stored, `${path}: block ${i} holds ${data.length} bytes, ${len} expected`);
      yield data;
    }
    if (this.#tail > 0) {
      const { frag, data } = await reader.fragmentBlock(inode.fragment);
      if (inode.fragmentOffset + this.#tail > data.length) throw corruptError(reader.subject, 'squashfs fragment', frag.start, `${path}: tail ${inode.fragmentOffset}+${this.#tail} past a ${data.length}-byte fragment`);
      yield data.subarray(inode.fragmentOffset, inode.fragmentOffset + this.#tail);
    }
  }
}
