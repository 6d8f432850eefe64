/**
 * GPT and MBR partition tables: pure codecs (MBR, GPT header and entries, GUIDs), a builder of a
 * whole GPT for a disk size, partition type names of the Discoverable Partitions Specification,
 * attribute names, a writer of the tables onto a disk image, a reader that checks every CRC and
 * bound, and the disk opened as a Tree (one directory per partition). See docs/formats/gpt.md.
 */
export { GUID_SIZE, ZERO_GUID, decodeGuid, encodeGuid, isGuid, normalizeGuid } from './guid.js';
export {
  DEFAULT_CHS, MBR_BOOT_CODE_SIZE, MBR_ENTRY_FIELDS, MBR_ENTRY_SIZE, MBR_EXTENDED_TYPES, MBR_FIELDS, MBR_SIZE, MBR_TYPE_GPT_PROTECTIVE,
  decodeMbr, encodeChs, encodeMbr, hasBootSignature, protectiveMbr, type ChsGeometry, type Mbr, type MbrPartition,
} from './mbr.js';
export {
  GPT_DEFAULT_ENTRY_COUNT, GPT_ENTRY_FIELDS, GPT_ENTRY_SIZE, GPT_HEADER_FIELDS, GPT_HEADER_SIZE, GPT_NAME_UNITS, GPT_REVISION, GPT_SIGNATURE,
  crc32, decodeGptEntries, decodeGptHeader, encodeGptEntries, encodeGptHeader, encodeName, hasGptSignature, type GptEntry, type GptHeader,
} from './gpt.js';
export { buildGptTables, checkPartitionLayout, type GptTables, type GptTablesRequest } from './tables.js';
export { writeGpt, writeMbr } from './writer.js';
export { PARTITION_TABLE_FILE, describePartitionTable, openDiskTree, partitionEntryName } from './disk-tree.js';
export { GPT_PARTITION_TYPES, mbrTypeFor, partitionTypeGuid, partitionTypeName } from './partition-types.js';
export { GPT_ATTRIBUTE_BITS, describeAttributes, parseAttributes } from './attributes.js';
export {
  GPT_MAX_ENTRY_ARRAY_BYTES, MBR_MAX_LOGICAL, readPartitionTable, sniffPartitionTable, type DiskPartition, type PartitionTable,
  type ReadPartitionTableOptions,
} from './reader.js';
