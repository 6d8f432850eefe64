/**
 * Reads a qcow2 image (version 2 or 3) as the disk it holds: a RandomAccessSource of the guest's
 * bytes, read through the L1 and L2 tables on demand (a few L2 tables are cached). Plain,
 * compressed (deflate) and zero clusters are read; backing files, encryption, external data
 * files, extended L2 entries and zstd compression are UNSUPPORTED. Every offset is checked
 * against the file before it is read.
 */
import { inflateRawSync } from 'node:zlib';
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import {
  QCOW2_HEADER_V2_SIZE, QCOW2_INCOMPAT, QCOW2_OFLAG_COMPRESSED, QCOW2_OFLAG_ZERO, QCOW2_OFFSET_MASK, compressedShift, decodeQcow2Header,
  type Qcow2Header,
} from './layout.js';

export interface Qcow2Image {
  header: Qcow2Header;
  /** The guest disk's bytes. Closing it closes the image file. */
  disk: RandomAccessSource;
  /** Header fields as `key: value` lines, for diff. */
  describe(): string;
}

/** L2 tables kept in memory (a sequential read needs one; diff reads two places at once). */
const MAX_L2_CACHE = 16;

export async function openQcow2(source: RandomAccessSource): Promise<Qcow2Image> {
  const name = source.name;
  const head = await source.read(0, Math.min(source.size, 512));
  const h = decodeQcow2Header(head, name);
  const bad = (what: string, detail: string, at?: number) => corruptError(name, `qcow2 ${what}`, at, detail);
  const unsupported = (detail: string) => new ReprimageError('UNSUPPORTED', name, `qcow2 ${detail}`);
  if (h.clusterBits < 9 || h.clusterBits > 21) throw bad('header', `cluster bits ${h.clusterBits} (9 to 21 expected)`, 20);
  if (h.version === 3 && (h.headerLength < 104 || h.headerLength > (1 << h.clusterBits))) throw bad('header', `header length ${h.headerLength}`, 100);
  if (h.backingFileOffset !== 0n) throw unsupported('image with a backing file (an overlay): convert it with qemu-img first');
  if (h.cryptMethod !== 0) throw unsupported('encrypted image');
  const known = (1n << BigInt(QCOW2_INCOMPAT.dirty)) | (1n << BigInt(QCOW2_INCOMPAT.corrupt)) | (1n << BigInt(QCOW2_INCOMPAT.compressionType));
  if (h.incompatibleFeatures & (1n << BigInt(QCOW2_INCOMPAT.externalDataFile))) throw unsupported('image with an external data file');
  if (h.incompatibleFeatures & (1n << BigInt(QCOW2_INCOMPAT.extendedL2))) throw unsupported('image with extended L2 entries (subclusters)');
  if (h.incompatibleFeatures & ~known) throw unsupported(`incompatible features 0x${h.incompatibleFeatures.toString(16)}`);
  if (h.compressionType !== 0) throw unsupported(`compression type ${h.compressionType} (only deflate is read)`);
  if (h.incompatibleFeatures & (1n << BigInt(QCOW2_INCOMPAT.corrupt))) throw bad('header', 'QEMU marked the image corrupt');
  if (h.version === 2 && head.length < QCOW2_HEADER_V2_SIZE) throw bad('header', 'short');
  const cluster = 2 ** h.clusterBits;
  const l2Entries = cluster / 8;
  if (h.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new ReprimageError('OVERFLOW', name, `qcow2 virtual size ${h.size} is too large`);
  const size = Number(h.size);
  const needL1 = Math.ceil(size / (l2Entries * cluster));
  if (h.l1Size < needL1) throw bad('header', `L1 table of ${h.l1Size} entries is too small for ${size} bytes`, 36);
  const l1Offset = Number(h.l1TableOffset);
  if (h.l1TableOffset > BigInt(source.size) || l1Offset + needL1 * 8 > source.size || l1Offset % cluster !== 0) {
    throw new ReprimageError('OUT_OF_BOUNDS', name, `qcow2 L1 table at byte ${h.l1TableOffset} lies outside the file or off a cluster boundary`);
  }
  const l1Bytes = await source.read(l1Offset, needL1 * 8);
  const l1 = new DataView(l1Bytes.buffer, l1Bytes.byteOffset, l1Bytes.length);
  const cache = new Map<number, DataView>();
  const shift = BigInt(compressedShift(h.clusterBits));
  const offsetMaskCompressed = (1n << shift) - 1n;
  const sectorsMask = (1n << (62n - shift)) - 1n;

  const checkHost = (offset: number, length: number, what: string) => {
    if (offset + length > source.size) throw new ReprimageError('OUT_OF_BOUNDS', name, `qcow2 ${what} at byte ${offset} lies outside the file (${source.size} bytes)`);
  };
  const l2Table = async (index: number): Promise<DataView | undefined> => {
    const entry = l1.getBigUint64(index * 8) & QCOW2_OFFSET_MASK;
    if (entry === 0n) return undefined;
    const offset = Number(entry);
    let t = cache.get(offset);
    if (t) return t;
    if (offset % cluster !== 0) throw bad('L1 table', `L2 table offset ${offset} is not on a cluster boundary`, l1Offset + index * 8);
    checkHost(offset, cluster, 'L2 table');
    const bytes = await source.read(offset, cluster);
    t = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    if (cache.size >= MAX_L2_CACHE) cache.delete(cache.keys().next().value!);
    cache.set(offset, t);
    return t;
  };
  let lastCompressed: { offset: number; bytes: Uint8Array } | undefined;
  const readCluster = async (index: number, into: Uint8Array, from: number): Promise<void> => {
    const table = await l2Table(Math.floor(index / l2Entries));
    if (!table) return; // unallocated: zeros
    const entry = table.getBigUint64((index % l2Entries) * 8);
    if (entry & QCOW2_OFLAG_COMPRESSED) {
      const hostOffset = Number(entry & offsetMaskCompressed);
      const sectors = Number((entry >> shift) & sectorsMask) + 1;
      if (lastCompressed?.offset !== hostOffset) {
        const start = hostOffset - (hostOffset % 512);
        const length = Math.min(sectors * 512, source.size - start) - (hostOffset - start);
        checkHost(hostOffset, Math.max(length, 1), 'compressed cluster');
        const packed = await source.read(hostOffset, length);
        let plain: Buffer;
        try {
          plain = inflateRawSync(packed, { maxOutputLength: cluster, finishFlush: 2 /* Z_SYNC_FLUSH: stop at the stream's end */ });
        } catch (e) {
          throw bad('compressed cluster', `does not inflate (${(e as Error).message})`, hostOffset);
        }
        if (plain.length !== cluster) throw bad('compressed cluster', `inflates to ${plain.length} bytes, not ${cluster}`, hostOffset);
        lastCompressed = { offset: hostOffset, bytes: new Uint8Array(plain.buffer, plain.byteOffset, plain.length) };
      }
      into.set(lastCompressed.bytes.subarray(from, from + into.length));
      return;
    }
    if (h.version === 3 && entry & QCOW2_OFLAG_ZERO) return;
    const hostOffset = Number(entry & QCOW2_OFFSET_MASK);
    if (hostOffset === 0) return;
    if (hostOffset % cluster !== 0) throw bad('L2 table', `data offset ${hostOffset} is not on a cluster boundary`);
    checkHost(hostOffset + from, into.length, 'data cluster');
    into.set(await source.read(hostOffset + from, into.length));
  };

  const disk: RandomAccessSource = {
    name: `${name} ▸ qcow2`,
    size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) throw new RangeError(`${name}: bad read range ${offset}+${length}`);
      if (offset + length > size) throw new ReprimageError('TRUNCATED', name, `read past the end of the qcow2 disk (${size} bytes)`);
      const out = new Uint8Array(length);
      for (let at = 0; at < length; ) {
        const guest = offset + at;
        const index = Math.floor(guest / cluster);
        const from = guest % cluster;
        const n = Math.min(cluster - from, length - at);
        await readCluster(index, out.subarray(at, at + n), from);
        at += n;
      }
      return out;
    },
    close: () => source.close(),
  };
  return {
    header: h,
    disk,
    describe: () =>
      [
        `format: qcow2 version ${h.version}`,
        `virtual size: ${h.size}`,
        `cluster size: ${cluster}`,
        `refcount bits: ${2 ** h.refcountOrder}`,
        `incompatible features: 0x${h.incompatibleFeatures.toString(16)}`,
        `compatible features: 0x${h.compatibleFeatures.toString(16)}`,
        `autoclear features: 0x${h.autoclearFeatures.toString(16)}`,
        `snapshots: ${h.nbSnapshots}`,
        `compression type: ${h.compressionType === 0 ? 'deflate' : h.compressionType}`,
      ].join('\n') + '\n',
  };
}
