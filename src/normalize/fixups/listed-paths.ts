/**
 * The recipe's own `remove` and `empty` lists: what the image author knows to be build-time
 * state of their packages (a cache this module has no fix-up for, a log of a hook). Removed
 * paths go with everything under them; emptied files keep their mode, owner and hard links, for
 * services that expect the file to exist.
 */
import { compileExcludes } from '../../tree/excludes.js';
import { emptyContent } from '../../tree/content.js';
import type { Fixup } from './fixup.js';

export const listedPaths: Fixup = {
  id: 'listed-paths',
  summary: "remove and empty the paths the recipe lists",
  async apply(ctx) {
    const remove = compileExcludes(ctx.options.remove ?? [], 'remove');
    const empty = compileExcludes(ctx.options.empty ?? [], 'empty');
    const doomed: string[] = [];
    for (const { path, node } of ctx.tree.walk()) {
      if (path === '') continue;
      if (remove(path)) doomed.push(path);
      else if (empty(path) && node.kind === 'file' && node.content.size > 0) {
        node.content = emptyContent;
        ctx.record(path, 'emptied');
      }
    }
    // a matched directory takes its children with it: report only the topmost path
    let last: string | undefined;
    for (const path of doomed) {
      if (last !== undefined && path.startsWith(`${last}/`)) continue;
      last = path;
      ctx.tree.remove(path);
      ctx.record(path, 'removed');
    }
    return Promise.resolve();
  },
};
