/**
 * Directory listings. A listing is a run of headers, each followed by up to 256 entries that
 * share the header's inode metadata block and whose inode numbers lie within ±32767 of the
 * header's. Names are stored without a terminator, their length minus one in `nameSize`.
 *
 * ```
 * header  { count-1 u32, inode block start u32, base inode number u32 }
 *   entry { offset in inode block u16, inode number - base s16, basic type u16, name length-1 u16, name }
 *   entry …
 * header  …
 * ```
 *
 * `DirectoryListingBuilder` cuts headers and places index points exactly as mksquashfs 4.5
 * does, so that listings (and the directory index of large directories) are byte-identical.
 */
import { corruptError } from '../../../errors.js';
import { SQUASHFS_DIR_HEADER_MAX_ENTRIES, SQUASHFS_METADATA_SIZE } from '../constants.js';

export const DIR_HEADER_SIZE = 12;
export const DIR_ENTRY_SIZE = 8;

export interface DirEntry {
  name: Uint8Array;
  /** Start of the inode's metadata block relative to the inode table. */
  inodeBlock: number;
  /** Offset of the inode inside that block (uncompressed). */
  inodeOffset: number;
  inodeNumber: number;
  /** Basic inode type number (1..7). */
  type: number;
}

/** An index point of a listing: where a header starts and the first name under it. */
export interface ListingIndexPoint {
  index: number;
  name: Uint8Array;
}

export class DirectoryListingBuilder {
  #buf = new Uint8Array(SQUASHFS_METADATA_SIZE);
  #view = new DataView(this.#buf.buffer);
  #p = 0;
  #indexCountP = 0;
  #entryCount = SQUASHFS_DIR_HEADER_MAX_ENTRIES;
  #entryCountP = -1;
  #startBlock = 0;
  #inodeNumber = 0;
  readonly index: ListingIndexPoint[] = [];
  /** Entries added; mksquashfs uses it to decide on an extended inode. */
  count = 0;

  add(e: DirEntry): void {
    const size = e.name.length;
    this.#ensure(this.#p + DIR_ENTRY_SIZE + size + DIR_HEADER_SIZE);
    const diff = e.inodeNumber - this.#inodeNumber;
    const crossesIndex = this.#p + DIR_ENTRY_SIZE + size - this.#indexCountP > SQUASHFS_METADATA_SIZE;
    if (
      this.#entryCount === SQUASHFS_DIR_HEADER_MAX_ENTRIES ||
      e.inodeBlock !== this.#startBlock ||
      (this.#entryCountP >= 0 && crossesIndex) ||
      diff > 32767 ||
      diff < -32768
    ) {
      if (this.#entryCountP >= 0) {
        if (crossesIndex) {
          this.index.push({ index: this.#p, name: e.name });
          this.#indexCountP = this.#p;
        }
        this.#closeHeader();
      }
      this.#entryCountP = this.#p;
      this.#startBlock = e.inodeBlock;
      this.#entryCount = 0;
      this.#inodeNumber = e.inodeNumber;
      this.#p += DIR_HEADER_SIZE;
    }
    const v = this.#view;
    v.setUint16(this.#p, e.inodeOffset, true);
    v.setInt16(this.#p + 2, e.inodeNumber - this.#inodeNumber, true);
    v.setUint16(this.#p + 4, e.type, true);
    v.setUint16(this.#p + 6, size - 1, true);
    this.#buf.set(e.name, this.#p + DIR_ENTRY_SIZE);
    this.#p += DIR_ENTRY_SIZE + size;
    this.#entryCount++;
    this.count++;
  }

  /** The finished listing (empty for an empty directory). */
  finish(): Uint8Array {
    if (this.#entryCountP >= 0) this.#closeHeader();
    return this.#buf.slice(0, this.#p);
  }

  #closeHeader(): void {
    const v = this.#view;
    v.setUint32(this.#entryCountP, this.#entryCount - 1, true);
    v.setUint32(this.#entryCountP + 4, this.#startBlock, true);
    v.setUint32(this.#entryCountP + 8, this.#inodeNumber, true);
  }

  #ensure(n: number): void {
    if (n < this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(n + 1, this.#buf.length * 2));
    bigger.set(this.#buf);
    this.#buf = bigger;
    this.#view = new DataView(bigger.buffer);
  }
}

/**
 * Decodes a whole listing. Throws CORRUPT_IMAGE for headers that overrun it, counts above 256,
 * empty names, and names containing '/' or NUL. With `copyNames` false the names are views of
 * `bytes` (no allocation per entry), for a caller that decodes them at once.
 */
export function decodeListing(bytes: Uint8Array, subject: string, copyNames = true): DirEntry[] {
  const decoder = new ListingDecoder(bytes, subject, copyNames);
  const out: DirEntry[] = [];
  for (let e = decoder.next(); e !== undefined; e = decoder.next()) out.push(e);
  return out;
}

/**
 * A listing decoded one entry at a time, so that walking a directory of thousands of entries
 * holds none of them for long (`decodeListing` for its checks and options).
 */
export class ListingDecoder {
  readonly #v: DataView;
  #at = 0;
  #left = 0;
  #inodeBlock = 0;
  #base = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly subject: string,
    readonly copyNames = true,
  ) {
    this.#v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The next entry, or undefined at the end of the listing. */
  next(): DirEntry | undefined {
    const { bytes } = this;
    const v = this.#v;
    let at = this.#at;
    if (this.#left === 0) {
      if (at >= bytes.length) return undefined;
      if (at + DIR_HEADER_SIZE > bytes.length) throw this.#bad('header runs past the end of the listing');
      const count = v.getUint32(at, true) + 1;
      this.#inodeBlock = v.getUint32(at + 4, true);
      this.#base = v.getUint32(at + 8, true);
      at += DIR_HEADER_SIZE;
      if (count > SQUASHFS_DIR_HEADER_MAX_ENTRIES) throw this.#bad(`header with ${count} entries`);
      this.#left = count;
    }
    if (at + DIR_ENTRY_SIZE > bytes.length) throw this.#bad('entry runs past the end of the listing');
    const nameSize = v.getUint16(at + 6, true) + 1;
    if (nameSize > 256 || at + DIR_ENTRY_SIZE + nameSize > bytes.length) throw this.#bad(`name of ${nameSize} bytes runs past the end of the listing`);
    const inodeNumber = this.#base + v.getInt16(at + 2, true);
    const from = at + DIR_ENTRY_SIZE;
    const entry: DirEntry = {
      inodeOffset: v.getUint16(at, true),
      inodeNumber: inodeNumber >>> 0,
      type: v.getUint16(at + 4, true),
      inodeBlock: this.#inodeBlock,
      name: this.copyNames ? bytes.slice(from, from + nameSize) : bytes.subarray(from, from + nameSize),
    };
    this.#at = from + nameSize;
    this.#left--;
    return entry;
  }

  #bad(what: string) {
    return corruptError(this.subject, 'squashfs directory', undefined, what);
  }
}
