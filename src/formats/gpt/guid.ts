/**
 * GUIDs as GPT stores them (UEFI 2.10 appendix A): the first three fields little-endian, the
 * last two as bytes in order. Text is the usual 8-4-4-4-12 hex form; we print lower case, as
 * systemd does, and accept either case.
 */
import { ReprimageError } from '../../errors.js';

export const GUID_SIZE = 16;
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

const GUID_TEXT = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

export function isGuid(text: string): boolean {
  return GUID_TEXT.test(text);
}

/** Lower-cased GUID text; a USAGE error naming `subject` when `text` is not a GUID. */
export function normalizeGuid(text: string, subject = 'GUID'): string {
  if (!GUID_TEXT.test(text)) throw new ReprimageError('USAGE', subject, `${JSON.stringify(text)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  return text.toLowerCase();
}

/** GUID text → the 16 mixed-endian bytes GPT stores. */
export function encodeGuid(text: string, subject = 'GUID', out = new Uint8Array(GUID_SIZE), at = 0): Uint8Array {
  const hex = normalizeGuid(text, subject).replace(/-/g, '');
  const bytes = new Uint8Array(GUID_SIZE);
  for (let i = 0; i < GUID_SIZE; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  // fields 1-3 are little-endian on disk
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < GUID_SIZE; i++) out[at + i] = bytes[order[i]!]!;
  return out;
}

/** The 16 bytes at `at` → lower-case GUID text. */
export function decodeGuid(bytes: Uint8Array, at = 0): string {
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  let hex = '';
  for (let i = 0; i < GUID_SIZE; i++) hex += bytes[at + order[i]!]!.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
