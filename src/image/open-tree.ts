/**
 * Opens any input reprimage understands as a Tree: a directory, or a file whose format is
 * recognized by its content (never by its name). Compressed files are decompressed into an
 * unlinked temporary file first, so their members can still be read lazily and in any order.
 */
import { stat } from 'node:fs/promises';
import { ReprimageError, fromSystemError } from '../errors.js';
import { openFileSource, type RandomAccessSource } from '../io/source.js';
import { loadDirectory } from '../tree/load-dir.js';
import type { Tree } from '../tree/tree.js';

export interface OpenedTree {
  tree: Tree;
  /** What the input was recognized as, e.g. `directory`, `tar`, `gzip ▸ cpio`. */
  format: string;
  /** Releases the open files behind the Tree's lazy contents; call after the last read. */
  close(): Promise<void>;
}

const HEAD_SIZE = 64 * 1024;

export async function openTree(path: string, options: { warn: (m: string) => void; xattrs?: boolean }): Promise<OpenedTree> {
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

async function openSource(source: RandomAccessSource, layers: string[], options: { warn: (m: string) => void }): Promise<OpenedTree> {
  // the readers load only for a file input (they bring in every codec): a directory needs none
  const { detectCompression, decompressSegment } = await import('../compress/decompress.js');
  const { loadTar, sniffTar } = await import('../formats/tar/index.js');
  const { loadCpio, sniffCpio } = await import('../formats/cpio/index.js');
  const { sniffSquashfs } = await import('../formats/squashfs/reader.js');
  const { sniffIso } = await import('../formats/iso9660/reader.js');
  const { sniffFat } = await import('../formats/fat/reader.js');
  const { sniffPartitionTable } = await import('../formats/gpt/reader.js');
  const { sniffExt4 } = await import('../formats/ext4/read-superblock.js');
  const head = await source.read(0, Math.min(HEAD_SIZE, source.size));
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
      if (sniffCpio(innerHead)) {
        await inner.close();
        const { tree, close } = await loadCpioClosing(loadCpio, source, options.warn);
        return { tree, format: [...layers, 'cpio (concatenated segments)'].join(' ▸ '), close };
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
  const format = [...layers];
  let tree: Tree;
  // a qcow2, VHD or VMDK image: the disk inside it, opened as a raw disk (src/image/vm-disk.ts)
  const { openVmDisk } = await import('./vm-disk.js');
  const vm = await openVmDisk(source, head);
  if (vm) return openSource(vm.disk, [...layers, vm.format], options);
  if (sniffCpio(head)) {
    const opened = await loadCpioClosing(loadCpio, source, options.warn);
    format.push('cpio');
    return { tree: opened.tree, format: format.join(' ▸ '), close: opened.close };
  } else if (sniffSquashfs(head)) {
    const { openSquashfs } = await import('../formats/squashfs/index.js');
    tree = await (await openSquashfs(source, { warn: options.warn })).tree();
    format.push('squashfs');
  } else if (sniffIso(head)) {
    const { openIso } = await import('../formats/iso9660/index.js');
    tree = await (await openIso(source)).tree();
    format.push('iso9660');
  } else if (sniffExt4(head)) {
    const { openExt4 } = await import('../formats/ext4/reader.js');
    tree = await (await openExt4(source, { warn: options.warn })).tree();
    format.push('ext4');
  } else if (sniffFat(head)) {
    const { openFat } = await import('../formats/fat/index.js');
    tree = await (await openFat(source)).tree();
    format.push('fat');
  } else if (sniffPartitionTable(head)) {
    // a disk image: one directory per partition, each opened by its own content (src/image/disk-tree.ts)
    const { openDiskTree } = await import('./disk-tree.js');
    const disk = await openDiskTree(source, (slice) => openSource(slice, [], options), options.warn);
    tree = disk.tree;
    format.push(disk.format);
  } else if (sniffTar(head)) {
    tree = await loadTar(source, { warn: options.warn });
    format.push('tar');
  } else {
    throw new ReprimageError('UNSUPPORTED', source.name, 'not a format reprimage reads (tar, cpio, SquashFS, ISO 9660, ext2/3/4, FAT, GPT/MBR disks, qcow2, VHD, VMDK, gzip, xz, zstd)');
  }
  return { tree, format: format.join(' ▸ '), close: () => source.close() };
}

/**
 * A cpio Tree whose close also closes the spooled files of its compressed segments (they stay
 * open for the Tree's lazy contents; left to garbage collection they would be closed with a
 * warning from Node).
 */
async function loadCpioClosing(
  loadCpio: typeof import('../formats/cpio/index.js').loadCpio,
  source: RandomAccessSource,
  warn: (m: string) => void,
): Promise<{ tree: Tree; close: () => Promise<void> }> {
  const spooled: RandomAccessSource[] = [];
  const close = async () => {
    for (const s of spooled) await s.close();
    await source.close();
  };
  try {
    const tree = await loadCpio(source, { warn, onSegment: (s) => { if (s.compression !== undefined) spooled.push(s.source); } });
    return { tree, close };
  } catch (e) {
    for (const s of spooled) await s.close();
    throw e;
  }
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
