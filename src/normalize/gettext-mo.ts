/**
 * GNU gettext `.mo` catalogs: in the header entry (the translation of the empty msgid), a
 * `POT-Creation-Date` or `PO-Revision-Date` later than the reference time is lowered to it,
 * written in the same number of bytes so no offset moves. As in strip-nondeterminism, only the
 * first such field of the header is looked at, and earlier dates stay (in both time modes).
 */
import { corruptError, truncatedError } from '../errors.js';
import type { Normalizer } from './handler.js';
import { readWhole } from './handler.js';
import { detectMo, MO_MAGIC_LE } from './detect.js';

export { MO_MAGIC_LE } from './detect.js';
const MO_FIELDS = { magic: 0, revision: 4, count: 8, originals: 12, translations: 16 } as const;
const MO_HEADER_SIZE = 28;
const LIMIT = 256 << 20;

const DATE_FIELD = /^(POT-Creation-Date|PO-Revision-Date): (.*)/m;
const DATE_VALUE = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)([+-])(\d\d)(\d\d)$/;

/** "YYYY-MM-DD HH:MM+ZZZZ" → seconds since the epoch, or undefined if it is not in that form. */
export function parseGettextDate(value: string): number | undefined {
  const m = DATE_VALUE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sign, zh, zm] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)) / 1000;
  const offset = (Number(zh) * 3600 + Number(zm) * 60) * (sign === '-' ? -1 : 1);
  return local - offset;
}

/** strftime("%Y-%m-%d %H:%M%z") in UTC. */
export function formatGettextDate(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}+0000`;
}

/** The catalog with its header date lowered, or undefined when nothing changes. */
export function normalizeMoBytes(bytes: Uint8Array, buildTime: number, subject: string): Uint8Array | undefined {
  if (bytes.length < MO_HEADER_SIZE) throw truncatedError(subject, 'gettext .mo header', 0, MO_HEADER_SIZE - bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const magic = v.getUint32(MO_FIELDS.magic, true);
  const le = magic === MO_MAGIC_LE;
  if (!le && v.getUint32(MO_FIELDS.magic, false) !== MO_MAGIC_LE) throw corruptError(subject, 'gettext .mo header', 0, 'bad magic');
  const u32 = (at: number) => {
    if (at < 0 || at + 4 > bytes.length) throw truncatedError(subject, 'gettext .mo table', at, 4);
    return v.getUint32(at, le);
  };
  if (u32(MO_FIELDS.revision) >> 16 > 1) return undefined; // a future major revision: leave it
  const count = u32(MO_FIELDS.count);
  const originals = u32(MO_FIELDS.originals);
  const translations = u32(MO_FIELDS.translations);
  if (count * 8 > bytes.length) throw corruptError(subject, 'gettext .mo header', MO_FIELDS.count, `${count} strings cannot fit in ${bytes.length} bytes`);
  let out: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    if (u32(originals + i * 8) !== 0) continue; // only the header entry has an empty msgid
    const length = u32(translations + i * 8);
    const offset = u32(translations + i * 8 + 4);
    if (offset + length > bytes.length) throw truncatedError(subject, 'gettext .mo string', offset, offset + length - bytes.length);
    const text = Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1');
    const m = DATE_FIELD.exec(text);
    if (!m) continue;
    const time = parseGettextDate(m[2]!);
    if (time === undefined || time <= buildTime) continue;
    const replaced = text.replace(`${m[1]}: ${m[2]}`, `${m[1]}: ${formatGettextDate(buildTime)}`);
    if (replaced.length !== text.length) continue;
    out ??= bytes.slice();
    out.set(Buffer.from(replaced, 'latin1'), offset);
  }
  return out;
}

export const moNormalizer: Normalizer = {
  id: 'gettext-mo',
  description: 'gettext .mo catalogs: header POT-Creation-Date / PO-Revision-Date later than the timestamp',
  detect: detectMo,
  async prepare(source, ctx) {
    const bytes = await readWhole(source, LIMIT, '.mo catalog');
    const result = normalizeMoBytes(bytes, ctx.buildTime, ctx.subject) ?? bytes;
    return (sink) => sink.write(result);
  },
};
