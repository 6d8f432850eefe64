/**
 * ISO 9660 images (Rock Ridge, Joliet, El Torito, isohybrid MBR/GPT): the volume descriptors,
 * the boot catalog and the partition tables compared as text; then the files of the Rock Ridge
 * (else Joliet, else plain) tree; then every partition that is not the ISO itself (appended EFI
 * partitions and the like), each a member named `GPT partition N` or `MBR partition N`.
 */
import type { Comparator, Member } from '../comparator.js';
import { sniffIso } from '../../formats/iso9660/reader.js';
import type { IsoImage } from '../../formats/iso9660/index.js';
import type { RandomAccessSource } from '../../io/source.js';
import { rangeContent } from '../../tree/content.js';
import { formatTime } from '../metadata.js';
import { withSource } from './open-helpers.js';
import { describeFields, treeMembers } from './tree-members.js';

/** Bytes where the volume descriptors start: a partition holding them is a view of the ISO itself. */
const DESCRIPTORS_AT = 16 * 2048;

export const iso9660Comparator: Comparator = {
  id: 'iso9660',
  recognizes: (head) => sniffIso(head),
  open: (input) =>
    withSource(input, async (source) => {
      const { openIso } = await import('../../formats/iso9660/index.js');
      const image = await openIso(source);
      const tree = await image.tree();
      return {
        describe: async () => describeIso(image),
        members: async () => [...treeMembers(tree, { root: true }), ...partitionMembers(image, source)],
        close: () => source.close(),
      };
    }),
};

/** The descriptor's dates (seconds since the epoch, or undefined when not set) in UTC ISO 8601, as every time in a report. */
function withTimes(record: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const [key, value] of Object.entries(out)) {
    if (key.endsWith('Date')) out[key] = typeof value === 'number' ? formatTime({ sec: value, nsec: 0 }) : 'not set';
  }
  return out;
}

function describeIso(image: IsoImage): Record<string, string> {
  const { rootDirectoryRecord, ...primary } = image.volumes.primary;
  const out: Record<string, string> = {
    'primary volume descriptor': describeFields({ ...withTimes(primary), rootDirectoryRecord, rockRidge: image.rockRidge }),
  };
  if (image.volumes.joliet) {
    const { rootDirectoryRecord: jr, ...joliet } = image.volumes.joliet;
    out['Joliet volume descriptor'] = describeFields({ ...withTimes(joliet), rootDirectoryRecord: jr });
  }
  if (image.bootCatalog) {
    out['El Torito boot catalog'] = `sector: ${image.bootCatalog.sector}\n${image.bootCatalog.entries.map((e, i) => `entry ${i + 1}: ${JSON.stringify(e)}\n`).join('')}`;
  }
  const { mbr, gpt } = image.partitions;
  if (mbr) {
    out['MBR'] = `disk signature: ${mbr.diskSignature.toString(16).padStart(8, '0')}\n${mbr.partitions.map((p, i) => `partition ${i + 1}: ${JSON.stringify(p)}\n`).join('')}`;
  }
  if (gpt) {
    const { partitions, ...header } = gpt;
    out['GPT'] = describeFields(header) + partitions.map((p, i) => `partition ${i + 1}: ${JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}\n`).join('');
  }
  return out;
}

/** GPT partitions when there is a GPT, else the MBR's; those covering the ISO's descriptors are skipped. */
function partitionMembers(image: IsoImage, source: RandomAccessSource): Member[] {
  const { mbr, gpt } = image.partitions;
  const list = gpt
    ? gpt.partitions.map((p, i) => ({ label: `GPT partition ${i + 1}`, start: p.firstLba * 512, length: (p.lastLba - p.firstLba + 1) * 512, type: p.typeGuid }))
    : (mbr?.partitions ?? []).map((p, i) => ({ label: `MBR partition ${i + 1}`, start: p.start * 512, length: p.sectors * 512, type: `0x${p.type.toString(16)}` }));
  const out: Member[] = [];
  for (const p of list) {
    if (p.length <= 0 || (p.start <= DESCRIPTORS_AT && p.start + p.length > DESCRIPTORS_AT)) continue;
    if (p.start + p.length > source.size) continue; // described in the tables, reported there
    out.push({
      name: p.label,
      fields: [
        { key: 'partition type', value: p.type, class: 'format' },
        { key: 'start', value: String(p.start), class: 'format' },
        { key: 'size', value: String(p.length), class: 'size' },
      ],
      content: rangeContent(source, p.start, p.length, `${source.name} ▸ ${p.label}`),
    });
  }
  return out;
}
