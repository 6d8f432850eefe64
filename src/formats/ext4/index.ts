/**
 * ext4: the public surface of the writer and the reader (ext2 and ext3 read too). See docs/formats/ext4.md for the layout we write
 * and the choices we made.
 */
export { writeExt4, uuidBytes, type Ext4WriteOptions, type Ext4WriteReport } from './writer.js';
export { dirHash, seedWords } from './htree.js';
export { openExt4, sniffExt4, type Ext4Image, type Ext4ReadOptions } from './reader.js';
