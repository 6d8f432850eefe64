/**
 * Writes a raw disk image as a streamOptimized VMDK (what OVA files, vSphere and VirtualBox
 * import), in one pass with memory bounded by one grain table and the grain directory:
 * compressed grains as they come, each grain table after its 512 grains (32 MiB of disk), then
 * the grain directory, the footer and the end-of-stream marker (layout.ts draws it).
 *
 * All-zero grains are left out (entry 0 reads as zeros). Grains are zlib streams (RFC 1950, as
 * the format asks) made by libdeflate (WebAssembly, pinned in package.json) at level 6: about
 * twice as fast as zlib's algorithm in JavaScript, and its bytes depend only on the package.
 * Grains are deflated on worker threads and written in disk order (src/parallel/unit-deflate.ts).
 * The descriptor's CID comes from the seed; nothing depends on time.
 */
import { LIBDEFLATE_PACKAGE } from '../../compress/libdeflate/compressor.js';
import { deflateUnits } from '../../parallel/unit-deflate.js';
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { RandomAccessSource } from '../../io/source.js';
import { appendZeros } from '../../io/zero-runs.js';
import { deriveU32 } from '../../tree/identifiers.js';
import {
  VMDK_COMPRESSION_DEFLATE, VMDK_FLAGS, VMDK_GD_AT_END, VMDK_MARKER, encodeVmdkHeader, encodeVmdkMarker, vmdkDescriptor, type VmdkHeader,
} from './layout.js';

/** The codec of the grains, recorded in reports (DESIGN.md rule 6). */
export const VMDK_COMPRESSION = `zlib (level 6) by ${LIBDEFLATE_PACKAGE}`;

const SECTOR = 512;
const GRAIN_SECTORS = 128; // 64 KiB grains
const GTES_PER_GT = 512;
const DESCRIPTOR_SECTORS = 20;
const OVERHEAD_SECTORS = 128; // grains start at 64 KiB, as VMware's tools place them

export interface VmdkWriteOptions {
  /** Where the descriptor's CID comes from. */
  seed: string;
  /** The file name the descriptor names as its extent (the VMDK's own name); default `disk.vmdk`. */
  extentFile?: string;
  /** `ddb.adapterType`: `lsilogic` (default), `ide`, `buslogic`, `pvscsi`. */
  adapterType?: string;
  /** Threads that compress (never changes the bytes); default: the cores available. */
  workers?: number;
  subject?: string;
}

export interface VmdkReport {
  virtualSize: number;
  cid: string;
  grains: number;
  fileSize: number;
}

export async function writeVmdk(source: RandomAccessSource, sink: Sink, options: VmdkWriteOptions): Promise<VmdkReport> {
  const subject = options.subject ?? 'vmdk';
  const size = source.size;
  if (sink.position !== 0) throw new ReprimageError('USAGE', subject, 'a VMDK must start at the beginning of its output');
  if (size % SECTOR !== 0 || size === 0) throw new ReprimageError('USAGE', subject, `a VMDK holds whole 512-byte sectors; the disk has ${size} bytes`);
  const adapterType = options.adapterType ?? 'lsilogic';
  if (!['ide', 'lsilogic', 'buslogic', 'pvscsi', 'legacyESX'].includes(adapterType)) throw new ReprimageError('USAGE', subject, `unknown VMDK adapter type '${adapterType}'`);
  const sectors = size / SECTOR;
  const grainBytes = GRAIN_SECTORS * SECTOR;
  const grainCount = Math.ceil(sectors / GRAIN_SECTORS);
  const gtCount = Math.ceil(grainCount / GTES_PER_GT);
  const cid = deriveU32(options.seed, 'vmdk cid');
  const header: VmdkHeader = {
    version: 3,
    flags: VMDK_FLAGS.newlineDetect | VMDK_FLAGS.compressed | VMDK_FLAGS.markers,
    capacity: BigInt(sectors),
    grainSize: BigInt(GRAIN_SECTORS),
    descriptorOffset: 1n,
    descriptorSize: BigInt(DESCRIPTOR_SECTORS),
    numGTEsPerGT: GTES_PER_GT,
    rgdOffset: 0n,
    gdOffset: VMDK_GD_AT_END,
    overHead: BigInt(OVERHEAD_SECTORS),
    uncleanShutdown: 0,
    compressAlgorithm: VMDK_COMPRESSION_DEFLATE,
  };
  const text = new TextEncoder().encode(vmdkDescriptor({ cid, createType: 'streamOptimized', sectors, extentFile: options.extentFile ?? 'disk.vmdk', adapterType }));
  if (text.length > DESCRIPTOR_SECTORS * SECTOR) throw new ReprimageError('USAGE', subject, 'the VMDK descriptor is too long (shorten the extent file name)');
  await sink.write(encodeVmdkHeader(header));
  await sink.write(text);
  await appendZeros(sink, OVERHEAD_SECTORS * SECTOR - SECTOR - text.length);
  let pos = OVERHEAD_SECTORS * SECTOR;

  const gd = new DataView(new ArrayBuffer(roundUp(gtCount * 4, SECTOR)));
  let gt = new DataView(new ArrayBuffer(GTES_PER_GT * 4));
  let currentGt = 0;
  let grains = 0;
  const gtSectors = (GTES_PER_GT * 4) / SECTOR;
  const flushGt = async () => {
    await sink.write(encodeVmdkMarker(gtSectors, VMDK_MARKER.grainTable));
    pos += SECTOR;
    gd.setUint32(currentGt * 4, pos / SECTOR, true);
    await sink.write(new Uint8Array(gt.buffer));
    pos += GTES_PER_GT * 4;
    gt = new DataView(new ArrayBuffer(GTES_PER_GT * 4));
  };
  const prefix = new DataView(new ArrayBuffer(12));
  await deflateUnits(source, grainBytes, 'vmdk', options.workers, async ({ index, packed }) => {
    const table = Math.floor(index / GTES_PER_GT);
    while (currentGt < table) {
      await flushGt();
      currentGt++;
    }
    if (!packed) return;
    prefix.setBigUint64(0, BigInt(index * GRAIN_SECTORS), true);
    prefix.setUint32(8, packed.length, true);
    gt.setUint32((index % GTES_PER_GT) * 4, pos / SECTOR, true);
    await sink.write(new Uint8Array(prefix.buffer));
    await sink.write(packed);
    const used = 12 + packed.length;
    const padded = roundUp(used, SECTOR);
    await appendZeros(sink, padded - used);
    pos += padded;
    grains++;
  });
  while (currentGt < gtCount) {
    await flushGt();
    currentGt++;
  }
  await sink.write(encodeVmdkMarker(gd.byteLength / SECTOR, VMDK_MARKER.grainDirectory));
  pos += SECTOR;
  const gdSector = pos / SECTOR;
  await sink.write(new Uint8Array(gd.buffer));
  pos += gd.byteLength;
  await sink.write(encodeVmdkMarker(1, VMDK_MARKER.footer));
  await sink.write(encodeVmdkHeader({ ...header, gdOffset: BigInt(gdSector) }));
  await sink.write(encodeVmdkMarker(0, VMDK_MARKER.endOfStream));
  pos += 3 * SECTOR;
  await sink.flush();
  return { virtualSize: size, cid: cid.toString(16).padStart(8, '0'), grains, fileSize: pos };
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
