/**
 * cpio archives (newc, crc, odc), initramfs images included. An archive of one segment shows its
 * entries directly; a concatenated one (microcode + compressed main archive) shows each segment
 * as its own member, `segment 1`, `segment 2`, …, so a difference names the segment it is in.
 */
import type { Comparator, Container, Member } from '../comparator.js';
import { loadCpioSegments, readCpioEntries, sniffCpio, type CpioSegmentTree } from '../../formats/cpio/index.js';
import type { RandomAccessSource } from '../../io/source.js';
import { withSource } from './open-helpers.js';
import { treeContainer } from './tree-members.js';

export const cpioComparator: Comparator = {
  id: 'cpio',
  recognizes: (head) => sniffCpio(head),
  open: (input) =>
    withSource(input, async (source) => {
      const segments = await loadCpioSegments(source);
      const spooled = [...new Set(segments.filter((s) => s.segment.compression !== undefined).map((s) => s.segment.source))];
      const close = async () => {
        for (const s of spooled) await s.close();
        await source.close();
      };
      try {
        if (segments.length === 1) {
          return treeContainer(segments[0]!.tree, { describe: async () => ({ segments: describeSegments(segments) }), order: () => entryOrder(source), close });
        }
        return segmentsContainer(segments, close);
      } catch (e) {
        await close();
        throw e;
      }
    }),
};

function describeSegments(segments: CpioSegmentTree[]): string {
  return segments
    .map((s, i) => {
      let entries = 0;
      for (const _ of s.tree.walk()) entries++;
      const how = s.segment.compression === undefined ? `plain, at byte ${s.segment.offset}` : `${s.segment.compression}-compressed`;
      return `segment ${i + 1}: ${how}, ${entries - 1} entries\n`;
    })
    .join('');
}

function segmentsContainer(segments: CpioSegmentTree[], close: () => Promise<void>): Container {
  return {
    describe: async () => ({ segments: describeSegments(segments) }),
    async members() {
      return segments.map(
        (s, i): Member => ({
          name: `segment ${i + 1}`,
          fields: [{ key: 'compression', value: s.segment.compression ?? 'none', class: 'format' }],
          container: async () => treeContainer(s.tree),
        }),
      );
    },
    close,
  };
}

/** Entry names in stored order (of a one-segment archive). */
async function entryOrder(source: RandomAccessSource): Promise<string[]> {
  const names: string[] = [];
  for await (const e of readCpioEntries(source)) names.push(e.name.replace(/^\.\//, '').replace(/\/$/, '') || '.');
  return names;
}
