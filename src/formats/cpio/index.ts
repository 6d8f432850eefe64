/** cpio: newc written, newc/crc/odc read, concatenated and compressed segments included. See docs/formats/cpio.md. */
export { writeCpio, type CpioWriteOptions } from './writer.js';
export { loadCpio, readCpioEntries, sniffCpio, type CpioEntry, type CpioSegment } from './reader.js';
