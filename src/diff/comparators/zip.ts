/**
 * zip and jar archives: the archive comment and entry count, the order of the entries, and per
 * entry the fields zipinfo shows (method, DOS time, CRC, sizes, versions, flags, attributes,
 * extra fields, comment) as metadata; then each entry's bytes, recursed into.
 */
import type { Comparator } from '../comparator.js';
import { formatMode, type MetaField } from '../metadata.js';
import { openZip, sniffZip, ZIP_METHODS, type ZipEntry } from '../../formats/zip/index.js';
import { withSource } from './open-helpers.js';
import { describeFields } from './tree-members.js';

export const zipComparator: Comparator = {
  id: 'zip',
  recognizes: (head) => sniffZip(head),
  open: (input) =>
    withSource(input, async (source) => {
      const zip = await openZip(source);
      return {
        describe: async () => ({ 'zip archive': describeFields({ entries: zip.entries.length, zip64: zip.zip64, comment: JSON.stringify(zip.comment) }) }),
        order: async () => zip.entries.map((e) => e.name),
        members: async () => {
          const seen = new Set<string>();
          return zip.entries.map((e, i) => {
            // a name stored twice is a real (and suspicious) difference: keep both, apart
            const name = seen.has(e.name) ? `${e.name} (entry ${i + 1})` : e.name;
            seen.add(e.name);
            return { name, fields: entryFields(e), content: e.name.endsWith('/') && e.size === 0 ? undefined : zip.content(e) };
          });
        },
        close: () => source.close(),
      };
    }),
};

/** DOS date and time words as `YYYY-MM-DD hh:mm:ss` (local time of whoever wrote them; no zone). */
export function dosDateTime(date: number, time: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(1980 + (date >> 9), 4)}-${p((date >> 5) & 15)}-${p(date & 31)} ${p(time >> 11)}:${p((time >> 5) & 63)}:${p((time & 31) * 2)}`;
}

const hex = (b: Uint8Array) => (b.length === 0 ? '(none)' : Buffer.from(b).toString('hex'));

function entryFields(e: ZipEntry): MetaField[] {
  const madeByUnix = e.versionMadeBy >> 8 === 3;
  const fields: MetaField[] = [
    { key: 'method', value: ZIP_METHODS[e.method] ?? String(e.method), class: 'format' },
    { key: 'DOS time', value: dosDateTime(e.dosDate, e.dosTime), class: 'mtime' },
    { key: 'crc32', value: e.crc32.toString(16).padStart(8, '0'), class: 'format' },
    { key: 'size', value: String(e.size), class: 'size' },
    { key: 'compressed size', value: String(e.compressedSize), class: 'format' },
    { key: 'version made by', value: `${e.versionMadeBy >> 8}.${e.versionMadeBy & 0xff}`, class: 'format' },
    { key: 'version needed', value: String(e.versionNeeded), class: 'format' },
    { key: 'flags', value: `0x${e.flags.toString(16).padStart(4, '0')}`, class: 'format' },
    { key: 'internal attributes', value: `0x${e.internalAttributes.toString(16)}`, class: 'format' },
    { key: 'external attributes', value: `0x${e.externalAttributes.toString(16).padStart(8, '0')}`, class: madeByUnix ? 'mode' : 'format' },
  ];
  if (madeByUnix) fields.push({ key: 'mode', value: formatMode(e.externalAttributes >>> 16), class: 'mode' });
  fields.push(
    { key: 'extra field (central)', value: hex(e.extra), class: 'format' },
    { key: 'extra field (local)', value: hex(e.localExtra), class: 'format' },
  );
  if (e.comment !== '') fields.push({ key: 'comment', value: JSON.stringify(e.comment), class: 'format' });
  return fields;
}
