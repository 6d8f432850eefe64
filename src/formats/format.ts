/**
 * The contract between one format folder and the rest of reprimage. Each folder has a
 * `format.ts` exporting one `FormatDefinition`; `registry.ts` lists them, in sniffing order. What
 * the definition holds directly (names, suffixes) costs nothing to import; `load()` brings in the
 * reader and writer, so a command pays only for the formats it touches.
 *
 * docs/formats/adding-a-format.md walks through adding one.
 */
import type { RandomAccessSource } from '../io/source.js';
import type { Sink } from '../io/sink.js';
import type { Identifiers } from '../tree/id-purposes.js';
import type { Tree } from '../tree/tree.js';
import type { SquashfsCompressorName } from '../compress/squashfs-codecs.js';
import type { Content } from '../tree/content.js';

export interface FormatDefinition {
  /** Stable id: what `ls --json` reports as the format, and the diff comparator's id. */
  readonly id: string;
  /** One line for people, e.g. `SquashFS 4.0`. */
  readonly title: string;
  /** The names `pack --format` accepts for this output; the first is the one reported. Empty when not written. */
  readonly outputNames: readonly string[];
  /** File name endings that choose this output (lower case, with the dot), longest first. */
  readonly suffixes: readonly string[];
  /** Whether the format is a byte stream that `pack` may compress as a whole (tar, cpio). */
  readonly compressible?: boolean;
  /**
   * Whether the format is a disk image (qcow2, VHD, VMDK): then `load()` gives a handler with
   * `openDisk`. Known without loading, so that a command can look for disk images among its
   * arguments without loading every reader.
   */
  readonly diskImage?: boolean;
  /** Whether `pack` writes it (then `load()` gives a handler with `write`). */
  readonly writable: boolean;
  /** The reader, sniffer and writer. */
  load(): Promise<FormatHandler>;
}

export interface FormatHandler {
  /**
   * Whether data starting with `head` (the first 64 KiB, or all of a shorter input of `size`
   * bytes) is this format. Decided by content, never by a name.
   */
  sniff(head: Uint8Array, size: number): boolean;
  /**
   * For a format known by its end (a fixed VHD by its footer): whether the last
   * `SNIFF_TAIL_SIZE` bytes of an input of `size` bytes are this format. Tried before every
   * head, since such a format wraps bytes that another format's head sniff would claim.
   */
  sniffTail?(tail: Uint8Array, size: number): boolean;
  /** Opens an input recognized by `sniff` as a Tree. The opened image owns `source`: its close() closes it. */
  open(source: RandomAccessSource, ctx: OpenContext): Promise<OpenedImage>;
  /**
   * For a disk-image format (qcow2, VHD, VMDK): the guest disk inside `source`, which `open`
   * then opens by its own content. With it, `diff` compares the image as the disk it holds, so
   * that a qcow2 compares with a VHD or a raw image of the same disk. The disk owns `source`.
   */
  openDisk?(source: RandomAccessSource): Promise<DiskImage>;
  /**
   * Writes `tree` as this format, from the sink's position; present exactly when the definition
   * says `writable`, and for the file systems `disk` puts in partitions (fat, ext4, squashfs).
   */
  write?(tree: Tree, sink: Sink, ctx: WriteContext, settings: WriteSettings): Promise<WrittenImage>;
}

export interface OpenContext {
  warn: (message: string) => void;
  /**
   * Opens bytes inside this input (a partition, a package's data member) by their own content,
   * compressed or not: how a container format reaches the formats inside it.
   */
  openNested(source: RandomAccessSource): Promise<OpenedImage>;
  signal?: AbortSignal;
}

export interface OpenedImage {
  tree: Tree;
  /** What was recognized, e.g. `tar`, `gpt (p1-esp: fat)`, `deb (data.tar.xz: xz ▸ tar)`. */
  format: string;
  /**
   * Decoded structures worth showing beside the entries (an ISO's boot catalog and partitions),
   * as JSON for `ls --json` and as lines for `ls`. Absent when there are none.
   */
  describe?(): Promise<{ json: object; lines: string[] }>;
  /** Releases the open files behind the Tree's lazy contents; call after the last read. */
  close(): Promise<void>;
}

/**
 * What every writer is given. `buildTime` is the one name of SOURCE_DATE_EPOCH for all writers
 * (file system creation times, header times, volume dates); identifiers come only from `ids`,
 * whose purposes live in src/tree/id-purposes.ts.
 */
export interface WriteContext {
  /** Seconds since the epoch: SOURCE_DATE_EPOCH, or the documented fallback. */
  buildTime: number;
  ids: Identifiers;
  warn: (message: string) => void;
  /** Parallel workers; never changes the bytes. */
  workers?: number;
  signal?: AbortSignal;
  /** The output's name in messages (a partition of a disk, a file); default the format's. */
  subject?: string;
}

/** The disk a disk-image format holds. */
export interface DiskImage {
  /** The guest disk's bytes; closing it closes the image file. */
  disk: RandomAccessSource;
  /** The image format's header fields as `key: value` lines (diff compares them as `image`). */
  describe(): string;
}

/** What a write made. */
export interface WrittenImage {
  /** Bytes of the image (a file system's size), from where it started. */
  size: number;
  /** The file system's identifier as tools show it (a FAT volume id `1A2B-3C4D`, an ext4 UUID), when it has one. */
  filesystemId?: string;
  /** The format writer's own report (`IsoWriteReport`, `SquashfsWriteReport` …), for a caller that knows the format. */
  report?: object;
}

/** The settings of each writer, chosen on the command line or by a library caller; all optional. */
export interface WriteSettings {
  tar?: { flavour?: 'gnu' | 'pax' | 'ustar' };
  squashfs?: { compressor?: SquashfsCompressorName; blockSize?: number; noFragments?: boolean; noDuplicates?: boolean; deflate?: 'libdeflate' | 'zlib'; blockCache?: string };
  iso?: {
    volumeId?: string;
    publisher?: string;
    applicationId?: string;
    /** A path inside the tree: the El Torito BIOS no-emulation boot image. */
    biosBoot?: string;
    /** A path inside the tree: the El Torito UEFI boot image (a FAT image). */
    efiBoot?: string;
    /** The El Torito UEFI boot image appended after the ISO 9660 volume as its own partition (the live ISO's ESP); instead of `efiBoot`. */
    efiAppended?: Content;
    /** Files with a higher weight are placed first (xorriso's sort weights); default: tree order. */
    sortWeights?: ReadonlyMap<string, number>;
    /** isohybrid MBR boot code (its first 432 bytes are used). */
    hybridMbr?: Uint8Array;
    mbrId?: number;
    gpt?: boolean;
  };
  fat?: { fatType?: 12 | 16 | 32; label?: string; size?: number; skipUnsupported?: boolean; /** Sectors before the file system on its disk (BPB_HiddSec). */ hiddenSectors?: number };
  ext4?: {
    blockSize?: 1024 | 4096;
    size?: number;
    inodes?: number;
    reservedPercent?: number;
    label?: string;
    mountOptions?: string;
    uuid?: string;
    hashSeed?: string;
    journalUuid?: string;
  };
}

/** An OpenedImage over a Tree read from `source` and nothing else. */
export function openedTree(tree: Tree, format: string, source: RandomAccessSource): OpenedImage {
  return { tree, format, close: () => source.close() };
}
