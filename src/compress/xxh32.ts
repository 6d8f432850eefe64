/** xxHash32 (the checksum of the LZ4 frame format), incremental. Pure TypeScript. */
const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0;
const le32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

export class Xxh32 {
  #v = [0, 0, 0, 0];
  #buffer = new Uint8Array(16);
  #buffered = 0;
  #total = 0;
  readonly #seed: number;

  constructor(seed = 0) {
    this.#seed = seed >>> 0;
    this.#v = [(this.#seed + P1 + P2) >>> 0, (this.#seed + P2) >>> 0, this.#seed, (this.#seed - P1) >>> 0];
  }

  update(bytes: Uint8Array): this {
    this.#total += bytes.length;
    let i = 0;
    if (this.#buffered > 0) {
      const take = Math.min(16 - this.#buffered, bytes.length);
      this.#buffer.set(bytes.subarray(0, take), this.#buffered);
      this.#buffered += take;
      i = take;
      if (this.#buffered < 16) return this;
      this.#stripe(this.#buffer, 0);
      this.#buffered = 0;
    }
    for (; i + 16 <= bytes.length; i += 16) this.#stripe(bytes, i);
    this.#buffer.set(bytes.subarray(i), 0);
    this.#buffered = bytes.length - i;
    return this;
  }

  digest(): number {
    const [v1, v2, v3, v4] = this.#v as [number, number, number, number];
    let h = this.#total >= 16 ? (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0 : (this.#seed + P5) >>> 0;
    h = (h + this.#total) >>> 0;
    const b = this.#buffer;
    let i = 0;
    for (; i + 4 <= this.#buffered; i += 4) h = Math.imul(rotl((h + Math.imul(le32(b, i), P3)) >>> 0, 17), P4) >>> 0;
    for (; i < this.#buffered; i++) h = Math.imul(rotl((h + Math.imul(b[i]!, P5)) >>> 0, 11), P1) >>> 0;
    h = Math.imul(h ^ (h >>> 15), P2) >>> 0;
    h = Math.imul(h ^ (h >>> 13), P3) >>> 0;
    return (h ^ (h >>> 16)) >>> 0;
  }

  #stripe(b: Uint8Array, at: number): void {
    const v = this.#v;
    v[0] = round(v[0]!, le32(b, at));
    v[1] = round(v[1]!, le32(b, at + 4));
    v[2] = round(v[2]!, le32(b, at + 8));
    v[3] = round(v[3]!, le32(b, at + 12));
  }
}

export function xxh32(bytes: Uint8Array, seed = 0): number {
  return new Xxh32(seed).update(bytes).digest();
}
