/**
 * What the tar and cpio handlers do to the Tree of an archive's members: each member's contents
 * go through the other handlers (a jar or a .gz inside a tar is normalized too), then every
 * member's mtime is clamped (or set, with `--no-clamp`) and its owner becomes 0:0, as
 * `tar --mtime=@T --clamp-mtime --owner=0 --group=0 --numeric-owner` would have written it.
 * Archives inside archives are followed to a fixed depth, so a hostile nesting cannot recurse
 * without end.
 */
import { ReprimageError } from '../errors.js';
import type { Tree } from '../tree/tree.js';
import { normalizedTime, type NormalizeContext } from './handler.js';

/** Archives inside archives inside archives: enough for real builds, bounded for hostile ones. */
export const MAX_ARCHIVE_DEPTH = 4;

export async function normalizeMembers(tree: Tree, ctx: NormalizeContext): Promise<void> {
  const depth = (ctx.depth ?? 0) + 1;
  if (depth > MAX_ARCHIVE_DEPTH) throw new ReprimageError('OVERFLOW', ctx.subject, `archives nested more than ${MAX_ARCHIVE_DEPTH} deep`);
  const results = await ctx.normalizeMembers(tree, { buildTime: ctx.buildTime, clamp: ctx.clamp, subject: ctx.subject, depth, concurrency: 1 });
  for (const r of results) {
    for (const w of r.warnings) ctx.warn(w);
    // a member that cannot be parsed leaves the archive unparseable for us: refuse the whole file
    if (r.error) {
      const inner = `${ctx.subject} ▸ `;
      const detail = r.error.message.startsWith(inner) ? r.error.message.slice(inner.length) : r.error.message;
      throw new ReprimageError(r.error.code, ctx.subject, `member ${detail}`);
    }
  }
  for (const { node, linkTo } of tree.walk()) {
    if (linkTo !== undefined) continue;
    const sec = normalizedTime(ctx, node.mtime.sec);
    node.mtime = sec === node.mtime.sec ? node.mtime : { sec, nsec: 0 };
    node.uid = 0;
    node.gid = 0;
  }
}
