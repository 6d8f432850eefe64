/** qcow2 version 3 (QEMU): a writer from a raw disk image and a reader of the disk an image holds. docs/formats/qcow2.md. */
export { QCOW2_MAGIC, decodeQcow2Header, encodeQcow2Header, sniffQcow2, type Qcow2Header } from './layout.js';
export { QCOW2_COMPRESSION, writeQcow2, type Qcow2Report, type Qcow2WriteOptions } from './writer.js';
export { openQcow2, type Qcow2Image } from './reader.js';
