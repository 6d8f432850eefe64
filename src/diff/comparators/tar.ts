/** tar archives (ustar, GNU, pax): members from the reader's Tree, stored order from its headers. */
import type { Comparator } from '../comparator.js';
import { loadTar, readTarEntries, sniffTar } from '../../formats/tar/index.js';
import { withSource } from './open-helpers.js';
import { treeContainer } from './tree-members.js';

export const tarComparator: Comparator = {
  id: 'tar',
  recognizes: (head) => sniffTar(head),
  open: (input) =>
    withSource(input, async (source) => {
      // lenient: a differ should show what GNU tar would extract, not refuse the archive
      const tree = await loadTar(source, { warn: input.warn, lenient: true });
      return treeContainer(tree, {
        async order() {
          const names: string[] = [];
          for await (const r of readTarEntries(source)) names.push(r.name.replace(/^\.\//, '').replace(/\/$/, '') || '.');
          return names;
        },
        close: () => source.close(),
      });
    }),
};
