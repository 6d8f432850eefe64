/**
 * The window a zstd frame asks its decoder to keep (RFC 8878 §3.1.1.1.2), and the limit we hold
 * it to. fzstd allocates the declared window before it decodes a byte, so a 14-byte frame that
 * claims a 2 GiB window would take 2 GiB of memory (found by fuzzing). `zstd -d` refuses windows
 * over 128 MiB unless told `--long`/`--memory`; so do we, before the decoder sees the frame.
 *
 * fzstd 0.1.1 also decodes matches more than 64 MiB back wrongly, without an error (a 300 MB tar
 * made with `zstd --long=27` came out different; fzstd does not check the content checksum). So a
 * frame whose window is over 64 MiB is refused, as UNSUPPORTED naming the reason, once its blocks
 * could have given more than 64 MiB: before that, no match can reach that far back.
 */
import { ReprimageError } from '../errors.js';
import { HUFFMAN_DESCRIPTION_SPAN, huffmanDescriptionProblem } from './zstd-huffman.js';

/** zstd's ZSTD_WINDOWLOG_LIMIT_DEFAULT: what `zstd -d` decodes without --long or --memory. */
export const ZSTD_WINDOW_LIMIT = 2 ** 27;

/** The largest window whose matches fzstd decodes right (see above). */
export const FZSTD_WINDOW_LIMIT = 2 ** 26;

const ZSTD_MAGIC = 0xfd2fb528;

/** Bytes of the frame header after the magic and the descriptor byte `fhd`. */
export function zstdHeaderRest(fhd: number): number {
  const single = (fhd >> 5) & 1;
  return (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
}

/**
 * The window size of a frame whose descriptor byte is `fhd` and whose following header bytes
 * (window descriptor, dictionary id, content size) are `rest`: the content size for a
 * single-segment frame, else what the window descriptor encodes.
 */
export function zstdWindowSize(fhd: number, rest: Uint8Array): number {
  if ((fhd >> 5) & 1) {
    const at = [0, 1, 2, 4][fhd & 3]!;
    const width = [1, 2, 4, 8][fhd >> 6]!;
    let size = 0;
    for (let i = width - 1; i >= 0; i--) size = size * 256 + rest[at + i]!;
    return width === 2 ? size + 256 : size;
  }
  const descriptor = rest[0]!;
  const base = 2 ** (10 + (descriptor >> 3));
  return base + (base / 8) * (descriptor & 7);
}

/** Throws when a frame's window is over ZSTD_WINDOW_LIMIT; `at` is the frame's offset. */
export function checkZstdWindow(fhd: number, rest: Uint8Array, subject: string, at: number): void {
  const window = zstdWindowSize(fhd, rest);
  if (window <= ZSTD_WINDOW_LIMIT) return;
  throw new ReprimageError(
    'UNSUPPORTED',
    subject,
    `zstd frame at byte ${at} needs a ${mebibytes(window)} window, more than the ${mebibytes(ZSTD_WINDOW_LIMIT)} zstd -d decodes without --long`,
  );
}

/** Throws when fzstd would keep a window over FZSTD_WINDOW_LIMIT for the frame at `at`. */
function checkFzstdWindow(window: number, subject: string, at: number): void {
  if (window <= FZSTD_WINDOW_LIMIT) return;
  throw new ReprimageError(
    'UNSUPPORTED',
    subject,
    `zstd frame at byte ${at} needs a ${mebibytes(window)} window; the decoder here (fzstd) misreads matches over ${mebibytes(FZSTD_WINDOW_LIMIT)} back, so decompress it with zstd -d --long=27 first`,
  );
}

function mebibytes(n: number): string {
  return n >= 2 ** 30 && n % 2 ** 30 === 0 ? `${n / 2 ** 30} GiB` : `${Math.ceil(n / 2 ** 20)} MiB`;
}

/** A window descriptor byte to put at stream offset `at`. */
export interface WindowPatch {
  at: number;
  descriptor: number;
}

/** The largest block a zstd frame may hold (RFC 8878 §3.1.1.2.4). */
const ZSTD_BLOCK_LIMIT = 128 * 1024;

/** The window descriptor of the smallest window (at least 1 KiB) that holds `bytes`. */
export function windowDescriptorFor(bytes: number): number {
  for (let exponent = 0; exponent < 32; exponent++) {
    const base = 2 ** (10 + exponent);
    for (let mantissa = 0; mantissa < 8; mantissa++) if (base + (base / 8) * mantissa >= bytes) return (exponent << 3) | mantissa;
  }
  return 0xff;
}

type State = 'magic' | 'skippable-size' | 'descriptor' | 'header' | 'block' | 'literals';

/**
 * Follows a zstd stream chunk by chunk through its frame and block headers only, and checks,
 * before the chunk holding them goes on to the decoder, each frame's window and each compressed
 * block's Huffman tree description (src/compress/zstd-huffman.ts). Bytes it cannot follow (not a
 * frame) end the watch: the decoder reports those.
 */
export class ZstdFrameGuard {
  #pending: number[] = [];
  #need = 4;
  #skip = 0;
  #state: State | 'done' = 'magic';
  #fhd = 0;
  /** Of the compressed block being read: where it starts, what follows the part checked, whether it is the last. */
  #blockAt = 0;
  #blockRest = 0;
  #lastBlock = false;
  #descriptionsChecked = 0;
  #frameAt = 0;
  /** The frame being read: its window, and what its blocks can give at most (RFC 8878 §3.1.1.2). */
  #window = 0;
  #bound = 0;
  /** Where the window descriptor of the frame being read is, while it may still be lowered. */
  #openWindowAt: number | undefined;
  #patches: WindowPatch[] = [];
  /** The window of each block seen and not yet taken by the decoder: one run per frame. */
  #blockWindows: { window: number; blocks: number }[] = [];
  #consumed = 0;

  constructor(private readonly subject: string) {}

  /**
   * Where the window descriptor of a frame still being read sits (a stream offset), if that frame
   * began less than a look-ahead ago: hold its bytes back from the decoder until
   * `windowPatches` has the frame's patch, or give up on it with `keepWindow`.
   */
  get openWindowAt(): number | undefined {
    return this.#openWindowAt;
  }

  /** The frame being read keeps the window it declares (it is too long to wait for). */
  keepWindow(): void {
    this.#openWindowAt = undefined;
  }

  /**
   * The input ended: a frame still open is cut short (the decoder will say so), but the blocks it
   * has can still be decoded in the window they fill, not in the one declared.
   */
  endOfInput(): void {
    this.#closeFrame();
  }

  /** Window descriptors to lower, for frames that ended since the last call. */
  takeWindowPatches(): WindowPatch[] {
    const patches = this.#patches;
    this.#patches = [];
    return patches;
  }

  /** The window the decoder holds for the next block it gives out (blocks come out in order). */
  takeBlockWindow(): number {
    while (this.#blockWindows[0]?.blocks === 0) this.#blockWindows.shift();
    const run = this.#blockWindows[0];
    if (run === undefined) return ZSTD_WINDOW_LIMIT; // not followed (the decoder will fail): assume the most
    run.blocks--;
    return run.window;
  }

  /** How many FSE-compressed Huffman tree descriptions were decoded and checked so far. */
  get descriptionsChecked(): number {
    return this.#descriptionsChecked;
  }

  /**
   * Reads `chunk`; throws UNSUPPORTED if a frame in it declares too large a window, CORRUPT_IMAGE
   * if a block's Huffman tree description is one zstd refuses.
   */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.#state !== 'done') {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      this.#pending.push(chunk[i]!);
      i++;
      if (this.#pending.length === this.#need) this.#take(Uint8Array.from(this.#pending), this.#consumed + i);
    }
    this.#consumed += chunk.length;
  }

  /** Acts on the header bytes that end at stream offset `end`. */
  #take(bytes: Uint8Array, end: number): void {
    this.#pending = [];
    switch (this.#state) {
      case 'magic': {
        const magic = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
        this.#frameAt = end - 4;
        if (magic >>> 4 === 0x184d2a5) this.#expect('skippable-size', 4);
        else if (magic === ZSTD_MAGIC) this.#expect('descriptor', 1);
        else this.#state = 'done';
        return;
      }
      case 'skippable-size':
        this.#skip = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
        this.#expect('magic', 4);
        return;
      case 'descriptor':
        this.#fhd = bytes[0]!;
        this.#expect('header', zstdHeaderRest(this.#fhd)); // never 0: a window descriptor or a content size follows
        return;
      case 'header':
        checkZstdWindow(this.#fhd, bytes, this.subject, this.#frameAt);
        this.#window = zstdWindowSize(this.#fhd, bytes);
        this.#bound = 0;
        // a single-segment frame's window is its content size already
        this.#openWindowAt = (this.#fhd >> 5) & 1 ? undefined : this.#frameAt + 5;
        this.#blockWindows.push({ window: this.#window, blocks: 0 });
        this.#expect('block', 3);
        return;
      case 'block': {
        const header = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16);
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        this.#lastBlock = (header & 1) === 1;
        // a block gives at most min(window, 128 KiB): raw and RLE blocks say how much, exactly
        const limit = Math.min(this.#window, ZSTD_BLOCK_LIMIT);
        if (type !== 3 && size > limit) {
          throw new ReprimageError('CORRUPT_IMAGE', this.subject, `corrupt zstd data: block of ${size} bytes (at most ${limit}) at byte ${end - 3}`);
        }
        this.#bound += type === 2 ? limit : size;
        // matches reach back at most as far as the frame's output so far: only past 64 MiB can fzstd misread them
        if (this.#window > FZSTD_WINDOW_LIMIT && this.#bound > FZSTD_WINDOW_LIMIT) checkFzstdWindow(this.#window, this.subject, this.#frameAt);
        const run = this.#blockWindows.at(-1);
        if (run) run.blocks++; // else the decoder is assumed to hold the largest window
        if (type === 2 && size > 0) {
          const checked = Math.min(size, HUFFMAN_DESCRIPTION_SPAN);
          this.#blockAt = end;
          this.#blockRest = size - checked;
          this.#expect('literals', checked);
          return;
        }
        this.#skip = type === 1 ? 1 : size;
        this.#afterBlock();
        return;
      }
      case 'literals': {
        const problem = huffmanDescriptionProblem(bytes, () => this.#descriptionsChecked++);
        if (problem !== undefined) {
          throw new ReprimageError('CORRUPT_IMAGE', this.subject, `corrupt zstd data: ${problem} in the block at byte ${this.#blockAt}`);
        }
        this.#skip = this.#blockRest;
        this.#afterBlock();
        return;
      }
      default:
        return;
    }
  }

  /** After a block's bytes: the next block, or the checksum (skipped) and the next frame. */
  #afterBlock(): void {
    if (this.#lastBlock) {
      this.#closeFrame();
      this.#skip += this.#fhd & 0x04 ? 4 : 0;
      this.#expect('magic', 4);
    } else {
      this.#expect('block', 3);
    }
  }

  /**
   * A frame's output is at most `#bound` bytes, so no match reaches further back: a window of that
   * size decodes it the same. fzstd moves its whole window at every block, so a 1 KB frame of
   * one-byte blocks that declares 128 MiB took seconds; with the window lowered it takes nothing.
   */
  #closeFrame(): void {
    if (this.#openWindowAt === undefined) return;
    const descriptor = windowDescriptorFor(this.#bound);
    const lowered = zstdWindowSize(0, Uint8Array.of(descriptor));
    if (lowered < this.#window) {
      this.#patches.push({ at: this.#openWindowAt, descriptor });
      this.#blockWindows.at(-1)!.window = lowered;
    }
    this.#openWindowAt = undefined;
  }

  #expect(state: State, bytes: number): void {
    this.#state = state;
    this.#need = bytes;
  }
}
