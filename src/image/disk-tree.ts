/** Moved to src/formats/gpt/disk-tree.ts (the GPT reader's Tree); kept for the modules that import it from here. */
export { PARTITION_TABLE_FILE, describePartitionTable, openDiskTree, partitionEntryName } from '../formats/gpt/disk-tree.js';
