/**
 * Mutations of binary inputs, in the manner of libFuzzer's: bit flips, random and "interesting"
 * bytes and numbers (0, -1, powers of two, their neighbours, in both byte orders), arithmetic on
 * a field, copying, inserting, erasing and repeating runs of bytes, and splicing two inputs.
 * Image formats are mostly little- or big-endian fields at fixed offsets, so numbers written over
 * a random aligned or unaligned place reach the size and offset checks quickly.
 */

/** xorshift32: a fixed sequence for a given seed, so a run can be repeated. */
export class Random {
  #s: number;
  constructor(seed: number) {
    this.#s = (seed >>> 0) || 0x9e3779b9;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
}

const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x200, 0x400, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

export class Mutator {
  constructor(
    private readonly random: Random,
    private readonly maxLen: number,
  ) {}

  mutate(base: Uint8Array, other: Uint8Array): Uint8Array {
    let data: Uint8Array = Uint8Array.from(base);
    const count = 1 + this.random.below(this.random.below(2) === 0 ? 2 : 8);
    for (let i = 0; i < count; i++) data = this.one(data, other);
    return data.length > this.maxLen ? data.subarray(0, this.maxLen) : data;
  }

  private one(data: Uint8Array, other: Uint8Array): Uint8Array {
    const r = this.random;
    if (data.length === 0) return Uint8Array.of(r.below(256));
    const at = this.place(data.length);
    switch (r.below(12)) {
      case 0:
        data[at] = data[at]! ^ (1 << r.below(8));
        return data;
      case 1:
        data[at] = r.below(256);
        return data;
      case 2:
      case 3: {
        // an interesting number of 1, 2, 4 or 8 bytes, little- or big-endian
        const width = [1, 2, 4, 8][r.below(4)]!;
        const value = BigInt(INTERESTING[r.below(INTERESTING.length)]!) + BigInt(r.below(3) - 1);
        this.writeNumber(data, at, width, value, r.below(2) === 0);
        return data;
      }
      case 4: {
        // add or subtract a little to a field
        const width = [1, 2, 4][r.below(3)]!;
        const little = r.below(2) === 0;
        const old = this.readNumber(data, at, width, little);
        this.writeNumber(data, at, width, old + BigInt(r.below(33) - 16), little);
        return data;
      }
      case 5: {
        const len = this.length(data.length - at);
        return concat(data.subarray(0, at), data.subarray(at + len));
      }
      case 6: {
        // insert a run copied from elsewhere in the input
        const from = r.below(data.length);
        const len = this.length(data.length - from);
        return concat(data.subarray(0, at), data.slice(from, from + len), data.subarray(at));
      }
      case 7: {
        // overwrite with a run copied from elsewhere (or from the other input)
        const src = r.below(2) === 0 ? data : other;
        if (src.length === 0) return data;
        const from = r.below(src.length);
        const len = Math.min(this.length(src.length - from), data.length - at);
        data.set(src.slice(from, from + len), at);
        return data;
      }
      case 8: {
        // splice: our head, the other's tail
        if (other.length === 0) return data;
        const cut = r.below(other.length);
        return concat(data.subarray(0, at), other.subarray(cut));
      }
      case 9: {
        const len = this.length(64);
        const run = new Uint8Array(len).fill(r.below(2) === 0 ? 0 : r.below(256));
        return concat(data.subarray(0, at), run, data.subarray(at));
      }
      case 10:
        // truncate
        return data.subarray(0, at);
      default: {
        // a random run of bytes
        const len = Math.min(this.length(16), data.length - at);
        for (let i = 0; i < len; i++) data[at + i] = r.below(256);
        return data;
      }
    }
  }

  /** Offsets near structure boundaries are likelier: aligned to 4, 512 or a power of two. */
  private place(length: number): number {
    const r = this.random;
    const raw = r.below(length);
    switch (r.below(4)) {
      case 0:
        return raw & ~3;
      case 1:
        return Math.min(length - 1, (raw & ~511) + r.below(64));
      default:
        return raw;
    }
  }

  private length(max: number): number {
    if (max <= 1) return max;
    return 1 + this.random.below(Math.min(max, this.random.below(2) === 0 ? 16 : 4096));
  }

  private readNumber(data: Uint8Array, at: number, width: number, little: boolean): bigint {
    let v = 0n;
    for (let i = 0; i < width; i++) {
      const b = BigInt(data[at + (little ? width - 1 - i : i)] ?? 0);
      v = (v << 8n) | b;
    }
    return v;
  }

  private writeNumber(data: Uint8Array, at: number, width: number, value: bigint, little: boolean): void {
    const mask = (1n << BigInt(width * 8)) - 1n;
    let v = BigInt.asUintN(64, value) & mask;
    for (let i = 0; i < width; i++) {
      const pos = at + (little ? i : width - 1 - i);
      if (pos < data.length) data[pos] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
