/**
 * The Reed-Solomon redundancy grub-bios-setup appends to an embedded core.img, so that GRUB's
 * start-up code can repair sectors a BIOS or a partition tool damaged (GRUB's
 * grub_reed_solomon_add_redundancy, re-implemented from its description):
 *
 * - GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator α = 2;
 * - the code's generator polynomial is (X + α^0)(X + α^1)…(X + α^(r-1));
 * - the data is cut into chunks of at most 200 sectors (data and redundancy together, each
 *   share rounded down to whole sectors), and inside a chunk each of the 512 byte columns
 *   (byte i of every sector) is one code word: the data bytes of that column, then its
 *   redundancy bytes in the same column of the redundancy sectors.
 */

const SECTOR = 512;
const MAX_CHUNK = 200 * SECTOR;

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    EXP[i + 255] = x;
    LOG[x] = i;
    x = x & 0x80 ? ((x << 1) ^ 0x11d) & 0xff : x << 1;
  }
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

const generators = new Map<number, Uint8Array>();

/** Coefficients of ∏ (X + α^j), j < r, highest degree first (index 0 is 1). */
function generator(r: number): Uint8Array {
  let g = generators.get(r);
  if (g) return g;
  g = new Uint8Array(r + 1);
  g[0] = 1;
  for (let j = 0; j < r; j++) {
    // multiply by (X + α^j): every coefficient takes the α^j multiple of itself plus the next higher
    const aj = EXP[j % 255]!;
    for (let i = j + 1; i > 0; i--) g[i] = g[i]! ^ mul(g[i - 1]!, aj);
  }
  generators.set(r, g);
  return g;
}

/** The r redundancy bytes of `data` (systematic code: the remainder of data·X^r divided by g). */
function encodeWord(data: Uint8Array, r: number): Uint8Array {
  const g = generator(r);
  const rem = new Uint8Array(r);
  for (const d of data) {
    const f = d ^ rem[0]!;
    rem.copyWithin(0, 1);
    rem[r - 1] = 0;
    if (f !== 0) for (let i = 0; i < r; i++) rem[i] = rem[i]! ^ mul(g[i + 1]!, f);
  }
  return rem;
}

function encodeChunk(buf: Uint8Array, data: number, dataLength: number, red: number, redLength: number): void {
  for (let col = 0; col < SECTOR; col++) {
    const ds = Math.floor((dataLength + SECTOR - 1 - col) / SECTOR);
    const rr = Math.floor((redLength + SECTOR - 1 - col) / SECTOR);
    if (ds === 0 || rr === 0) continue;
    const word = new Uint8Array(ds);
    for (let j = 0; j < ds; j++) word[j] = buf[data + SECTOR * j + col]!;
    const parity = encodeWord(word, rr);
    for (let j = 0; j < rr; j++) buf[red + SECTOR * j + col] = parity[j]!;
  }
}

/**
 * Fills `buf[offset + dataLength, offset + dataLength + redundancy)` with the redundancy of
 * `buf[offset, offset + dataLength)`, in place.
 */
export function addGrubRedundancy(buf: Uint8Array, offset: number, dataLength: number, redundancy: number): void {
  let data = offset;
  let red = offset + dataLength;
  let s = dataLength;
  let rs = redundancy;
  if (rs === 0) return;
  while (s > 0) {
    let cs = s;
    let crs = rs;
    const total = cs + crs;
    if (total > MAX_CHUNK) {
      cs = Math.floor((cs * (MAX_CHUNK / SECTOR)) / total) * SECTOR;
      crs = Math.floor((crs * (MAX_CHUNK / SECTOR)) / total) * SECTOR;
    }
    encodeChunk(buf, data, cs, red, crs);
    data += cs;
    red += crs;
    s -= cs;
    rs -= crs;
  }
}
