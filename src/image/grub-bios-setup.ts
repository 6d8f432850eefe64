/**
 * What `grub-bios-setup` writes for a GPT disk with a BIOS boot partition, computed instead of
 * run: boot.img becomes the MBR's code and core.img is embedded in the BIOS boot partition,
 * with the fields that tie them together patched (GRUB's util/setup.c, embedding path):
 *
 * - boot.img keeps the disk's own BPB area (0x03-0x5a) and partition table area
 *   (0x1b8-0x1fe: disk signature, the protective 0xEE entry, 55 AA); its drive-check jump
 *   (0x66) becomes two NOPs, as for every hard disk; the boot drive byte (0x64) is 0xff
 *   ("the drive the BIOS booted from"); the 64-bit LBA of core.img's first sector is at 0x5c.
 * - core.img's first sector (diskboot.img) ends in a block list, growing downwards from 0x1f4 in
 *   12-byte entries {start LBA u64, sectors u16, segment u16}: one entry for the embedded rest
 *   (loaded at segment 0x820), then a zero terminator.
 * - the embedding area is min(partition, 2 × core sectors, 888 sectors); the space after core.img
 *   holds Reed-Solomon redundancy of everything past the kernel's no-RS prefix
 *   (grub-reed-solomon.ts), and the kernel header records its length at 0x10 (of sector 1).
 */
import { ReprimageError } from '../errors.js';
import { addGrubRedundancy } from './grub-reed-solomon.js';

const SECTOR = 512;

/** boot.img (i386-pc boot.h). */
export const BOOT_IMG_FIELDS = { bpbStart: 0x03, bpbEnd: 0x5a, kernelSector: 0x5c, bootDrive: 0x64, driveCheck: 0x66, ntMagic: 0x1b8, partitionEnd: 0x1fe } as const;
/** The kernel header after diskboot.img (i386-pc offsets.h), relative to core.img's second sector. */
export const CORE_IMG_FIELDS = { reedSolomonRedundancy: 0x10, noReedSolomonLength: 0x14 } as const;
const BLOCK_LIST_ENTRY = 12;
/** Segment the first loaded sector after diskboot goes to: GRUB_BOOT_I386_PC_KERNEL_SEG + 0x20. */
const FIRST_SEGMENT = 0x820;
/** core.img must fit below 0x78000 when loaded at 0x9000 (GRUB_KERNEL_I386_PC_LINK_ADDR). */
const MAX_EMBED_SECTORS = (0x78000 - 0x9000) / SECTOR;

export interface BiosSetupInput {
  /** /usr/lib/grub/i386-pc/boot.img (512 bytes). */
  bootImg: Uint8Array;
  /** A core.img made by grub-mkimage -O i386-pc. */
  coreImg: Uint8Array;
  /** The disk's sector 0 as it is (the protective MBR of the GPT). */
  sector0: Uint8Array;
  /** First LBA of the BIOS boot partition, and its length in sectors. */
  partitionLba: number;
  partitionSectors: number;
  /** Add Reed-Solomon codes after core.img (grub-bios-setup's default); default true. */
  reedSolomon?: boolean;
  /** Name in messages. */
  subject?: string;
}

export interface BiosSetupResult {
  /** The new sector 0. */
  mbr: Uint8Array;
  /** The bytes for the start of the BIOS boot partition (whole sectors: the embedding area). */
  embedded: Uint8Array;
  coreSectors: number;
  embedSectors: number;
}

export function grubBiosSetup(input: BiosSetupInput): BiosSetupResult {
  const subject = input.subject ?? 'core.img';
  const { bootImg, coreImg } = input;
  if (bootImg.length !== SECTOR) throw new ReprimageError('CORRUPT_IMAGE', 'boot.img', `must be ${SECTOR} bytes, got ${bootImg.length}`);
  if (input.sector0.length < SECTOR) throw new ReprimageError('USAGE', subject, 'sector 0 must be 512 bytes');
  if (coreImg.length < 2 * SECTOR) throw new ReprimageError('CORRUPT_IMAGE', subject, `too small for a core.img (${coreImg.length} bytes)`);
  const coreSectors = Math.ceil(coreImg.length / SECTOR);
  if (coreSectors > 0xffff) throw new ReprimageError('USAGE', subject, `too large (${coreImg.length} bytes)`);

  const rs = input.reedSolomon ?? true;
  const maxSectors = Math.min(rs ? 2 * coreSectors : coreSectors, MAX_EMBED_SECTORS);
  const embedSectors = Math.min(input.partitionSectors, maxSectors);
  if (embedSectors < coreSectors) {
    throw new ReprimageError('USAGE', subject, `core.img needs ${coreSectors} sectors but the BIOS boot partition has ${input.partitionSectors}`);
  }

  const core = new Uint8Array(embedSectors * SECTOR);
  core.set(coreImg);
  const view = new DataView(core.buffer);
  // clean out the old block list (entries with a non-zero length, from the end of sector 0 down)
  const first = SECTOR - BLOCK_LIST_ENTRY;
  let at = first;
  while (view.getUint16(at + 8, true) !== 0) {
    core.fill(0, at, at + BLOCK_LIST_ENTRY);
    at -= BLOCK_LIST_ENTRY;
    if (at <= 0) throw new ReprimageError('CORRUPT_IMAGE', subject, 'no terminator in the block list of core.img');
  }
  // the embedding area is contiguous: one entry for sectors 1.. and a terminator below it
  if (embedSectors > 1) {
    view.setBigUint64(first, BigInt(input.partitionLba + 1), true);
    view.setUint16(first + 8, embedSectors - 1, true);
    view.setUint16(first + 10, FIRST_SEGMENT, true);
    core.fill(0, first - BLOCK_LIST_ENTRY, first);
  } else {
    core.fill(0, first, first + BLOCK_LIST_ENTRY);
  }

  const noRsLength = view.getUint16(SECTOR + CORE_IMG_FIELDS.noReedSolomonLength, true);
  if (noRsLength === 0xffff) throw new ReprimageError('UNSUPPORTED', subject, 'core.img version mismatch (no Reed-Solomon length)');
  if (rs) {
    const redundancy = embedSectors * SECTOR - coreImg.length;
    view.setUint32(SECTOR + CORE_IMG_FIELDS.reedSolomonRedundancy, redundancy, true);
    const start = SECTOR + noRsLength;
    if (start > coreImg.length) throw new ReprimageError('CORRUPT_IMAGE', subject, `no-Reed-Solomon length ${noRsLength} is past the end of core.img`);
    addGrubRedundancy(core, start, coreImg.length - start, redundancy);
  }

  const mbr = new Uint8Array(bootImg);
  const f = BOOT_IMG_FIELDS;
  mbr.set(input.sector0.subarray(f.bpbStart, f.bpbEnd), f.bpbStart);
  mbr[f.driveCheck] = 0x90;
  mbr[f.driveCheck + 1] = 0x90;
  mbr.set(input.sector0.subarray(f.ntMagic, f.partitionEnd), f.ntMagic);
  mbr[f.bootDrive] = 0xff;
  new DataView(mbr.buffer).setBigUint64(f.kernelSector, BigInt(input.partitionLba), true);
  return { mbr, embedded: core, coreSectors, embedSectors };
}
