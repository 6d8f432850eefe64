/**
 * tar archives (ustar, GNU, pax; detected by the ustar magic): members normalized by the other
 * handlers, times clamped, owners 0:0 (see archive-members.ts), then the archive written again
 * by reprimage's tar writer in the dialect it came in (GNU stays GNU, ustar and pax become pax,
 * which holds everything ustar does plus what ustar cannot), members in bytewise name order,
 * names with `./` when the archive had them. Compressed tars (`.tar.gz`) are handled by the
 * gzip handler, which touches only the gzip header.
 */
import { readTarEntries, loadTar, writeTar, type TarFlavour } from '../formats/tar/index.js';
import type { RandomAccessSource } from '../io/source.js';
import type { NormalizeContext, Normalizer, Rewrite } from './handler.js';
import { normalizeMembers } from './archive-members.js';
import { detectTar, ustarMagic } from './detect.js';

async function prepareTar(source: RandomAccessSource, ctx: NormalizeContext): Promise<Rewrite> {
  const head = await source.read(0, Math.min(512, source.size));
  const format: TarFlavour = ustarMagic(head) === 'gnu' ? 'gnu' : 'pax';
  let dotSlash = false;
  for await (const r of readTarEntries(source, ctx.warn)) {
    dotSlash = r.name === './' || r.name.startsWith('./');
    break;
  }
  const tree = await loadTar(source, { warn: ctx.warn });
  await normalizeMembers(tree, ctx);
  return (sink) => writeTar(tree, sink, { format, namePrefix: dotSlash ? './' : '', buildTime: ctx.buildTime, warn: ctx.warn });
}

export const tarNormalizer: Normalizer = {
  id: 'tar',
  description: 'tar: members normalized, times clamped, owners 0:0, sorted, rewritten in the same dialect',
  detect: detectTar,
  prepare: prepareTar,
};
