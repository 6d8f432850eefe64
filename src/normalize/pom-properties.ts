/**
 * Java `.properties` files written by `Properties.store` (Maven's `pom.properties` above all):
 * the comment line holding the build date (`#Tue Feb 14 12:34:56 UTC 2017`) is removed. Only
 * comment lines at the top of the file are looked at; every other byte is kept.
 */
import type { Normalizer } from './handler.js';
import { readWhole } from './handler.js';

/** java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy". */
const DATE_COMMENT = /^#(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d [A-Za-z0-9+:_/-]+ \d{4}\r?$/;
const LIMIT = 16 << 20;

/** The file without its date comment, or undefined when it has none. */
export function normalizePropertiesBytes(bytes: Uint8Array): Uint8Array | undefined {
  const text = Buffer.from(bytes).toString('latin1');
  let at = 0;
  while (at < text.length && (text[at] === '#' || text[at] === '!')) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl + 1;
    const line = text.slice(at, nl < 0 ? text.length : nl);
    if (DATE_COMMENT.test(line)) {
      const out = Buffer.from(text.slice(0, at) + text.slice(end), 'latin1');
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    at = end;
  }
  return undefined;
}

/** Whether the leading comment block of `head` holds a Date.toString() line. */
export function hasDateComment(head: Uint8Array): boolean {
  return normalizePropertiesBytes(head.subarray(0, Math.min(head.length, 1024))) !== undefined;
}

export const pomPropertiesNormalizer: Normalizer = {
  id: 'pom-properties',
  description: 'Java .properties (pom.properties): the date comment written by Properties.store',
  detect: (head, _size, name) => name.endsWith('.properties') && hasDateComment(head),
  async prepare(source) {
    const bytes = await readWhole(source, LIMIT, 'properties file');
    const result = normalizePropertiesBytes(bytes) ?? bytes;
    return (sink) => sink.write(result);
  },
};
