/** ar archives (static libraries, Debian packages): reading the member list, and writing members. */
export { readArMembers, sniffAr, type ArMember } from './reader.js';
export { encodeArHeader, setArField, writeAr, writeArMembers, type ArField, type ArOutputMember } from './writer.js';
export { AR_MAGIC, AR_HEADER_SIZE, AR_FIELDS, AR_FMAG } from './layout.js';
