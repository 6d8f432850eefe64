/**
 * Reads a VHD (fixed or dynamic) as the disk it holds. The footer at the end is authoritative
 * (its checksum is checked); a dynamic disk's BAT is read whole (4 bytes per block, bounded by
 * the file's size) and its blocks on demand. Differencing disks are UNSUPPORTED.
 */
import { ReprimageError, corruptError } from '../../errors.js';
import { sliceSource, type RandomAccessSource } from '../../io/source.js';
import {
  VHD_BAT_UNUSED, VHD_DYNAMIC_HEADER_SIZE, VHD_EPOCH, VHD_FOOTER_SIZE, VHD_TYPE_DIFFERENCING, VHD_TYPE_DYNAMIC, VHD_TYPE_FIXED,
  decodeVhdDynamicHeader, decodeVhdFooter, isVhdFooter, type VhdDynamicHeader, type VhdFooter,
} from './layout.js';

export interface VhdImage {
  footer: VhdFooter;
  dynamic?: VhdDynamicHeader;
  disk: RandomAccessSource;
  describe(): string;
}

/** Whether the last 512 bytes of a file are a VHD footer (a fixed VHD has no other mark). */
export async function hasVhdFooter(source: RandomAccessSource): Promise<boolean> {
  if (source.size < VHD_FOOTER_SIZE * 2) return false;
  return isVhdFooter(await source.read(source.size - VHD_FOOTER_SIZE, 8));
}

export async function openVhd(source: RandomAccessSource): Promise<VhdImage> {
  const name = source.name;
  if (source.size < VHD_FOOTER_SIZE) throw new ReprimageError('TRUNCATED', name, `a VHD is at least ${VHD_FOOTER_SIZE} bytes`);
  const at = source.size - VHD_FOOTER_SIZE;
  const tail = await source.read(at, VHD_FOOTER_SIZE);
  if (!isVhdFooter(tail)) {
    const head = await source.read(0, VHD_FOOTER_SIZE);
    if (isVhdFooter(head)) throw corruptError(name, 'VHD', at, 'the footer at the end is missing (a truncated dynamic VHD?)');
    throw corruptError(name, 'VHD footer', at, 'no "conectix" cookie');
  }
  const footer = decodeVhdFooter(tail, name, at);
  if (footer.currentSize > BigInt(Number.MAX_SAFE_INTEGER)) throw new ReprimageError('OVERFLOW', name, `VHD size ${footer.currentSize} is too large`);
  const size = Number(footer.currentSize);
  if (size % 512 !== 0) throw corruptError(name, 'VHD footer', at + 48, `current size ${size} is not a whole number of sectors`);
  let disk: RandomAccessSource;
  let dynamic: VhdDynamicHeader | undefined;
  if (footer.diskType === VHD_TYPE_FIXED) {
    if (size > at) throw new ReprimageError('TRUNCATED', name, `fixed VHD of ${size} bytes holds only ${at} bytes of data`);
    const data = sliceSource(source, 0, size, `${name} ▸ vhd`);
    disk = { name: data.name, size, read: (o, n) => data.read(o, n), close: () => source.close() };
  } else if (footer.diskType === VHD_TYPE_DYNAMIC) {
    const d = await openDynamic(source, footer, size, at);
    dynamic = d.header;
    disk = d.disk;
  } else if (footer.diskType === VHD_TYPE_DIFFERENCING) {
    throw new ReprimageError('UNSUPPORTED', name, 'differencing VHD (it needs its parent): convert it with qemu-img first');
  } else {
    throw corruptError(name, 'VHD footer', at + 60, `disk type ${footer.diskType}`);
  }
  const hex = Buffer.from(footer.uniqueId).toString('hex');
  return {
    footer,
    dynamic,
    disk,
    describe: () =>
      [
        `format: vhd ${footer.diskType === VHD_TYPE_FIXED ? 'fixed' : 'dynamic'}`,
        `current size: ${footer.currentSize}`,
        `original size: ${footer.originalSize}`,
        `geometry: ${footer.cylinders}/${footer.heads}/${footer.sectorsPerTrack}`,
        `time stamp: ${footer.timeStamp} (${new Date((footer.timeStamp + VHD_EPOCH) * 1000).toISOString().replace('.000Z', 'Z')})`,
        `creator: ${JSON.stringify(footer.creatorApplication)} version 0x${footer.creatorVersion.toString(16)} host 0x${footer.creatorHostOs.toString(16)}`,
        `unique id: ${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
        `saved state: ${footer.savedState}`,
        ...(dynamic ? [`block size: ${dynamic.blockSize}`, `blocks: ${dynamic.maxTableEntries}`] : []),
      ].join('\n') + '\n',
  };
}

async function openDynamic(source: RandomAccessSource, footer: VhdFooter, size: number, footerAt: number): Promise<{ header: VhdDynamicHeader; disk: RandomAccessSource }> {
  const name = source.name;
  const outside = (what: string, offset: bigint | number) => new ReprimageError('OUT_OF_BOUNDS', name, `VHD ${what} at byte ${offset} lies outside the file (${source.size} bytes)`);
  if (footer.dataOffset + BigInt(VHD_DYNAMIC_HEADER_SIZE) > BigInt(footerAt)) throw outside('dynamic header', footer.dataOffset);
  const hAt = Number(footer.dataOffset);
  const header = decodeVhdDynamicHeader(await source.read(hAt, VHD_DYNAMIC_HEADER_SIZE), name, hAt);
  const bs = header.blockSize;
  if (bs < 512 || bs % 512 !== 0 || (bs & (bs - 1)) !== 0 || bs > 1 << 30) throw corruptError(name, 'VHD dynamic header', hAt + 32, `block size ${bs}`);
  if (header.maxTableEntries * bs < size) throw corruptError(name, 'VHD dynamic header', hAt + 28, `${header.maxTableEntries} blocks of ${bs} bytes do not cover ${size} bytes`);
  const needed = Math.ceil(size / bs);
  if (header.tableOffset + BigInt(needed * 4) > BigInt(source.size)) throw outside('block table', header.tableOffset);
  const batBytes = await source.read(Number(header.tableOffset), needed * 4);
  const bat = new DataView(batBytes.buffer, batBytes.byteOffset, batBytes.length);
  const bitmapBytes = Math.ceil(bs / 512 / 8 / 512) * 512;
  const disk: RandomAccessSource = {
    name: `${name} ▸ vhd`,
    size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) throw new RangeError(`${name}: bad read range ${offset}+${length}`);
      if (offset + length > size) throw new ReprimageError('TRUNCATED', name, `read past the end of the VHD disk (${size} bytes)`);
      const out = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const guest = offset + done;
        const block = Math.floor(guest / bs);
        const from = guest % bs;
        const n = Math.min(bs - from, length - done);
        const sector = bat.getUint32(block * 4);
        if (sector !== VHD_BAT_UNUSED) {
          const host = sector * 512 + bitmapBytes + from;
          if (host + n > footerAt) throw outside(`block ${block}`, sector * 512);
          out.set(await source.read(host, n), done);
        }
        done += n;
      }
      return out;
    },
    close: () => source.close(),
  };
  return { header, disk };
}
