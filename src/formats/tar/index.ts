/** tar: ustar, GNU and pax. See docs/formats/tar.md for what is written and what is read. */
export { writeTar, paxRecord, paxTime, type TarWriteOptions, type TarFlavour } from './writer.js';
export { loadTar, readTarEntries, sniffTar, parsePaxRecords, parsePaxTime, type TarRecord } from './reader.js';
