/**
 * The binary fallback: a hex dump diff in xxd's layout (`00000010: 6865 6c6c 6f0a  hello.`).
 * Small files (up to 1 MiB a side) are dumped whole and line-diffed, so an inserted byte shows
 * as an insertion. Larger ones are compared row by row in lockstep while streaming, so memory
 * stays bounded; reading stops once --max-diff-lines rows have been shown.
 */
import type { Blob } from '../blob.js';
import { Difference } from '../difference.js';
import { unifiedDiff, DEFAULT_MAX_DIFF_LINES, type UnifiedDiffOptions } from '../unified.js';
import { readAll } from './text.js';

const ROW = 16;
const WHOLE_LIMIT = 1 << 20;

/** One xxd row of `bytes` (at most 16) at `offset`. */
export function hexRow(offset: number, bytes: Uint8Array): string {
  let hex = '';
  let ascii = '';
  for (let i = 0; i < ROW; i++) {
    if (i < bytes.length) {
      hex += bytes[i]!.toString(16).padStart(2, '0');
      ascii += bytes[i]! >= 0x20 && bytes[i]! < 0x7f ? String.fromCharCode(bytes[i]!) : '.';
    } else hex += '  ';
    if (i % 2 === 1) hex += ' ';
  }
  return `${offset.toString(16).padStart(8, '0')}: ${hex} ${ascii}`;
}

function hexLines(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += ROW) out.push(hexRow(at, bytes.subarray(at, at + ROW)));
  return out;
}

export async function binaryDifference(a: Blob, b: Blob, names: [string, string], options: UnifiedDiffOptions): Promise<Difference> {
  if (a.size <= WHOLE_LIMIT && b.size <= WHOLE_LIMIT) {
    const [ba, bb] = await Promise.all([readAll(a), readAll(b)]);
    const text = unifiedDiff(hexLines(ba), hexLines(bb), options);
    return new Difference(names[0], names[1], text === '' ? null : text);
  }
  return streamedHexDifference(a, b, names, options);
}

/** Row-aligned lockstep comparison of two large blobs, with 3 rows of context around changes. */
async function streamedHexDifference(a: Blob, b: Blob, names: [string, string], options: UnifiedDiffOptions): Promise<Difference> {
  const maxLines = options.maxLines ?? DEFAULT_MAX_DIFF_LINES;
  const context = options.context ?? 3;
  const out: string[] = [];
  const before: Array<[number, Uint8Array]> = []; // equal rows kept for leading context
  let pending: { offset: number; lines: string[]; na: number; nb: number; startA: number; startB: number; trailing: number } | undefined;
  let truncated = false;
  const flush = () => {
    if (!pending) return;
    out.push(`@@ -${pending.startA + 1},${pending.na} +${pending.startB + 1},${pending.nb} @@`, ...pending.lines);
    pending = undefined;
  };
  let row = 0;
  const blocks = alignedBlocks(a, b);
  try {
    scan: for await (const [ba, bb] of blocks) {
      // equal blocks are skipped whole, keeping only the rows needed as context
      if (ba.length === bb.length && Buffer.compare(ba, bb) === 0 && (!pending || pending.trailing >= context)) {
        flush();
        const rowsInBlock = Math.ceil(ba.length / ROW);
        for (let r = Math.max(0, rowsInBlock - context); r < rowsInBlock; r++) {
          before.push([(row + r) * ROW, ba.subarray(r * ROW, r * ROW + ROW)]);
          if (before.length > context) before.shift();
        }
        row += rowsInBlock;
        continue;
      }
      const rowsInBlock = Math.ceil(Math.max(ba.length, bb.length) / ROW);
      for (let r = 0; r < rowsInBlock; r++, row++) {
        const va = r * ROW < ba.length ? ba.subarray(r * ROW, r * ROW + ROW) : undefined;
        const vb = r * ROW < bb.length ? bb.subarray(r * ROW, r * ROW + ROW) : undefined;
        const offset = row * ROW;
        const same = va !== undefined && vb !== undefined && Buffer.compare(va, vb) === 0;
        if (same) {
          if (pending && pending.trailing < context) {
            pending.lines.push(` ${hexRow(offset, va)}`);
            pending.na++;
            pending.nb++;
            pending.trailing++;
          } else {
            flush();
            before.push([offset, va]);
            if (before.length > context) before.shift();
          }
        } else {
          if (!pending) {
            const first = before.length > 0 ? before[0]![0] / ROW : row;
            pending = { offset, lines: [], na: 0, nb: 0, startA: first, startB: first, trailing: 0 };
            for (const [o, bytes] of before) {
              pending.lines.push(` ${hexRow(o, bytes)}`);
              pending.na++;
              pending.nb++;
            }
            before.length = 0;
          }
          pending.trailing = 0;
          if (va !== undefined) {
            pending.lines.push(`-${hexRow(offset, va)}`);
            pending.na++;
          }
          if (vb !== undefined) {
            pending.lines.push(`+${hexRow(offset, vb)}`);
            pending.nb++;
          }
        }
        if (out.length + (pending?.lines.length ?? 0) >= maxLines) {
          truncated = true;
          break scan;
        }
      }
    }
    flush();
  } finally {
    await blocks.return(undefined);
  }
  const d = new Difference(names[0], names[1], out.length > 0 ? `${out.slice(0, maxLines).join('\n')}\n` : null);
  if (truncated) d.comments.push(`hex dump cut after ${maxLines} lines (--max-diff-lines); later differences are not shown`);
  if (a.size !== b.size) d.comments.push(`sizes differ: ${a.size} and ${b.size} bytes`);
  return d;
}

const BLOCK = 1 << 20;

/**
 * Both blobs cut into pairs of blocks at the same offsets (1 MiB, a multiple of the row size);
 * past the end of the shorter one, its block is empty.
 */
async function* alignedBlocks(a: Blob, b: Blob): AsyncGenerator<[Uint8Array, Uint8Array]> {
  const ra = blocksOf(a);
  const rb = blocksOf(b);
  try {
    while (true) {
      const [xa, xb] = await Promise.all([ra.next(), rb.next()]);
      if (xa.done && xb.done) return;
      yield [xa.done ? new Uint8Array(0) : xa.value, xb.done ? new Uint8Array(0) : xb.value];
    }
  } finally {
    await Promise.all([ra.return(undefined), rb.return(undefined)]);
  }
}

/** The blob in blocks of exactly BLOCK bytes (the last one shorter). */
async function* blocksOf(blob: Blob): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(BLOCK);
  let used = 0;
  for await (const chunk of blob.chunks()) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(BLOCK - used, chunk.length - at);
      if (used === 0 && take === BLOCK) {
        yield chunk.subarray(at, at + BLOCK); // aligned: no copy
      } else {
        buf.set(chunk.subarray(at, at + take), used);
        used += take;
        if (used === BLOCK) {
          yield buf;
          buf = new Uint8Array(BLOCK);
          used = 0;
        }
      }
      at += take;
    }
  }
  if (used > 0) yield buf.subarray(0, used);
}
