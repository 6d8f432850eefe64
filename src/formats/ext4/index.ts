/**
 * ext4: the public surface of the writer. See docs/formats/ext4.md for the layout we write
 * and the choices we made.
 */
export { writeExt4, uuidBytes, type Ext4WriteOptions, type Ext4WriteReport } from './writer.js';
export { dirHash, seedWords } from './htree.js';
