/** cpio: newc written, newc/crc/odc read, concatenated and compressed segments included. See docs/formats/cpio.md. */
export { writeCpio, type CpioWriteOptions } from './writer.js';
export { loadCpio, loadCpioSegments, readCpioEntries, sniffCpio, type CpioEntry, type CpioSegment, type CpioSegmentTree } from './reader.js';
