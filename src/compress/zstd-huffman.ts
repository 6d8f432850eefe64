/**
 * A check of a compressed zstd block's Huffman tree description (RFC 8878 §4.2.1) before fzstd
 * sees the block. When the weights are FSE-compressed, fzstd decodes them until their bitstream
 * runs out; a table whose states read no bits (one weight holding all the probability) never
 * runs out, and fzstd spins forever on a 200-byte input (found by fuzzing cpio). zstd stops at
 * 255 weights and calls the block corrupt. So the weights are decoded here first, the same way,
 * counted and thrown away: at most 127 bytes per block, so the cost is nothing beside decoding.
 */

/** Literals header (at most 5 bytes), the description's header byte and its at most 127 bytes. */
export const HUFFMAN_DESCRIPTION_SPAN = 5 + 1 + 127;

/** zstd's limits for the Huffman weights' FSE table and their number. */
const WEIGHTS_ACCURACY_LOG_MAX = 6;
const WEIGHTS_MAX = 255;
const SYMBOLS_MAX = 256;

/**
 * Why zstd would refuse the Huffman tree description at the start of a compressed block whose
 * first bytes are `block` (at most HUFFMAN_DESCRIPTION_SPAN of them, or the whole block if it is
 * shorter), or undefined if it would not (or if the block has no FSE-compressed description).
 * `onDecoded` hears of each FSE-compressed description that is decoded.
 */
export function huffmanDescriptionProblem(block: Uint8Array, onDecoded?: () => void): string | undefined {
  if (block.length === 0 || (block[0]! & 3) !== 2) return undefined; // raw, RLE or treeless literals
  const sizeFormat = (block[0]! >> 2) & 3;
  const headerBytes = sizeFormat < 2 ? 3 : sizeFormat + 2;
  const descriptionByte = block[headerBytes];
  if (descriptionByte === undefined) return 'literals header runs past its block';
  if (descriptionByte >= 128) return undefined; // weights stored directly: their number is bounded by the byte
  const start = headerBytes + 1;
  const end = start + descriptionByte;
  if (end > block.length) return 'Huffman tree description runs past its block';
  if (descriptionByte === 0) return 'empty Huffman tree description';
  onDecoded?.();
  const table = readFseTable(block, start, end);
  if (typeof table === 'string') return table;
  return weightsProblem(block, table, end);
}

interface FseTable {
  accuracyLog: number;
  /** Per state: the bits it reads for the next state, and the base that the bits are added to. */
  bits: Uint8Array;
  base: Uint16Array;
  /** The byte after the table description, where the weights' bitstream begins. */
  end: number;
}

/** Little-endian bits [at, at + count) of `bytes`; bits past `limit` (a byte index) read as 0. */
function bitsAt(bytes: Uint8Array, limit: number, at: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const bit = at + i;
    const byte = bit >> 3;
    if (byte < limit && (bytes[byte]! >> (bit & 7)) & 1) value |= 1 << i;
  }
  return value;
}

const highBit = (n: number) => 31 - Math.clz32(n);

/** The FSE table description of RFC 8878 §4.1.1 at `start`, built into its decoding table. */
function readFseTable(bytes: Uint8Array, start: number, limit: number): FseTable | string {
  const accuracyLog = (bytes[start]! & 15) + 5;
  if (accuracyLog > WEIGHTS_ACCURACY_LOG_MAX) return `Huffman weights' accuracy log ${accuracyLog} is over ${WEIGHTS_ACCURACY_LOG_MAX}`;
  const size = 1 << accuracyLog;
  const counts: number[] = [];
  let at = start * 8 + 4;
  let remaining = size + 1;
  while (remaining > 1 && counts.length < SYMBOLS_MAX) {
    const threshold = 1 << highBit(remaining);
    const bits = highBit(remaining) + 1;
    const small = 2 * threshold - 1 - remaining; // values under this take one bit fewer
    const raw = bitsAt(bytes, limit, at, bits);
    let value: number;
    if ((raw & (threshold - 1)) < small) {
      value = raw & (threshold - 1);
      at += bits - 1;
    } else {
      value = raw >= threshold ? raw - small : raw;
      at += bits;
    }
    const count = value - 1; // -1: "less than one", one cell at the top of the table
    remaining -= Math.abs(count);
    counts.push(count);
    if (count === 0) {
      for (let repeat = 3; repeat === 3; ) {
        repeat = bitsAt(bytes, limit, at, 2);
        at += 2;
        for (let i = 0; i < repeat; i++) counts.push(0);
      }
    }
  }
  if (remaining !== 1 || counts.length > SYMBOLS_MAX) return "Huffman weights' FSE probabilities do not add up";
  const end = (at + 7) >> 3;
  if (end > limit) return "Huffman weights' FSE table runs past its description";

  // Spread the symbols over the cells (RFC 8878 §4.1.1), then give each cell its bits and base.
  const symbolOf = new Int16Array(size);
  let high = size;
  counts.forEach((count, symbol) => {
    if (count === -1) symbolOf[--high] = symbol;
  });
  const step = (size >> 1) + (size >> 3) + 3;
  let cell = 0;
  counts.forEach((count, symbol) => {
    for (let i = 0; i < count; i++) {
      symbolOf[cell] = symbol;
      do cell = (cell + step) & (size - 1);
      while (cell >= high);
    }
  });
  if (cell !== 0) return "Huffman weights' FSE table does not fill evenly";
  const next = counts.map((count) => (count === -1 ? 1 : count));
  const bits = new Uint8Array(size);
  const base = new Uint16Array(size);
  for (let state = 0; state < size; state++) {
    const symbol = symbolOf[state]!;
    const n = next[symbol]!++;
    bits[state] = accuracyLog - highBit(n);
    base[state] = (n << bits[state]!) - size;
  }
  return { accuracyLog, bits, base, end };
}

/**
 * Decodes the weights' bitstream (bytes table.end to `end`, read backwards from its last set
 * bit, two states taking turns) only to count them.
 */
function weightsProblem(bytes: Uint8Array, table: FseTable, end: number): string | undefined {
  const last = bytes[end - 1]!;
  if (last === 0 || end <= table.end) return "Huffman weights' bitstream has no end marker";
  const floor = table.end * 8;
  let at = (end - 1) * 8 + highBit(last);
  // Each decoder's state and the bits it reads next; the first read is a whole state.
  const decoders = [0, 1].map(() => ({ state: 0, reads: table.accuracyLog }));
  for (let weights = 0; ; ) {
    for (const d of decoders) {
      at -= d.reads;
      if (at < floor) return undefined;
      d.state += bitsAt(bytes, end, at, d.reads);
      if (++weights > WEIGHTS_MAX) return `more than ${WEIGHTS_MAX} Huffman weights`;
    }
    for (const d of decoders) {
      d.reads = table.bits[d.state]!;
      d.state = table.base[d.state]!;
    }
  }
}
