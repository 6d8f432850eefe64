/**
 * The file allocation table: packing entries of 12, 16 or 28 bits (fatgen103 §4), building the
 * table of a freshly written volume from its contiguous runs, and following cluster chains when
 * reading, with every way a chain can go wrong turned into a ReprimageError.
 */
import { ReprimageError } from '../../errors.js';
import { FAT_BAD, FAT_EOC, FAT_EOC_MIN, FIRST_CLUSTER, type FatType } from './constants.js';

/** Bytes a FAT of `entries` entries occupies. */
export function fatBytes(type: FatType, entries: number): number {
  return type === 12 ? Math.ceil((entries * 3) / 2) : entries * (type / 8);
}

/** Stores entry `n` of a 12-, 16- or 32-bit FAT (the top 4 bits of a FAT32 entry are written as 0). */
export function setFatEntry(fat: Uint8Array, type: FatType, n: number, value: number): void {
  if (type === 16) {
    fat[2 * n] = value & 0xff;
    fat[2 * n + 1] = (value >> 8) & 0xff;
  } else if (type === 32) {
    // The top 4 bits are reserved and must be kept; on a fresh table they are 0.
    const v = value & 0x0fffffff;
    fat[4 * n] = v & 0xff;
    fat[4 * n + 1] = (v >>> 8) & 0xff;
    fat[4 * n + 2] = (v >>> 16) & 0xff;
    fat[4 * n + 3] = (v >>> 24) & 0xff;
  } else {
    const at = n + (n >> 1);
    if (n & 1) {
      fat[at] = (fat[at]! & 0x0f) | ((value << 4) & 0xf0);
      fat[at + 1] = (value >> 4) & 0xff;
    } else {
      fat[at] = value & 0xff;
      fat[at + 1] = (fat[at + 1]! & 0xf0) | ((value >> 8) & 0x0f);
    }
  }
}

/** Entry `n` of a FAT (28 bits on FAT32); `fat` must hold it. */
export function getFatEntry(fat: Uint8Array, type: FatType, n: number): number {
  if (type === 16) return fat[2 * n]! | (fat[2 * n + 1]! << 8);
  if (type === 32) return (fat[4 * n]! | (fat[4 * n + 1]! << 8) | (fat[4 * n + 2]! << 16) | (fat[4 * n + 3]! << 24)) & 0x0fffffff;
  const at = n + (n >> 1);
  const pair = fat[at]! | (fat[at + 1]! << 8);
  return n & 1 ? pair >> 4 : pair & 0x0fff;
}

/** A run of clusters given to one file or directory: clusters first … first + count − 1. */
export interface ClusterRun {
  first: number;
  count: number;
}

/**
 * One FAT of `fatSectors` sectors for a volume whose objects occupy the given runs: each run is
 * one chain ending in end-of-chain; entry 0 holds the media byte, entry 1 the end-of-chain mark
 * with the "clean" bits set; everything else is free.
 */
export function buildFat(type: FatType, fatSectors: number, sectorSize: number, media: number, runs: readonly ClusterRun[]): Uint8Array {
  const fat = new Uint8Array(fatSectors * sectorSize);
  setFatEntry(fat, type, 0, (FAT_EOC[type] & ~0xff) | media);
  setFatEntry(fat, type, 1, FAT_EOC[type]);
  for (const run of runs) {
    const last = run.first + run.count - 1;
    for (let c = run.first; c < last; c++) setFatEntry(fat, type, c, c + 1);
    setFatEntry(fat, type, last, FAT_EOC[type]);
  }
  return fat;
}

/** The table as a reader holds it: the entries of clusters 0 … clusterCount + 1. */
export class FatTable {
  /** Highest valid cluster number. */
  readonly maxCluster: number;
  constructor(
    readonly type: FatType,
    private readonly bytes: Uint8Array,
    readonly clusterCount: number,
    private readonly subject: string,
  ) {
    this.maxCluster = clusterCount + 1;
  }

  entry(n: number): number {
    return getFatEntry(this.bytes, this.type, n);
  }

  /** Whether `n` is a cluster number that exists on this volume. */
  valid(n: number): boolean {
    return n >= FIRST_CLUSTER && n <= this.maxCluster;
  }

  /**
   * The clusters of the chain that starts at `start`, as contiguous runs, stopping after `limit`
   * clusters (the caller's need) or at the end-of-chain mark. Every cluster visited is marked in
   * `seen`, shared by all chains of one walk, so a loop or a cluster claimed twice is found in
   * one pass. Errors: a start or link outside the volume (OUT_OF_BOUNDS); a link to a free,
   * reserved or bad cluster, or a cluster shared by two chains (CORRUPT_IMAGE); a chain that
   * comes back to itself (LINK_LOOP).
   */
  chain(start: number, what: string, seen: ClusterBitmap, limit = Infinity): ClusterRun[] {
    const runs: ClusterRun[] = [];
    if (!this.valid(start)) {
      throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `${what} starts at cluster ${start}, outside clusters 2–${this.maxCluster}`);
    }
    let c = start;
    let length = 0;
    for (;;) {
      if (seen.testAndSet(c)) {
        const own = runs.some((r) => c >= r.first && c < r.first + r.count);
        if (own) throw new ReprimageError('LINK_LOOP', this.subject, `the cluster chain of ${what} loops back to cluster ${c}`);
        throw new ReprimageError('CORRUPT_IMAGE', this.subject, `${what} shares cluster ${c} with another file or directory`);
      }
      const last = runs[runs.length - 1];
      if (last && last.first + last.count === c) last.count++;
      else runs.push({ first: c, count: 1 });
      length++;
      if (length >= limit) return runs;
      const next = this.entry(c);
      if (next >= FAT_EOC_MIN[this.type]) return runs;
      if (next === 0) throw new ReprimageError('CORRUPT_IMAGE', this.subject, `the cluster chain of ${what} reaches cluster ${c}, which is marked free`);
      if (next === FAT_BAD[this.type]) throw new ReprimageError('CORRUPT_IMAGE', this.subject, `the cluster chain of ${what} reaches cluster ${c}, which is marked bad`);
      if (!this.valid(next)) {
        throw new ReprimageError('OUT_OF_BOUNDS', this.subject, `the cluster chain of ${what} points from cluster ${c} to ${next}, outside the volume`);
      }
      c = next;
    }
  }
}

/** One bit per cluster: which clusters a walk has already visited. */
export class ClusterBitmap {
  readonly #bits: Uint8Array;
  constructor(clusters: number) {
    this.#bits = new Uint8Array((clusters >> 3) + 1);
  }

  /** Marks `n`; returns whether it was marked before. */
  testAndSet(n: number): boolean {
    const byte = n >> 3;
    const bit = 1 << (n & 7);
    const was = (this.#bits[byte]! & bit) !== 0;
    this.#bits[byte] = this.#bits[byte]! | bit;
    return was;
  }
}
