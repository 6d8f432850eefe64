/**
 * Opens any input reprimage understands as a Tree: a directory, or a file whose format is
 * recognized by its content (never by its name). Compressed files are decompressed into an
 * unlinked temporary file first, so their members can still be read lazily and in any order.
 */
import { stat } from 'node:fs/promises';
import { ReprimageError, fromSystemError } from '../errors.js';
import { abortableSource, throwIfAborted } from '../io/abort.js';
import { openFileSource, type RandomAccessSource } from '../io/source.js';
import { loadDirectory } from '../tree/load-dir.js';
import type { Tree } from '../tree/tree.js';
import { SNIFF_HEAD_SIZE, SNIFF_TAIL_SIZE } from '../formats/registry.js';

export interface OpenedTree {
  tree: Tree;
  /** What the input was recognized as, e.g. `directory`, `tar`, `gzip ▸ cpio`. */
  format: string;
  /** Decoded structures of the innermost format worth listing beside the entries (an ISO's boot entries). */
  describe?(): Promise<{ json: object; lines: string[] }>;
  /** Releases the open files behind the Tree's lazy contents; call after the last read. */
  close(): Promise<void>;
}

export async function openTree(path: string, options: { warn: (m: string) => void; xattrs?: boolean; signal?: AbortSignal }): Promise<OpenedTree> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw fromSystemError(e, path);
  }
  if (info.isDirectory()) {
    const tree = await loadDirectory(path, { xattrs: options.xattrs ?? true, warn: options.warn });
    return { tree, format: 'directory', close: async () => undefined };
  }
  if (!info.isFile()) throw new ReprimageError('UNSUPPORTED', path, 'not a directory, archive or image');
  const source = await openFileSource(path);
  try {
    return await openSource(source, [], options);
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * Opens `source` by its content: compression layers are peeled off first, then the formats of
 * the registry are tried in its order. The opened image owns `source`.
 */
export async function openSource(source: RandomAccessSource, layers: string[], options: { warn: (m: string) => void; signal?: AbortSignal }): Promise<OpenedTree> {
  throwIfAborted(options.signal, source.name);
  // the readers load only for a file input (they bring in every codec): a directory needs none
  const { detectCompression, decompressSegment } = await import('../compress/decompress.js');
  const { sniffFormat, readableFormatsText } = await import('../formats/registry.js');
  const head = await source.read(0, Math.min(SNIFF_HEAD_SIZE, source.size));
  const compression = detectCompression(head);
  if (compression !== undefined) {
    if (layers.length >= 4) throw new ReprimageError('UNSUPPORTED', source.name, 'compressed more than four times over');
    const segment = await decompressSegment(source, 0, compression, source.name);
    const inner = renamed(segment.source, `${source.name} ▸ ${compression}`);
    const rest = await firstNonZero(source, segment.compressedLength);
    if (rest < source.size) {
      // more after the compressed stream: a concatenated initramfs, whose segments the kernel
      // unpacks whatever their codec; the cpio reader walks them all from the start
      const innerHead = await inner.read(0, Math.min(16, inner.size));
      const { sniffCpio } = await import('../formats/cpio/reader.js');
      if (sniffCpio(innerHead)) {
        await inner.close();
        const { openCpio } = await import('../formats/cpio/format.js');
        return openCpio(source, options.warn, [...layers, 'cpio (concatenated segments)'].join(' ▸ '));
      }
    }
    const trailing = source.size - rest;
    const name = source.name;
    await source.close();
    const opened = await openSource(inner, [...layers, compression], options);
    // as gzip -d does with trailing garbage; told only once the rest has read, so that a failure
    // stays one line
    if (trailing > 0) options.warn(`${name}: ${trailing} bytes after the ${compression} data (from byte ${rest}) left out`);
    return opened;
  }
  // some formats are known by their end (a fixed VHD by its footer), which the head cannot show
  const tail = source.size >= 2 * SNIFF_TAIL_SIZE ? await source.read(source.size - SNIFF_TAIL_SIZE, SNIFF_TAIL_SIZE) : undefined;
  const found = await sniffFormat(head, source.size, tail);
  if (found === undefined) {
    throw new ReprimageError('UNSUPPORTED', source.name, `not a format reprimage reads (${readableFormatsText()}; gzip, xz, zstd, lz4 or lzma compressed)`);
  }
  // every reader stops at its next block once the signal is aborted, without knowing of it
  if (options.signal) source = abortableSource(source, options.signal);
  const opened = await found.handler.open(source, {
    warn: options.warn,
    signal: options.signal,
    // a partition or a package member: opened by its own content, as a file would be
    openNested: (inner) => openSource(inner, [], options),
  });
  return { ...opened, format: [...layers, opened.format].join(' ▸ ') };
}

/** The offset of the first non-zero byte from `at` on (zero padding follows compressed segments), or the size. */
async function firstNonZero(source: RandomAccessSource, at: number): Promise<number> {
  const step = 1 << 20;
  for (let p = at; p < source.size; p += step) {
    const chunk = await source.read(p, Math.min(step, source.size - p));
    const i = chunk.findIndex((b) => b !== 0);
    if (i >= 0) return p + i;
  }
  return source.size;
}

function renamed(source: RandomAccessSource, name: string): RandomAccessSource {
  return { name, size: source.size, read: (offset, length) => source.read(offset, length), close: () => source.close() };
}
