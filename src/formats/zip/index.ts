/** zip/jar archives: reading the central directory and the entries' contents. */
export { openZip, sniffZip, type ZipArchive, type ZipEntry } from './reader.js';
export { ZIP_METHODS } from './layout.js';
