/**
 * cpio archives (newc, crc, odc; detected by their magic): members normalized by the other
 * handlers, times clamped, owners 0:0 (see archive-members.ts), then written again as newc by
 * reprimage's cpio writer, which is what the kernel and GNU cpio read, in bytewise name order
 * with inode numbers assigned in that order. Concatenated archives (an initramfs with early
 * microcode first) stay separate archives, in their order. Archives with compressed segments
 * are left alone with a warning: the compressor's bytes would have to be reproduced too.
 */
import { loadCpio, readCpioEntries, writeCpio } from '../formats/cpio/index.js';
import { sliceSource, type RandomAccessSource } from '../io/source.js';
import type { Tree } from '../tree/tree.js';
import { nameFromBytes } from '../tree/names.js';
import type { NormalizeContext, Normalizer, Rewrite } from './handler.js';
import { normalizeMembers } from './archive-members.js';
import { detectCpio } from './detect.js';

async function prepareCpio(source: RandomAccessSource, ctx: NormalizeContext): Promise<Rewrite | undefined> {
  // where each archive of a concatenation starts, so each is normalized and written on its own
  const starts = new Map<number, number>();
  let compressed = false;
  for await (const e of readCpioEntries(source, { warn: ctx.warn, onSegment: (s) => void (compressed ||= s.compression !== undefined) })) {
    if (compressed) break;
    if (!starts.has(e.archive)) starts.set(e.archive, e.offset);
  }
  if (compressed) {
    ctx.warn(`${ctx.subject}: left alone: it holds compressed cpio segments`);
    return undefined;
  }
  const offsets = [...starts.values()];
  const trees: Tree[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const end = offsets[i + 1] ?? source.size;
    const tree = await loadCpio(sliceSource(source, offsets[i]!, end - offsets[i]!, source.name), { warn: ctx.warn });
    await normalizeMembers(tree, ctx);
    trees.push(tree);
  }
  const head = await source.read(0, Math.min(source.size, 512));
  // GNU cpio writes `usr/bin`, bsdtar `./usr/bin`: keep what the archive had
  const firstName = cpioFirstName(head);
  const namePrefix = firstName.startsWith('./') ? './' : '';
  return async (sink) => {
    for (const tree of trees) await writeCpio(tree, sink, { buildTime: ctx.buildTime, namePrefix, warn: ctx.warn });
  };
}

/** The first entry's name of a newc/crc archive (odc archives give ''). */
function cpioFirstName(head: Uint8Array): string {
  const magic = Buffer.from(head.subarray(0, 6)).toString('latin1');
  if (magic !== '070701' && magic !== '070702') return '';
  const namesize = parseInt(Buffer.from(head.subarray(94, 102)).toString('latin1'), 16);
  if (!(namesize > 1) || 110 + namesize > head.length) return '';
  return nameFromBytes(head.subarray(110, 110 + namesize - 1));
}

export const cpioNormalizer: Normalizer = {
  id: 'cpio',
  description: 'cpio: members normalized, times clamped, owners 0:0, sorted, rewritten as newc',
  detect: detectCpio,
  prepare: prepareCpio,
};
