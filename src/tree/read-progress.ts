/**
 * Progress of a writer measured by what it reads: every file content of a Tree is wrapped so
 * that its reads are counted, whatever format consumes the Tree. The bytes written are not
 * affected; only the callback sees the counts.
 */
import type { ProgressCallback, ProgressCount } from '../progress.js';
import type { Content, SyncReader } from './content.js';
import type { Tree } from './tree.js';

/** The files of a Tree (each hard-linked node once) and their content bytes. */
export function treeTotals(tree: Tree): ProgressCount {
  const seen = new Set<object>();
  const total = { entries: 0, bytes: 0 };
  for (const { node } of tree.walk()) {
    if (node.kind !== 'file' || seen.has(node)) continue;
    seen.add(node);
    total.entries++;
    total.bytes += node.content.size;
  }
  return total;
}

/**
 * Wraps the contents of `tree`'s files so that `onProgress` hears of every file read to its end
 * and every chunk read. Returns the totals it reports against.
 */
export function countReads(tree: Tree, onProgress: ProgressCallback): ProgressCount {
  const total = treeTotals(tree);
  const done = { entries: 0, bytes: 0 };
  const seen = new Set<object>();
  const advance = (bytes: number, finished: boolean) => {
    done.bytes += bytes;
    if (finished) done.entries++;
    onProgress(done, total);
  };
  for (const { node } of tree.walk()) {
    if (node.kind !== 'file' || seen.has(node)) continue;
    seen.add(node);
    // an empty file is never read (copyToSink skips it): it counts as done from the start
    if (node.content.size === 0) done.entries++;
    else node.content = counted(node.content, advance);
  }
  return total;
}

function counted(inner: Content, advance: (bytes: number, finished: boolean) => void): Content {
  const wrapped: Content = {
    size: inner.size,
    origin: inner.origin,
    dataRegions: inner.dataRegions,
    range: inner.range,
    stored: inner.stored,
    async *chunks() {
      for await (const chunk of inner.chunks()) {
        advance(chunk.length, false);
        yield chunk;
      }
      advance(0, true);
    },
  };
  if (inner.openSync) {
    const openSync = inner.openSync.bind(inner);
    return {
      ...wrapped,
      openSync(): SyncReader {
        const reader = openSync();
        return {
          read(into) {
            reader.read(into);
            advance(into.length, false);
          },
          finish() {
            reader.finish();
            advance(0, true);
          },
          close: () => reader.close(),
        };
      },
    };
  }
  return wrapped;
}
