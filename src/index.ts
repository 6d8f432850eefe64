/**
 * reprimage as a library. This root module holds the core: errors, the Tree model with its loaders
 * and metadata policy, sources and sinks, codec versions, the format registry, one namespace per
 * format (each format's reader and, where it has one, writer), and the image writers that apply
 * the metadata policy by default. The larger parts have their own entry points, which load only
 * what they need:
 *
 *   reprimage/tree, reprimage/io, reprimage/formats, reprimage/formats/<id> (tar, cpio, squashfs,
 *   iso9660, ext4, fat, gpt, zip, ar), reprimage/image, reprimage/disk, reprimage/diff,
 *   reprimage/normalize, reprimage/recipe, reprimage/check, reprimage/iuk.
 *
 * docs/api.md shows them at work. The command-line tool (src/cli) is a thin layer over these.
 */
export { ReprimageError, isReprimageError, type ErrorCode } from './errors.js';
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
export { FORMATS, formatById, sniffFormat, type FormatDefinition, type WriteSettings } from './formats/index.js';
export * as tar from './formats/tar/index.js';
export * as cpio from './formats/cpio/index.js';
export * as squashfs from './formats/squashfs/index.js';
export * as iso9660 from './formats/iso9660/index.js';
export * as ext4 from './formats/ext4/index.js';
export * as fat from './formats/fat/index.js';
export * as gpt from './formats/gpt/index.js';
export * as zip from './formats/zip/index.js';
export * as ar from './formats/ar/index.js';
export * as qcow2 from './formats/qcow2/index.js';
export * as vhd from './formats/vhd/index.js';
export * as vmdk from './formats/vmdk/index.js';
export * as gce from './formats/gce/index.js';
export { openTree } from './image/open-tree.js';
export { convertDisk, diskFormatFromName, DISK_FORMATS, type DiskFormat, type ConvertDiskOptions, type ConvertDiskReport } from './image/convert-disk.js';
export { packTree } from './image/pack.js';
export { writeImage, writeImageFile, writeDiskImage, type ImageWriteOptions, type DiskImageOptions } from './image/write-image.js';
export * as iuk from './iuk/index.js';
export * as check from './check/index.js';
