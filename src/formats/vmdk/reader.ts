/**
 * Reads a hosted sparse VMDK (monolithicSparse, as qemu-img writes by default, and
 * streamOptimized, compressed, with the grain directory in the footer) as the disk it holds.
 * The grain directory is read whole (4 bytes per 512 grains), grain tables and grains on demand.
 * Descriptor-only VMDKs (flat, split, ESX) name other files and are UNSUPPORTED.
 */
import { inflateSync } from 'node:zlib';
import { ReprimageError, corruptError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { VMDK_FLAGS, VMDK_GD_AT_END, VMDK_HEADER_SIZE, VMDK_MARKER, decodeVmdkHeader, isVmdkDescriptorText, type VmdkHeader } from './layout.js';

export interface VmdkImage {
  header: VmdkHeader;
  /** The embedded descriptor text. */
  descriptor: string;
  disk: RandomAccessSource;
  describe(): string;
}

const SECTOR = 512;
const MAX_GT_CACHE = 32;

export async function openVmdk(source: RandomAccessSource): Promise<VmdkImage> {
  const name = source.name;
  const head = await source.read(0, Math.min(source.size, VMDK_HEADER_SIZE));
  if (isVmdkDescriptorText(head)) throw new ReprimageError('UNSUPPORTED', name, 'a VMDK descriptor file (its data is in other files): convert it with qemu-img first');
  let h = decodeVmdkHeader(head, name, 0);
  const bad = (what: string, detail: string, at?: number) => corruptError(name, `VMDK ${what}`, at, detail);
  const outside = (what: string, sector: bigint | number) => new ReprimageError('OUT_OF_BOUNDS', name, `VMDK ${what} at sector ${sector} lies outside the file (${source.size} bytes)`);
  if (h.version < 1 || h.version > 3) throw bad('header', `version ${h.version}`, 4);
  const compressed = (h.flags & VMDK_FLAGS.compressed) !== 0;
  if (h.gdOffset === VMDK_GD_AT_END) {
    // a stream: the footer (a copy of the header with the real offset) sits before the end marker
    if (source.size < 3 * SECTOR + VMDK_HEADER_SIZE) throw new ReprimageError('TRUNCATED', name, 'VMDK stream too short for its footer');
    const tail = await source.read(source.size - 3 * SECTOR, 3 * SECTOR);
    const marker = new DataView(tail.buffer, tail.byteOffset, 16);
    if (marker.getUint32(12, true) !== VMDK_MARKER.footer) throw bad('stream', 'no footer marker before the end (truncated?)', source.size - 3 * SECTOR);
    h = decodeVmdkHeader(tail.subarray(SECTOR, 2 * SECTOR), name, source.size - 2 * SECTOR);
    if (h.gdOffset === VMDK_GD_AT_END) throw bad('footer', 'grain directory offset still unset', source.size - 2 * SECTOR);
  }
  if (compressed && h.compressAlgorithm !== 1) throw new ReprimageError('UNSUPPORTED', name, `VMDK compression algorithm ${h.compressAlgorithm}`);
  const grainSectors = Number(h.grainSize);
  if (!(grainSectors >= 1 && grainSectors <= 2048 && (grainSectors & (grainSectors - 1)) === 0)) throw bad('header', `grain size ${h.grainSize} sectors`, 20);
  if (h.numGTEsPerGT < 1 || h.numGTEsPerGT > 4096) throw bad('header', `${h.numGTEsPerGT} entries per grain table`, 44);
  if (h.capacity > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / SECTOR))) throw new ReprimageError('OVERFLOW', name, `VMDK capacity ${h.capacity} sectors is too large`);
  const size = Number(h.capacity) * SECTOR;
  const grainBytes = grainSectors * SECTOR;
  const grainCount = Math.ceil(size / grainBytes);
  const gtCount = Math.ceil(grainCount / h.numGTEsPerGT);
  const gtBytes = h.numGTEsPerGT * 4;
  if (h.gdOffset * BigInt(SECTOR) + BigInt(gtCount * 4) > BigInt(source.size)) throw outside('grain directory', h.gdOffset);
  const gdBytes = await source.read(Number(h.gdOffset) * SECTOR, gtCount * 4);
  const gd = new DataView(gdBytes.buffer, gdBytes.byteOffset, gdBytes.length);
  let descriptor = '';
  if (h.descriptorOffset > 0n && h.descriptorSize > 0n) {
    const at = h.descriptorOffset * BigInt(SECTOR);
    const length = Math.min(Number(h.descriptorSize) * SECTOR, 1 << 20);
    if (at + BigInt(length) > BigInt(source.size)) throw outside('descriptor', h.descriptorOffset);
    const text = await source.read(Number(at), length);
    const end = text.indexOf(0);
    descriptor = Buffer.from(end < 0 ? text : text.subarray(0, end)).toString('latin1');
  }

  const cache = new Map<number, DataView>();
  const grainTable = async (index: number): Promise<DataView | undefined> => {
    const sector = gd.getUint32(index * 4, true);
    if (sector === 0) return undefined;
    let t = cache.get(sector);
    if (t) return t;
    if (sector * SECTOR + gtBytes > source.size) throw outside('grain table', sector);
    const bytes = await source.read(sector * SECTOR, gtBytes);
    t = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    if (cache.size >= MAX_GT_CACHE) cache.delete(cache.keys().next().value!);
    cache.set(sector, t);
    return t;
  };
  let last: { sector: number; bytes: Uint8Array } | undefined;
  const readGrain = async (index: number, into: Uint8Array, from: number): Promise<void> => {
    const table = await grainTable(Math.floor(index / h.numGTEsPerGT));
    if (!table) return;
    const sector = table.getUint32((index % h.numGTEsPerGT) * 4, true);
    if (sector === 0 || (sector === 1 && h.version >= 2)) return; // not allocated, or a zeroed grain
    if (!compressed) {
      if (sector * SECTOR + from + into.length > source.size) throw outside(`grain ${index}`, sector);
      into.set(await source.read(sector * SECTOR + from, into.length));
      return;
    }
    if (last?.sector !== sector) {
      if (sector * SECTOR + 12 > source.size) throw outside(`grain ${index}`, sector);
      const prefix = await source.read(sector * SECTOR, 12);
      const length = new DataView(prefix.buffer, prefix.byteOffset, 12).getUint32(8, true);
      if (sector * SECTOR + 12 + length > source.size) throw outside(`grain ${index} data`, sector);
      const packed = await source.read(sector * SECTOR + 12, length);
      let plain: Buffer;
      try {
        plain = inflateSync(packed, { maxOutputLength: grainBytes });
      } catch (e) {
        throw bad(`grain ${index}`, `does not inflate (${(e as Error).message})`, sector * SECTOR);
      }
      const bytes = new Uint8Array(grainBytes);
      bytes.set(plain);
      last = { sector, bytes };
    }
    into.set(last.bytes.subarray(from, from + into.length));
  };

  const disk: RandomAccessSource = {
    name: `${name} ▸ vmdk`,
    size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) throw new RangeError(`${name}: bad read range ${offset}+${length}`);
      if (offset + length > size) throw new ReprimageError('TRUNCATED', name, `read past the end of the VMDK disk (${size} bytes)`);
      const out = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const guest = offset + done;
        const n = Math.min(grainBytes - (guest % grainBytes), length - done);
        await readGrain(Math.floor(guest / grainBytes), out.subarray(done, done + n), guest % grainBytes);
        done += n;
      }
      return out;
    },
    close: () => source.close(),
  };
  const createType = /createType="([^"]*)"/.exec(descriptor)?.[1];
  return {
    header: h,
    descriptor,
    disk,
    describe: () =>
      [
        `format: vmdk${createType ? ` ${createType}` : ''} version ${h.version}`,
        `flags: 0x${h.flags.toString(16)}`,
        `capacity: ${h.capacity} sectors`,
        `grain size: ${h.grainSize} sectors`,
        `descriptor:`,
        ...descriptor.split('\n').filter((l) => l !== '').map((l) => `  ${l}`),
      ].join('\n') + '\n',
  };
}
