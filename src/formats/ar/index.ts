/** ar archives (static libraries, Debian packages): reading the member list. */
export { readArMembers, sniffAr, type ArMember } from './reader.js';
export { AR_MAGIC, AR_HEADER_SIZE } from './layout.js';
