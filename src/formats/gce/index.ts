/** GCE image tarballs: `disk.raw` in an old-GNU sparse tar, gzip'd. docs/formats/gce.md. */
export { GCE_MEMBER_NAME, encodeOldGnuSparseHeaders, putTarNumber, type DataRun } from './layout.js';
export { findDataRuns, writeGceTarball, type GceReport, type GceWriteOptions } from './writer.js';
export { openGceTarball } from './reader.js';
