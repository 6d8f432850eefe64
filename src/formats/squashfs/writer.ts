/**
 * The SquashFS 4.0 writer. Phases, in libsqfs/mksquashfs order:
 *
 * 1. a placeholder superblock (96 zero bytes) and the compression options, if any;
 * 2. file data: every regular file once, in `Tree.walk()` order (block processor);
 * 3. inodes and directory listings, bottom-up (children before their directory, the root last),
 *    inode numbers assigned top-down in walk order as mksquashfs's `dir_scan6` does;
 * 4. inode table, directory table, fragment table, export table, id table, xattr table;
 * 5. the real superblock at offset 0; padding to a multiple of 4 KiB.
 *
 * Output bytes depend only on the Tree, the options and the codec versions: never on the
 * worker count, the clock or the host (docs/design.md rules 1, 5, 6).
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { DirNode, Node, Tree } from '../../tree/tree.js';
import { clampedToBuildTime } from '../../tree/copy.js';
import { compareNames, joinPath, utf8 } from '../../tree/names.js';
import {
  codecImplementation,
  encodeCompressorOptions,
  resolveCodecSettings,
  type SquashfsCodecSettings,
  type SquashfsCompressorName,
  type SquashfsDeflateImplementation,
} from '../../compress/squashfs-codecs.js';
import { OrderedPipeline, WorkerPool, defaultWorkerCount } from '../../parallel/ordered-pool.js';
import { BlockProcessor, type FileData } from './block-processor.js';
import { BlockCache, type BlockCacheStats } from './block-cache.js';
import type { CompressJob, CompressResult } from './compress-task.js';
import {
  CompressorId,
  SQUASHFS_DEFAULT_BLOCK_SIZE,
  SQUASHFS_INVALID_TABLE,
  SQUASHFS_INVALID_XATTR,
  SQUASHFS_MAX_IDS,
  SQUASHFS_METADATA_SIZE,
  SquashfsFlag,
} from './constants.js';
import { encodeMetadataBlock, encodeLookupTable, MetadataWriter, type MetadataCompressor } from './metadata-writer.js';
import { DirectoryListingBuilder, DIR_ENTRY_SIZE } from './layout/directory.js';
import { basicInodeType, encodeDevice, encodeInode, type Inode } from './layout/inode.js';
import { SUPERBLOCK_SIZE, encodeSuperblock, type Superblock } from './layout/superblock.js';
import { ExportTable, encodeFragmentTable, encodeIdTable } from './layout/tables.js';
import { encodeXattrIdEntries, encodeXattrTableHeader } from './layout/xattr.js';
import { XattrWriter } from './xattr-writer.js';

export interface SquashfsWriteOptions {
  /** Default gzip, as mksquashfs. */
  compressor?: SquashfsCompressorName;
  /** Data block size: a power of two from 4 KiB to 1 MiB; default 128 KiB. */
  blockSize?: number;
  /** Compression threads; default: the cores available. Output does not depend on it. */
  workers?: number;
  /** The build time (SOURCE_DATE_EPOCH), seconds, 0..2^32-1: the superblock's creation time. */
  buildTime: number;
  /** Store no fragments: small files and tails get blocks of their own (-no-fragments). */
  noFragments?: boolean;
  /** Pack the tails of large files into fragments too (-always-use-fragments). */
  alwaysFragments?: boolean;
  /** Store identical contents each time (-no-duplicates). */
  noDuplicates?: boolean;
  /** Write the export (NFS) table; default true, as mksquashfs. */
  exportTable?: boolean;
  /** Leave extended attributes out (-no-xattrs). */
  noXattrs?: boolean;
  /** -noI: inode, directory, export and id tables stored uncompressed. */
  uncompressedInodes?: boolean;
  /** -noD: data blocks stored uncompressed. */
  uncompressedData?: boolean;
  /** -noF: fragment blocks and the fragment table stored uncompressed. */
  uncompressedFragments?: boolean;
  /** -noX: the xattr table stored uncompressed. */
  uncompressedXattrs?: boolean;
  /** gzip 1..9 (default 9), zstd 1..22 (default 15). */
  compressionLevel?: number;
  /** xz only: try the x86 BCJ filter on every data block and keep the smaller result. */
  xzBcj?: 'x86';
  /**
   * gzip only: 'libdeflate' (default; fast, smaller) or 'zlib' (pako, zlib's algorithm: the
   * bytes mksquashfs writes, 5-8x slower).
   */
  deflate?: SquashfsDeflateImplementation;
  /** Pad the image to a multiple of 4 KiB, as mksquashfs does (default true). */
  pad?: boolean;
  /**
   * A directory of compressed blocks to reuse and add to (block-cache.ts); off by default. The
   * image is byte for byte the one written without it.
   */
  blockCache?: string;
  /** Receives warnings (times out of range, xattrs that cannot be stored). */
  warn?: (message: string) => void;
}

export interface SquashfsWriteReport {
  superblock: Superblock;
  /** Bytes of the image including padding. */
  imageSize: number;
  compressor: SquashfsCompressorName;
  /** The codec implementation and version that produced the bytes (docs/design.md rule 6). */
  codec: string;
  blockSize: number;
  inodes: number;
  files: number;
  /** Files whose data were already stored under another name. */
  duplicateFiles: number;
  fragments: number;
  dataBytes: number;
  /** Hits, misses and damaged entries of the block cache, when one was used. */
  blockCache?: BlockCacheStats;
}

const MAX_U32 = 0xffffffff;

function validate(o: SquashfsWriteOptions): { blockSize: number; blockLog: number; workers: number } {
  const blockSize = o.blockSize ?? SQUASHFS_DEFAULT_BLOCK_SIZE;
  const blockLog = Math.log2(blockSize);
  if (!Number.isInteger(blockLog) || blockLog < 12 || blockLog > 20) {
    throw new ReprimageError('USAGE', '--block-size', `must be a power of two from 4096 to 1048576, not ${blockSize}`);
  }
  if (!Number.isInteger(o.buildTime) || o.buildTime < 0 || o.buildTime > MAX_U32) {
    throw new ReprimageError('USAGE', 'buildTime', `must be an integer from 0 to ${MAX_U32}, not ${o.buildTime}`);
  }
  const workers = o.workers ?? defaultWorkerCount();
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new ReprimageError('USAGE', '--workers', `must be 1..256, not ${workers}`);
  if (o.noFragments && o.alwaysFragments) throw new ReprimageError('USAGE', 'squashfs', 'no fragments and always fragments exclude each other');
  return { blockSize, blockLog, workers };
}

/**
 * Writes `tree` as a SquashFS 4.0 image to `sink`, starting at the sink's current position
 * (which must be seekable: the superblock is written last, at the start). Throws USAGE for bad
 * options and UNSUPPORTED for what SquashFS cannot hold (device numbers over 12/20 bits, more
 * than 65536 distinct ids).
 */
export async function writeSquashfs(given: Tree, sink: Sink, options: SquashfsWriteOptions): Promise<SquashfsWriteReport> {
  const { blockSize, blockLog, workers } = validate(options);
  const tree = clampedToBuildTime(given, options.buildTime);
  const compressor = options.compressor ?? 'gzip';
  const settings = resolveCodecSettings({ compressor, blockSize, level: options.compressionLevel, xzBcj: options.xzBcj, deflate: options.deflate });
  // A compression job allocates little on the JavaScript heap: a 4 MiB young generation per
  // worker instead of V8's default took the peak RSS of the reference rootfs (zstd, 2 workers)
  // from 270 to 195 MiB, in the same time.
  const pool = await WorkerPool.start<CompressJob, CompressResult>(new URL('./compress-task.js', import.meta.url), settings, workers, { youngGenerationMb: 4 });
  try {
    return await writeImage(tree, sink, options, { settings, blockSize, blockLog, workers, pool });
  } finally {
    await pool.close();
  }
}

interface WriteContext {
  settings: SquashfsCodecSettings;
  blockSize: number;
  blockLog: number;
  workers: number;
  /** Compresses data, fragment and metadata blocks; open until the image is written. */
  pool: WorkerPool<CompressJob, CompressResult>;
}

async function writeImage(tree: Tree, sink: Sink, options: SquashfsWriteOptions, ctx: WriteContext): Promise<SquashfsWriteReport> {
  const { settings, blockSize, blockLog, workers, pool } = ctx;
  const warn = options.warn ?? (() => undefined);
  const compressor = settings.compressor;
  // Metadata blocks are compressed by the workers too: a codec on this thread as well would be
  // one more WebAssembly instance (8-17 MiB) for a few hundred 8 KiB blocks.
  const metaCompress: MetadataCompressor = async (data) => {
    const job = data.slice(); // moved to a worker: the caller's array may be a view of a table
    const r = await pool.run({ data: job, metadata: true, raw: false }, { transfer: [job.buffer], label: 'squashfs metadata' });
    return r.compressed ? r.bytes : undefined;
  };
  const noI = options.uncompressedInodes ?? false;
  const inodeCompress = noI ? undefined : metaCompress;
  const duplicates = !(options.noDuplicates ?? false);
  const exportable = options.exportTable ?? true;
  const noXattrs = options.noXattrs ?? false;

  const base = sink.position;
  const pos = () => sink.position - base;
  await sink.write(new Uint8Array(SUPERBLOCK_SIZE));
  const compOptions = encodeCompressorOptions(settings);
  if (compOptions) await sink.write(await encodeMetadataBlock(compOptions, undefined));

  // Phase 2: file data.
  const cache = options.blockCache === undefined ? undefined : new BlockCache(options.blockCache, settings);
  const files = new Map<Node, FileData>();
  const blocks = new BlockProcessor(sink, base, pool, (emit) => new OrderedPipeline(emit, Math.max(8, workers * 4)), {
    blockSize,
    noFragments: options.noFragments ?? false,
    alwaysFragments: options.alwaysFragments ?? false,
    duplicates,
    uncompressedData: options.uncompressedData ?? false,
    uncompressedFragments: options.uncompressedFragments ?? false,
    cache,
  });
  for (const { path, node, linkTo } of tree.walk()) {
    if (node.kind !== 'file' || linkTo !== undefined) continue;
    files.set(node, await blocks.addFile(node.content, path));
  }
  await blocks.finish();

  // Phase 3: inodes and directories.
  const numbers = new Map<Node, number>();
  let next = 1;
  for (const { path, node, linkTo } of tree.walk()) if (path !== '' && linkTo === undefined) numbers.set(node, next++);
  const rootNumber = next;
  numbers.set(tree.root, rootNumber);
  const links = tree.linkCounts();

  const inodes = new MetadataWriter(inodeCompress);
  const dirs = new MetadataWriter(inodeCompress);
  const ids: number[] = [];
  const idIndex = new Map<number, number>();
  const idOf = (id: number, path: string) => {
    let i = idIndex.get(id);
    if (i === undefined) {
      if (!Number.isInteger(id) || id < 0 || id > MAX_U32) throw new ReprimageError('UNSUPPORTED', path || '/', `owner id ${id} does not fit squashfs's 32 bits`);
      if (ids.length >= SQUASHFS_MAX_IDS) throw new ReprimageError('UNSUPPORTED', path || '/', `more than ${SQUASHFS_MAX_IDS} distinct owner ids`);
      i = ids.length;
      ids.push(id);
      idIndex.set(id, i);
    }
    return i;
  };
  const xattrs = new XattrWriter(options.uncompressedXattrs ? undefined : metaCompress, warn);
  const refs = new Map<Node, { block: number; offset: number; type: number }>();
  const exportRefs = new ExportTable(rootNumber);
  let duplicateFiles = 0;
  let fileCount = 0;

  const mtimeOf = (node: Node, path: string) => {
    const s = node.mtime.sec;
    if (s < 0 || s > MAX_U32 || !Number.isInteger(s)) {
      const c = Math.min(MAX_U32, Math.max(0, Math.trunc(s)));
      warn(`${path || '/'}: mtime ${s} does not fit squashfs's unsigned 32 bits; stored as ${c}`);
      return c;
    }
    return s;
  };

  const store = async (node: Node, inode: Inode): Promise<{ block: number; offset: number; type: number }> => {
    const ref = inodes.nextRef();
    await inodes.append(encodeInode(inode));
    exportRefs.set(inode.inodeNumber, ref.block, ref.offset);
    const r = { ...ref, type: basicInodeType(inode.kind) };
    refs.set(node, r);
    return r;
  };

  const writeLeaf = async (node: Exclude<Node, DirNode>, path: string) => {
    const xattr = noXattrs ? SQUASHFS_INVALID_XATTR : await xattrs.add(node.xattrs, path);
    const common = {
      mode: node.mode,
      uidIndex: idOf(node.uid, path),
      gidIndex: idOf(node.gid, path),
      mtime: mtimeOf(node, path),
      inodeNumber: numbers.get(node)!,
      nlink: links.get(node) ?? 1,
      xattr,
    };
    const hasX = xattr !== SQUASHFS_INVALID_XATTR;
    switch (node.kind) {
      case 'file': {
        const d = files.get(node)!;
        fileCount++;
        if (d.duplicate) duplicateFiles++;
        const start = d.run?.start ?? 0;
        const extended = common.nlink > 1 || d.size > MAX_U32 || start > MAX_U32 || d.sparseBytes > 0 || hasX;
        return store(node, {
          ...common, kind: 'file', extended, blocksStart: start, fileSize: d.size, sparse: d.sparseBytes,
          fragment: d.fragment, fragmentOffset: d.fragmentOffset, blockSizes: d.run?.sizes ?? new Uint32Array(0),
        });
      }
      case 'symlink': {
        const target = utf8(node.target);
        if (target.includes(0)) throw new ReprimageError('UNSUPPORTED', path, 'symlink target contains a NUL byte');
        return store(node, { ...common, kind: 'symlink', extended: hasX, target });
      }
      case 'block':
      case 'char':
        if (node.major > 0xfff || node.minor > 0xfffff || node.major < 0 || node.minor < 0) {
          throw new ReprimageError('UNSUPPORTED', path, `device ${node.major}:${node.minor} does not fit squashfs's 12-bit major and 20-bit minor`);
        }
        return store(node, { ...common, kind: node.kind, extended: hasX, rdev: encodeDevice(node.major, node.minor) });
      case 'fifo':
      case 'socket':
        return store(node, { ...common, kind: node.kind, extended: hasX });
    }
  };

  const writeDir = async (dir: DirNode, path: string, parentNumber: number): Promise<{ block: number; offset: number; type: number }> => {
    const listing = new DirectoryListingBuilder();
    let byteCount = 0;
    const myNumber = numbers.get(dir)!;
    for (const name of [...dir.children.keys()].sort(compareNames)) {
      const child = dir.children.get(name)!;
      const childPath = joinPath(path, name);
      const nameBytes = utf8(name);
      if (nameBytes.length > 256) throw new ReprimageError('UNSUPPORTED', childPath, 'name longer than 256 bytes');
      byteCount += nameBytes.length + DIR_ENTRY_SIZE;
      let r = refs.get(child);
      if (!r) r = child.kind === 'dir' ? await writeDir(child, childPath, myNumber) : await writeLeaf(child, childPath);
      listing.add({ name: nameBytes, inodeBlock: r.block, inodeOffset: r.offset, inodeNumber: numbers.get(child)!, type: r.type });
    }
    const bytes = listing.finish();
    const at = dirs.nextRef();
    const listingPos = dirs.position;
    await dirs.append(bytes);
    const xattr = noXattrs ? SQUASHFS_INVALID_XATTR : await xattrs.add(dir.xattrs, path);
    const extended = xattr !== SQUASHFS_INVALID_XATTR || !(listing.count < 257 && byteCount < SQUASHFS_METADATA_SIZE);
    return store(dir, {
      kind: 'dir',
      extended,
      mode: dir.mode,
      uidIndex: idOf(dir.uid, path),
      gidIndex: idOf(dir.gid, path),
      mtime: mtimeOf(dir, path),
      inodeNumber: myNumber,
      nlink: links.get(dir) ?? 2,
      xattr,
      startBlock: at.block,
      offset: at.offset,
      fileSize: bytes.length + 3,
      parentInode: parentNumber,
      index: extended ? listing.index.map((p) => ({ index: p.index, start: dirs.blockStartOf(listingPos + p.index), name: p.name })) : [],
    });
  };

  const root = await writeDir(tree.root, '', rootNumber + 1);

  // Phase 4: tables.
  const inodeTable = pos();
  await sink.write(await inodes.finish());
  const dirTable = pos();
  await sink.write(await dirs.finish());
  const fragTable = await encodeLookupTable(encodeFragmentTable(blocks.fragments), pos(), options.uncompressedFragments ? undefined : metaCompress);
  await sink.write(fragTable.bytes);
  let exportTable = SQUASHFS_INVALID_TABLE;
  if (exportable) {
    const t = await encodeLookupTable(exportRefs.bytes, pos(), inodeCompress);
    await sink.write(t.bytes);
    exportTable = BigInt(t.tableStart);
  }
  const idTable = await encodeLookupTable(encodeIdTable(ids), pos(), inodeCompress);
  await sink.write(idTable.bytes);
  let xattrTable = SQUASHFS_INVALID_TABLE;
  if (xattrs.ids.length > 0) {
    const streamStart = pos();
    await sink.write(await xattrs.stream.finish());
    const t = await encodeLookupTable(
      encodeXattrIdEntries(xattrs.ids),
      pos(),
      options.uncompressedXattrs ? undefined : metaCompress,
      encodeXattrTableHeader(streamStart, xattrs.ids.length),
    );
    await sink.write(t.bytes);
    xattrTable = BigInt(t.tableStart);
  }
  const bytesUsed = pos();

  const flags =
    (noI ? SquashfsFlag.UNCOMPRESSED_INODES : 0) |
    (options.uncompressedData ? SquashfsFlag.UNCOMPRESSED_DATA : 0) |
    (options.uncompressedFragments ? SquashfsFlag.UNCOMPRESSED_FRAGMENTS : 0) |
    (options.noFragments ? SquashfsFlag.NO_FRAGMENTS : 0) |
    (options.alwaysFragments ? SquashfsFlag.ALWAYS_FRAGMENTS : 0) |
    (duplicates ? SquashfsFlag.DUPLICATES : 0) |
    (exportable ? SquashfsFlag.EXPORTABLE : 0) |
    (options.uncompressedXattrs ? SquashfsFlag.UNCOMPRESSED_XATTRS : 0) |
    (noXattrs ? SquashfsFlag.NO_XATTRS : 0) |
    (compOptions ? SquashfsFlag.COMPRESSOR_OPTIONS : 0);
  const superblock: Superblock = {
    inodeCount: rootNumber,
    modTime: options.buildTime,
    blockSize,
    fragmentCount: blocks.fragments.length,
    compressor: CompressorId[compressor],
    blockLog,
    flags,
    idCount: ids.length,
    rootInode: (BigInt(root.block) << 16n) | BigInt(root.offset),
    bytesUsed: BigInt(bytesUsed),
    idTable: BigInt(idTable.tableStart),
    xattrTable,
    inodeTable: BigInt(inodeTable),
    dirTable: BigInt(dirTable),
    fragmentTable: BigInt(fragTable.tableStart),
    exportTable,
  };
  if ((options.pad ?? true) && bytesUsed % 4096 !== 0) await sink.write(new Uint8Array(4096 - (bytesUsed % 4096)));
  await sink.writeAt(base, encodeSuperblock(superblock));
  await sink.flush();
  return {
    superblock,
    imageSize: pos(),
    compressor,
    codec: codecImplementation(settings),
    blockSize,
    inodes: rootNumber,
    files: fileCount,
    duplicateFiles,
    fragments: blocks.fragments.length,
    dataBytes: blocks.dataBytes,
    ...(cache ? { blockCache: cache.stats } : {}),
  };
}
