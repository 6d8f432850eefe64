/**
 * The text fallback: when no format claims the bytes and both sides are UTF-8 text without NUL
 * bytes, the difference is a unified diff of their lines (cut at --max-diff-lines).
 */
import type { Blob } from '../blob.js';
import { Difference, splitLines } from '../difference.js';
import type { UnifiedDiffOptions } from '../unified.js';

/** Text larger than this is compared as binary (a line diff holds both sides in memory). */
export const TEXT_LIMIT = 16 << 20;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Whether `head` looks like the start of UTF-8 text (a cut multi-byte character at the end is allowed). */
export function looksLikeText(head: Uint8Array, complete: boolean): boolean {
  if (head.includes(0)) return false;
  let bytes = head;
  if (!complete) {
    // drop a multi-byte sequence cut by the end of the sample
    let cut = bytes.length;
    for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
      if ((bytes[i]! & 0xc0) !== 0x80) {
        if (bytes[i]! >= 0xc0) cut = i;
        break;
      }
    }
    bytes = bytes.subarray(0, cut);
  }
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Reads a whole blob known to be small. */
export async function readAll(blob: Blob): Promise<Uint8Array> {
  const out = new Uint8Array(blob.size);
  let at = 0;
  for await (const chunk of blob.chunks()) {
    if (at + chunk.length > out.length) break;
    out.set(chunk, at);
    at += chunk.length;
  }
  return out.subarray(0, at);
}

/**
 * The line diff of two blobs when both are text, else undefined (then the caller makes a hex
 * dump). Only called when the bytes differ.
 */
export async function textDifference(a: Blob, b: Blob, names: [string, string], options: UnifiedDiffOptions): Promise<Difference | undefined> {
  if (a.size > TEXT_LIMIT || b.size > TEXT_LIMIT) return undefined;
  const [ba, bb] = await Promise.all([readAll(a), readAll(b)]);
  if (!looksLikeText(ba, true) || !looksLikeText(bb, true)) return undefined;
  const la = splitLines(Buffer.from(ba).toString('utf8'));
  const lb = splitLines(Buffer.from(bb).toString('utf8'));
  return Difference.fromLines(names[0], names[1], la, lb, options) ?? Difference.withComment(names[0], names[1], 'the texts differ only in ways a line diff cannot show');
}
