/**
 * ar archives, Debian packages included: each member (`debian-binary`, `control.tar.xz`,
 * `data.tar.xz`, …) with its header fields as metadata, in stored order (dpkg requires
 * debian-binary first), and its bytes recursed into.
 */
import type { Comparator } from '../comparator.js';
import { formatMode, formatTime } from '../metadata.js';
import { readArMembers, sniffAr } from '../../formats/ar/index.js';
import { rangeContent } from '../../tree/content.js';
import { withSource } from './open-helpers.js';

export const arComparator: Comparator = {
  id: 'ar',
  recognizes: (head) => sniffAr(head),
  open: (input) =>
    withSource(input, async (source) => {
      const members = await readArMembers(source);
      const names = members.map((m) => m.name);
      return {
        async describe() {
          const isDeb = names[0] === 'debian-binary';
          return { 'ar members': `${isDeb ? 'Debian package\n' : ''}${names.map((n) => `${n}\n`).join('')}` };
        },
        order: async () => names,
        members: async () =>
          members.map((m) => ({
            name: m.name,
            fields: [
              { key: 'mode', value: formatMode(m.mode), class: 'mode' as const },
              { key: 'uid', value: String(m.uid), class: 'owner' as const },
              { key: 'gid', value: String(m.gid), class: 'owner' as const },
              { key: 'mtime', value: formatTime({ sec: m.mtime, nsec: 0 }), class: 'mtime' as const },
              { key: 'size', value: String(m.size), class: 'size' as const },
            ],
            content: rangeContent(source, m.dataOffset, m.size, `${source.name} ▸ ${m.name}`),
          })),
        close: () => source.close(),
      };
    }),
};
