/**
 * Writes a raw disk image as a VHD, fixed or dynamic, in one pass.
 *
 * The footer is the one `qemu-img convert -O vpc -o subformat=fixed,force_size` writes, with the
 * time and identity taken from the build: current and original size are the exact disk size;
 * the geometry is 65535/16/255, which tells readers (QEMU, Hyper-V, Azure) to use that size
 * rather than one rounded to cylinders; the time stamp is SOURCE_DATE_EPOCH counted from
 * 2000-01-01; the unique id is derived from the seed. A fixed VHD for Azure must hold a whole
 * number of MiB: a fixed disk of any other size is refused.
 *
 * Dynamic: 2 MiB blocks; an all-zero block is left out of the BAT (it reads as zeros). The BAT
 * is kept in memory (4 bytes per 2 MiB of disk) and written last.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { RandomAccessSource } from '../../io/source.js';
import { appendZeros, copySparse, isAllZero, readUnits } from '../../io/zero-runs.js';
import { deriveUuid } from '../../tree/identifiers.js';
import {
  VHD_BAT_UNUSED, VHD_DYNAMIC_HEADER_SIZE, VHD_EPOCH, VHD_FOOTER_SIZE, VHD_MAX_GEOMETRY, VHD_TYPE_DYNAMIC, VHD_TYPE_FIXED,
  encodeVhdDynamicHeader, encodeVhdFooter,
} from './layout.js';

const MIB = 1 << 20;
/** The largest disk VHD holds: 2040 GiB (the specification's limit, as qemu-img enforces it). */
export const VHD_MAX_SIZE = 2040 * 1024 * MIB;
/** What the creator fields say: reprimage, format version 1.0, host "Wi2k" as qemu-img writes. */
const CREATOR = { application: 'rpim', version: 0x00010000, hostOs: 0x5769326b };

export interface VhdWriteOptions {
  /** 'fixed' (Azure) or 'dynamic'; default 'fixed'. */
  type?: 'fixed' | 'dynamic';
  /** The footer's time stamp, in Unix seconds (clamped to the VHD epoch, 2000-01-01). */
  buildTime: number;
  /** Where the footer's unique id comes from. */
  seed: string;
  /** Dynamic block size; default 2 MiB. */
  blockSize?: number;
  subject?: string;
}

export interface VhdReport {
  type: 'fixed' | 'dynamic';
  virtualSize: number;
  uniqueId: string;
  timeStamp: number;
  /** Dynamic only: blocks stored. */
  blocks?: number;
  fileSize: number;
}

export async function writeVhd(source: RandomAccessSource, sink: Sink, options: VhdWriteOptions): Promise<VhdReport> {
  const subject = options.subject ?? 'vhd';
  const type = options.type ?? 'fixed';
  const size = source.size;
  if (sink.position !== 0) throw new ReprimageError('USAGE', subject, 'a VHD must start at the beginning of its output');
  if (size % 512 !== 0 || size === 0) throw new ReprimageError('USAGE', subject, `a VHD holds whole 512-byte sectors; the disk has ${size} bytes`);
  if (size > VHD_MAX_SIZE) throw new ReprimageError('USAGE', subject, `a VHD holds at most 2040 GiB; the disk has ${size} bytes`);
  if (type === 'fixed' && size % MIB !== 0) {
    throw new ReprimageError('USAGE', subject, `a fixed VHD (as Azure takes it) holds a whole number of MiB; the disk has ${size} bytes (give the disk a size in MiB, e.g. --size)`);
  }
  const uuid = deriveUuid(options.seed, 'vhd unique id');
  const timeStamp = Math.min(0xffffffff, Math.max(0, Math.floor(options.buildTime) - VHD_EPOCH));
  const footerFor = (diskType: number, dataOffset: bigint) =>
    encodeVhdFooter({
      features: 2, formatVersion: 0x00010000, dataOffset, timeStamp, creatorApplication: CREATOR.application, creatorVersion: CREATOR.version,
      creatorHostOs: CREATOR.hostOs, originalSize: BigInt(size), currentSize: BigInt(size), ...VHD_MAX_GEOMETRY, diskType,
      uniqueId: Buffer.from(uuid.replace(/-/g, ''), 'hex'), savedState: 0,
    });

  if (type === 'fixed') {
    await copySparse(source, sink);
    await sink.write(footerFor(VHD_TYPE_FIXED, 0xffffffffffffffffn));
    await sink.flush();
    return { type, virtualSize: size, uniqueId: uuid, timeStamp, fileSize: size + VHD_FOOTER_SIZE };
  }

  const blockSize = options.blockSize ?? 2 * MIB;
  if (!Number.isInteger(blockSize) || blockSize < 4096 || (blockSize & (blockSize - 1)) !== 0 || blockSize > 256 * MIB) {
    throw new ReprimageError('USAGE', subject, `VHD block size must be a power of two from 4 KiB to 256 MiB, got ${blockSize}`);
  }
  const entries = Math.ceil(size / blockSize);
  const batOffset = VHD_FOOTER_SIZE + VHD_DYNAMIC_HEADER_SIZE;
  const batBytes = roundUp(entries * 4, 512);
  const bitmapBytes = roundUp(blockSize / 512 / 8, 512);
  const bat = new DataView(new ArrayBuffer(batBytes));
  for (let i = 0; i < batBytes / 4; i++) bat.setUint32(i * 4, VHD_BAT_UNUSED);
  const footer = footerFor(VHD_TYPE_DYNAMIC, BigInt(VHD_FOOTER_SIZE));
  await sink.write(footer);
  await sink.write(encodeVhdDynamicHeader({ dataOffset: 0xffffffffffffffffn, tableOffset: BigInt(batOffset), headerVersion: 0x00010000, maxTableEntries: entries, blockSize }));
  await appendZeros(sink, batBytes); // the BAT, written last
  let pos = batOffset + batBytes;
  const bitmap = new Uint8Array(bitmapBytes).fill(0xff);
  let blocks = 0;
  for await (const { index, bytes, zero } of readUnits(source, blockSize, Math.max(1, Math.floor(8 * MIB / blockSize)))) {
    if (zero || isAllZero(bytes)) continue;
    if (pos / 512 > 0xfffffffe) throw new ReprimageError('USAGE', subject, 'the VHD grew past what its block table addresses');
    bat.setUint32(index * 4, pos / 512);
    await sink.write(bitmap);
    await sink.write(bytes);
    pos += bitmapBytes + blockSize;
    blocks++;
  }
  await sink.write(footer);
  await sink.writeAt(batOffset, new Uint8Array(bat.buffer));
  await sink.flush();
  return { type, virtualSize: size, uniqueId: uuid, timeStamp, blocks, fileSize: pos + VHD_FOOTER_SIZE };
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
