/**
 * GNU gettext `.po` and `.pot` files: the `POT-Creation-Date` of the header entry, which
 * xgettext sets to the time it ran, is clamped (or set) to the reference time. Every other byte,
 * including `PO-Revision-Date` (a translator's own date), is kept.
 */
import type { Normalizer, NormalizeContext } from './handler.js';
import { normalizedTime, readWhole } from './handler.js';
import { formatGettextDate, parseGettextDate } from './gettext-mo.js';
import { detectPo } from './detect.js';

const LIMIT = 256 << 20;
/** The header line as xgettext writes it: "POT-Creation-Date: 2024-01-31 12:00+0100\n" */
const CREATION_LINE = /^"POT-Creation-Date: ([^"\\]*)\\n"/m;

/** The file with its creation date normalized, or undefined when nothing changes. */
export function normalizePoBytes(bytes: Uint8Array, ctx: Pick<NormalizeContext, 'buildTime' | 'clamp'>): Uint8Array | undefined {
  const text = Buffer.from(bytes).toString('latin1');
  // The header is the first entry: stop looking at the first msgid that is not empty.
  const firstReal = text.search(/^msgid "[^"]/m);
  const headerText = firstReal < 0 ? text : text.slice(0, firstReal);
  const m = CREATION_LINE.exec(headerText);
  if (!m) return undefined;
  const time = parseGettextDate(m[1]!);
  if (time === undefined || (ctx.clamp && time <= ctx.buildTime)) return undefined;
  const target = normalizedTime(ctx, time);
  const value = formatGettextDate(target);
  const start = m.index + '"POT-Creation-Date: '.length;
  const out = Buffer.from(text.slice(0, start) + value + text.slice(start + m[1]!.length), 'latin1');
  if (Buffer.compare(out, Buffer.from(bytes)) === 0) return undefined;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export const poNormalizer: Normalizer = {
  id: 'gettext-po',
  description: 'gettext .po/.pot: header POT-Creation-Date',
  detect: detectPo,
  async prepare(source, ctx) {
    const bytes = await readWhole(source, LIMIT, 'PO file');
    const result = normalizePoBytes(bytes, ctx) ?? bytes;
    return (sink) => sink.write(result);
  },
};
