/**
 * ar archives in the format registry. A Debian package (`debian-binary` first) opens as the
 * Tree of its `data.tar*` member, which is what installing it puts on disk; `ls` names the
 * member in its format (`deb (data.tar.xz: xz ▸ tar)`). Any other ar archive (a static
 * library) opens as a flat directory of its members; the symbol and long-name tables are left
 * out, as `ar t` does.
 */
import { ReprimageError } from '../../errors.js';
import { sliceSource, type RandomAccessSource } from '../../io/source.js';
import { rangeContent } from '../../tree/content.js';
import { DuplicateNames } from '../../tree/duplicates.js';
import { Tree, newDir, newMeta } from '../../tree/tree.js';
import type { FormatDefinition, OpenContext, OpenedImage } from '../format.js';
import { openedTree } from '../format.js';
import type { ArMember } from './reader.js';

export const arFormat: FormatDefinition = {
  id: 'ar',
  title: 'ar (Debian packages, static libraries)',
  outputNames: [],
  suffixes: [],
  writable: false,
  async load() {
    const { readArMembers, sniffAr } = await import('./reader.js');
    return {
      sniff: (head) => sniffAr(head),
      async open(source, ctx) {
        const members = await readArMembers(source);
        if (members[0]?.name === 'debian-binary') return openDeb(source, members, ctx);
        return openedTree(arTree(source, members, ctx.warn), 'ar', source);
      },
    };
  },
};

async function openDeb(source: RandomAccessSource, members: ArMember[], ctx: OpenContext): Promise<OpenedImage> {
  const data = members.find((m) => /^data\.tar(\.[a-z0-9]+)?$/.test(m.name));
  if (data === undefined) throw new ReprimageError('CORRUPT_IMAGE', source.name, 'a Debian package without a data.tar member');
  const inner = await ctx.openNested(sliceSource(source, data.dataOffset, data.size, `${source.name} ▸ ${data.name}`));
  return {
    tree: inner.tree,
    format: `deb (${data.name}: ${inner.format})`,
    close: async () => {
      await inner.close();
      await source.close();
    },
  };
}

const TABLES = new Set(['/', '//', '/SYM64/', '__.SYMDEF', '__.SYMDEF SORTED']);

function arTree(source: RandomAccessSource, members: ArMember[], warn: (m: string) => void): Tree {
  const tree = new Tree(newDir({ mode: 0o755 }));
  const duplicates = new DuplicateNames(source.name, 'member');
  for (const m of members) {
    if (TABLES.has(m.name)) continue;
    // a member name is one name: a slash in it cannot become a directory
    if (m.name === '' || m.name === '.' || m.name === '..' || m.name.includes('/')) {
      throw new ReprimageError('CORRUPT_IMAGE', `${source.name} ▸ ${m.name}`, 'not a member name ar can extract');
    }
    duplicates.see(m.name, false);
    const meta = newMeta({ mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, mtime: { sec: m.mtime, nsec: 0 } });
    tree.set(m.name, { kind: 'file', ...meta, content: rangeContent(source, m.dataOffset, m.size, `${source.name} ▸ ${m.name}`) });
  }
  duplicates.report(warn);
  return tree;
}
