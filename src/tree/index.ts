/**
 * `reprimage/tree`: the Tree every reader produces and every writer consumes (entries with their
 * metadata and lazy contents), how to load one from a directory or a file list, the metadata
 * policy that takes the build machine out of it, and identifiers derived from a seed.
 */
export { Tree, newDir, newMeta, kindFromMode, TYPE_BITS, EPOCH, MAX_TREE_DEPTH } from './tree.js';
export type { Node, NodeKind, Meta, Time, WalkEntry, FileNode, DirNode, SymlinkNode, DeviceNode, FifoNode, SocketNode } from './tree.js';
export { fileContent, bytesContent, rangeContent, streamContent, readContent, copyToSink, emptyContent, type Content, type DataRegion } from './content.js';
export { compareNames, toTreePath, nameFromBytes, nameBytes, displayName, parentOf, baseName, joinPath } from './names.js';
export { loadDirectory, type LoadDirectoryOptions } from './load-dir.js';
export { parseFileList, applyFileList, type FileListEntry } from './file-list.js';
export { applyPolicy, clampTime, normalizedMode, resolveSourceDateEpoch, type MetadataPolicy } from './policy.js';
export { compileExcludes, readPatternFile, type PathMatcher } from './excludes.js';
export { deriveBytes, deriveUuid, deriveU32 } from './identifiers.js';
export { ID_PURPOSES, seededIdentifiers, scopedIdentifiers, renamedIdentifiers, type Identifiers, type IdPurpose, type DerivedId } from './id-purposes.js';
export { treeToJson, type EntryJson } from './describe.js';
