/**
 * Python bytecode that py3compile/pycompile write at install time (`__pycache__/*.pyc`).
 * Beyond the source mtime in the header (which the pyc handler clamps), the marshalled code
 * itself differs between runs: marshal writes reference flags that depend on object reference
 * counts, and so on interning and the order in which modules were compiled. Debian does not ship
 * bytecode in packages; Python runs without it (compiling in memory, or writing a user cache).
 * So by default every `.pyc` file is removed, and `__pycache__` directories left empty go too.
 * `pyc: normalize` keeps them, for images that want start-up speed and accept that caveat.
 */
import { parentOf } from '../../tree/names.js';
import type { Fixup } from './fixup.js';

export const pyc: Fixup = {
  id: 'pyc',
  summary: 'remove .pyc files and the __pycache__ directories they leave empty',
  apply(ctx) {
    if ((ctx.options.pyc ?? 'remove') === 'normalize') return Promise.resolve();
    const doomed: string[] = [];
    for (const { path, node } of ctx.tree.walk()) if (node.kind === 'file' && path.endsWith('.pyc')) doomed.push(path);
    const dirs = new Set<string>();
    for (const path of doomed) {
      ctx.tree.remove(path);
      ctx.record(path, 'removed');
      const dir = parentOf(path);
      if (dir.endsWith('__pycache__')) dirs.add(dir);
    }
    for (const dir of [...dirs].sort()) {
      const node = ctx.tree.get(dir);
      if (node?.kind === 'dir' && node.children.size === 0) {
        ctx.tree.remove(dir);
        ctx.record(dir, 'removed', 'empty __pycache__');
      }
    }
    return Promise.resolve();
  },
};
