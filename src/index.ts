/**
 * reprimage as a library: the Tree model, its loaders and policy, and every format's reader and
 * writer. The command-line tool (src/cli) is a thin layer over these.
 */
export { ReprimageError, type ErrorCode } from './errors.js';
export { Tree, newDir, newMeta, TYPE_BITS, type Node, type Meta, type Time, type WalkEntry } from './tree/tree.js';
export { fileContent, bytesContent, rangeContent, streamContent, readContent, type Content } from './tree/content.js';
export { compareNames, toTreePath } from './tree/names.js';
export { loadDirectory } from './tree/load-dir.js';
export { parseFileList, applyFileList } from './tree/file-list.js';
export { applyPolicy, resolveSourceDateEpoch, type MetadataPolicy } from './tree/policy.js';
export { deriveBytes, deriveUuid, deriveU32 } from './tree/identifiers.js';
export { treeToJson } from './tree/describe.js';
export { openFileSource, bufferSource, sliceSource, type RandomAccessSource } from './io/source.js';
export { FileSink, MemorySink, StreamSink, type Sink } from './io/sink.js';
export { writeAtomically, type AtomicWriteOptions } from './io/atomic-output.js';
export { removeTemporariesSync, pendingOutputs, afterCriticalSections } from './io/temporaries.js';
export { GzipSink, gzipBytes } from './compress/gzip.js';
export { detectCompression, decompressChunks, spoolToTempSource } from './compress/decompress.js';
export { codecVersions } from './compress/registry.js';
export * as tar from './formats/tar/index.js';
export * as cpio from './formats/cpio/index.js';
export * as squashfs from './formats/squashfs/index.js';
export * as iso9660 from './formats/iso9660/index.js';
export { openTree } from './image/open-tree.js';
export { packTree } from './image/pack.js';
export * as iuk from './iuk/index.js';
export * as check from './check/index.js';
