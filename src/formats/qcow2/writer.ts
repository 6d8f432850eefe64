/**
 * Writes a raw disk image as qcow2 version 3, in one pass over the raw bytes and with memory
 * bounded by one L2 table and the per-cluster reference counts (2 bytes per host cluster):
 *
 *   cluster 0: header (written last) │ data clusters of L2 range 0 │ its L2 table │ range 1 … │
 *   L1 table │ refcount blocks │ refcount table
 *
 * All-zero clusters are left unallocated (they read as zeros). With `compress`, each cluster is
 * deflated as QEMU does (raw deflate, 4 KiB window, level 6: pako 2.1.0, whose bytes equal
 * Debian's zlib, so the clusters are the ones `qemu-img convert -c` writes) and kept only when
 * it fits in a cluster less one byte; compressed clusters are packed at byte granularity. The
 * clusters are deflated on worker threads and stored in disk order (src/parallel/unit-deflate.ts).
 * Nothing depends on time or chance: no timestamp or identifier exists in the format.
 */
import { deflateUnits } from '../../parallel/unit-deflate.js';
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { RandomAccessSource } from '../../io/source.js';
import { isAllZero, readUnits } from '../../io/zero-runs.js';
import {
  QCOW2_HEADER_V3_SIZE, QCOW2_OFLAG_COMPRESSED, QCOW2_OFLAG_COPIED, compressedShift, encodeQcow2Header,
} from './layout.js';

/** The codec of compressed clusters, recorded in reports (docs/design.md rule 6). */
export const QCOW2_COMPRESSION = 'deflate (raw, 4 KiB window, level 6) by pako 2.1.0';

export interface Qcow2WriteOptions {
  /** log2 of the cluster size, 9 (512 bytes) to 21 (2 MiB); default 16 (64 KiB) as qemu-img. */
  clusterBits?: number;
  /** Deflate each cluster (qemu-img convert -c). */
  compress?: boolean;
  /** Threads that compress (never changes the bytes); default: the cores available. */
  workers?: number;
  /** Name of the output in messages. */
  subject?: string;
}

export interface Qcow2Report {
  virtualSize: number;
  clusterSize: number;
  /** Data clusters stored (compressed ones included). */
  dataClusters: number;
  compressedClusters: number;
  fileSize: number;
}

export async function writeQcow2(source: RandomAccessSource, sink: Sink, options: Qcow2WriteOptions = {}): Promise<Qcow2Report> {
  const subject = options.subject ?? 'qcow2';
  const clusterBits = options.clusterBits ?? 16;
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) throw new ReprimageError('USAGE', subject, `cluster size must be 2^9 to 2^21 bytes, got 2^${clusterBits}`);
  if (sink.position !== 0) throw new ReprimageError('USAGE', subject, 'a qcow2 image must start at the beginning of its output');
  const cluster = 2 ** clusterBits;
  const l2Entries = cluster / 8;
  const l2Span = l2Entries * cluster;
  const virtualSize = source.size;
  const l1Size = Math.ceil(virtualSize / l2Span);
  const l1 = new BigUint64Array(l1Size);
  const refcounts = new Counts();
  const shift = BigInt(compressedShift(clusterBits));
  const compress = options.compress === true;

  let pos = 0; // bytes of the output so far (sink.position may not count holes the same way)
  const append = async (bytes: Uint8Array) => {
    await sink.write(bytes);
    pos += bytes.length;
  };
  const alignToCluster = async () => {
    const pad = (cluster - (pos % cluster)) % cluster;
    if (pad > 0) await append(new Uint8Array(pad));
  };
  // cluster 0 holds the header, written last
  await append(new Uint8Array(cluster));
  refcounts.add(0, cluster, cluster);

  let l2 = new DataView(new ArrayBuffer(cluster));
  let l2Used = false;
  let currentL2 = 0;
  let dataClusters = 0;
  let compressedClusters = 0;
  const finishL2 = async () => {
    if (!l2Used) return;
    await alignToCluster();
    l1[currentL2] = BigInt(pos) | QCOW2_OFLAG_COPIED;
    refcounts.add(pos, cluster, cluster);
    await append(new Uint8Array(l2.buffer));
    l2 = new DataView(new ArrayBuffer(cluster));
    l2Used = false;
  };

  const store = async (index: number, bytes: Uint8Array | undefined, packed: Uint8Array | undefined) => {
    const table = Math.floor(index / l2Entries);
    if (table !== currentL2) {
      await finishL2();
      currentL2 = table;
    }
    if (!bytes) return;
    dataClusters++;
    let entry: bigint;
    if (packed && packed.length <= cluster - 1) {
      // a compressed cluster: byte offset plus the count of further 512-byte sectors it touches
      const extra = Math.floor((pos + packed.length - 1) / 512) - Math.floor(pos / 512);
      entry = QCOW2_OFLAG_COMPRESSED | (BigInt(extra) << shift) | BigInt(pos);
      // QEMU counts a reference on every host cluster the whole sectors touch
      refcounts.add(pos - (pos % 512), (extra + 1) * 512, cluster);
      await append(packed);
      compressedClusters++;
    } else {
      await alignToCluster();
      entry = BigInt(pos) | QCOW2_OFLAG_COPIED;
      refcounts.add(pos, cluster, cluster);
      await append(bytes);
    }
    l2.setBigUint64((index % l2Entries) * 8, entry);
    l2Used = true;
  };
  /** Data clusters `first`, `first + 1`, … (one L2 range) stored uncompressed, in one write. */
  const storeRun = async (first: number, bytes: Uint8Array) => {
    const table = Math.floor(first / l2Entries);
    if (table !== currentL2) {
      await finishL2();
      currentL2 = table;
    }
    await alignToCluster();
    const n = bytes.length / cluster;
    for (let k = 0; k < n; k++) l2.setBigUint64(((first + k) % l2Entries) * 8, BigInt(pos + k * cluster) | QCOW2_OFLAG_COPIED);
    refcounts.add(pos, bytes.length, cluster);
    dataClusters += n;
    l2Used = true;
    await append(bytes);
  };
  if (compress) {
    // deflated on worker threads, stored in disk order whatever the number of workers
    await deflateUnits(source, cluster, 'qcow2', options.workers, (u) => store(u.index, u.bytes, u.packed));
  } else {
    // consecutive data clusters of one L2 range go out as one write, straight from the read
    // buffer (a run never outlives its chunk: the buffer is read into again after it)
    const perRead = Math.max(1, Math.floor((4 << 20) / cluster));
    let run: { first: number; bytes: Uint8Array } | undefined;
    const flushRun = async () => {
      if (run) await storeRun(run.first, run.bytes);
      run = undefined;
    };
    for await (const { index, bytes, zero } of readUnits(source, cluster, perRead)) {
      if (zero || isAllZero(bytes)) {
        await flushRun();
        await store(index, undefined, undefined);
      } else if (run && Math.floor(run.first / l2Entries) === Math.floor(index / l2Entries) && run.bytes.buffer === bytes.buffer && run.bytes.byteOffset + run.bytes.length === bytes.byteOffset) {
        run.bytes = new Uint8Array(bytes.buffer, run.bytes.byteOffset, run.bytes.length + bytes.length);
      } else {
        await flushRun();
        run = { first: index, bytes };
      }
      if ((index + 1) % perRead === 0) await flushRun();
    }
    await flushRun();
  }
  await finishL2();
  await alignToCluster();

  // the L1 table
  const l1Offset = pos;
  const l1Bytes = new Uint8Array(Math.max(cluster, roundUp(l1Size * 8, cluster)));
  const l1View = new DataView(l1Bytes.buffer);
  for (let i = 0; i < l1Size; i++) l1View.setBigUint64(i * 8, l1[i]!);
  refcounts.add(pos, l1Bytes.length, cluster);
  await append(l1Bytes);

  // refcount blocks and table: they count themselves, so find the fixed point of their sizes
  const perBlock = cluster / 2; // 16-bit refcounts (refcount_order 4)
  const used = pos / cluster;
  let blocks = 0;
  let tableClusters = 0;
  for (;;) {
    const total = used + blocks + tableClusters;
    const b = Math.ceil(total / perBlock);
    const t = Math.ceil((b * 8) / cluster);
    if (b === blocks && t === tableClusters) break;
    blocks = b;
    tableClusters = t;
  }
  const blocksOffset = pos;
  const tableOffset = blocksOffset + blocks * cluster;
  refcounts.add(blocksOffset, (blocks + tableClusters) * cluster, cluster);
  for (let b = 0; b < blocks; b++) {
    const block = new DataView(new ArrayBuffer(cluster));
    for (let k = 0; k < perBlock; k++) {
      const n = refcounts.get(b * perBlock + k);
      if (n > 0xffff) throw new ReprimageError('USAGE', subject, 'more than 65535 compressed clusters in one host cluster');
      block.setUint16(k * 2, n);
    }
    await append(new Uint8Array(block.buffer));
  }
  const table = new DataView(new ArrayBuffer(tableClusters * cluster));
  for (let b = 0; b < blocks; b++) table.setBigUint64(b * 8, BigInt(blocksOffset + b * cluster));
  await append(new Uint8Array(table.buffer));

  const header = encodeQcow2Header({
    version: 3, backingFileOffset: 0n, backingFileSize: 0, clusterBits, size: BigInt(virtualSize), cryptMethod: 0,
    l1Size, l1TableOffset: BigInt(l1Offset), refcountTableOffset: BigInt(tableOffset), refcountTableClusters: tableClusters,
    nbSnapshots: 0, snapshotsOffset: 0n, incompatibleFeatures: 0n, compatibleFeatures: 0n, autoclearFeatures: 0n,
    refcountOrder: 4, headerLength: QCOW2_HEADER_V3_SIZE, compressionType: 0,
  });
  await sink.writeAt(0, header);
  await sink.flush();
  return { virtualSize, clusterSize: cluster, dataClusters, compressedClusters, fileSize: pos };
}

/** Reference counts per host cluster, grown as the output grows. */
class Counts {
  #counts = new Uint32Array(1024);

  add(offset: number, length: number, cluster: number): void {
    const first = Math.floor(offset / cluster);
    const last = Math.floor((offset + length - 1) / cluster);
    if (last >= this.#counts.length) {
      const bigger = new Uint32Array(Math.max(last + 1, this.#counts.length * 2));
      bigger.set(this.#counts);
      this.#counts = bigger;
    }
    for (let c = first; c <= last; c++) this.#counts[c]!++;
  }

  get(index: number): number {
    return index < this.#counts.length ? this.#counts[index]! : 0;
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
