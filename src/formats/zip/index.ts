/** zip/jar archives: the one reader (central directory, local headers, contents) and the structures the normalizer also writes. */
export { openZip, readZipDirectory, sniffZip, MAX_DEFLATE_RATIO, type ZipArchive, type ZipEntry, type ZipDirectory, type ZipDirectoryEntry } from './reader.js';
export { ZIP_METHODS } from './layout.js';
