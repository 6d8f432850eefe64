/**
 * Moving the backup GPT of a disk image to the end of a larger disk, as `sgdisk -e` does and as
 * the installer script does with dd (docs/installer.md): in the primary header only the
 * alternate LBA, the last usable LBA and the header CRC change; the entries and their CRC stay;
 * the backup header (the primary with its own and the alternate LBA swapped, the entries' LBA
 * just before it) and a copy of the entries go at the end. verify-disk undoes exactly this.
 */
import { crc32 } from '../compress/crc32.js';
import { GPT_HEADER_FIELDS as F } from '../formats/gpt/gpt.js';

export interface RelocatedGpt {
  /** The primary header sector as it is after relocation. */
  primary: Uint8Array;
  /** The backup header sector, for the disk's last sector. */
  backup: Uint8Array;
  /** Where the copy of the entries starts. */
  backupEntriesLba: number;
  /** Sectors the entries take. */
  entrySectors: number;
}

function sealed(header: Uint8Array): Uint8Array {
  const v = new DataView(header.buffer, header.byteOffset, header.length);
  v.setUint32(F.headerCrc, 0, true);
  v.setUint32(F.headerCrc, crc32(header.subarray(0, v.getUint32(F.headerSize, true))), true);
  return header;
}

/** The headers of a GPT whose primary header sector is `primary`, on a disk of `diskSectors` sectors of `sectorSize` bytes. */
export function relocateGpt(primary: Uint8Array, diskSectors: number, sectorSize = 512): RelocatedGpt {
  const last = diskSectors - 1;
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length);
  const p = primary.slice();
  const pv = view(p);
  const entrySectors = Math.ceil((pv.getUint32(F.entryCount, true) * pv.getUint32(F.entrySize, true)) / sectorSize);
  pv.setBigUint64(F.alternateLba, BigInt(last), true);
  pv.setBigUint64(F.lastUsableLba, BigInt(last - entrySectors - 1), true);
  sealed(p);
  const b = p.slice();
  const bv = view(b);
  bv.setBigUint64(F.myLba, BigInt(last), true);
  bv.setBigUint64(F.alternateLba, 1n, true);
  bv.setBigUint64(F.entriesLba, BigInt(last - entrySectors), true);
  sealed(b);
  return { primary: p, backup: b, backupEntriesLba: last - entrySectors, entrySectors };
}

/** The primary header as it was on an image of `imageSectors` sectors, from a relocated one (the inverse of relocateGpt's primary). */
export function unrelocatedPrimary(primary: Uint8Array, imageSectors: number, sectorSize = 512): Uint8Array {
  return relocateGpt(primary, imageSectors, sectorSize).primary;
}
