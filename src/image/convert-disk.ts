/**
 * Virtual-machine and cloud image formats of a raw disk image: the one place that turns the raw
 * bytes `writeDisk` makes into qcow2, VHD, VMDK, OVA or a GCE tarball (docs/formats/).
 *
 * `convertDisk(input, format, options)` is the in-process API (the recipe's `type: disk` output
 * calls it): `input` is the path of a raw image, an open RandomAccessSource, or a stream of raw
 * bytes (spooled to a sparse temporary file first, since the GCE tarball reads its input twice);
 * the output appears whole or not at all (src/io/atomic-output.ts). Every byte depends only on
 * the raw image and the options: times come from `buildTime`, identifiers from `seed`.
 *
 * | format        | what is written                                                  | file name |
 * |---------------|------------------------------------------------------------------|-----------|
 * | `raw`         | the bytes as they are, zero runs left as holes                   | .img .raw |
 * | `qcow2`       | qcow2 v3, 64 KiB clusters; `compress` deflates clusters as QEMU  | .qcow2    |
 * | `vhd`         | fixed VHD, Azure's form (a whole number of MiB, force_size geometry) | .vhd  |
 * | `vhd-dynamic` | dynamic VHD, 2 MiB blocks                                        | —         |
 * | `vmdk`        | streamOptimized VMDK                                             | .vmdk     |
 * | `ova`         | ustar of an OVF descriptor, a SHA-256 manifest and the VMDK      | .ova      |
 * | `gce`         | `disk.raw` in an old-GNU sparse tar, gzip'd                      | .tar.gz   |
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, read, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ReprimageError, fromSystemError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { fileDataRanges } from '../io/data-ranges.js';
import type { Sink } from '../io/sink.js';
import { openFileSource, type RandomAccessSource } from '../io/source.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { copySparse, isAllZero, appendZeros } from '../io/zero-runs.js';

export const DISK_FORMATS = ['raw', 'qcow2', 'vhd', 'vhd-dynamic', 'vmdk', 'ova', 'gce'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export interface ConvertDiskOptions {
  /** The file to write. */
  output: string;
  /** Where the formats' identifiers come from (VHD unique id, VMDK CID). */
  seed: string;
  /** Times in the output (VHD footer, tar member mtime). */
  buildTime: number;
  /** qcow2: deflate clusters (as `qemu-img convert -c`). */
  compress?: boolean;
  /** Threads that compress qcow2 clusters and VMDK grains (never changes the bytes); default: the cores available. */
  workers?: number;
  /** ova: the virtual machine's name (default: the output's name without `.ova`). */
  name?: string;
  /** A stream input's size in bytes, when known (checked); otherwise it is whatever the stream holds. */
  size?: number;
  /** Name of the input in messages (default: its path, or `raw disk stream`). */
  inputName?: string;
}

export interface ConvertDiskReport {
  format: DiskFormat;
  output: string;
  virtualSize: number;
  /** What the format's writer reported (cluster counts, identifiers, codec). */
  details: Record<string, unknown>;
}

/** The format a file name asks for: `.img`/`.raw`, `.qcow2`, `.vhd`, `.vmdk`, `.ova`, `.tar.gz`; undefined for others. */
export function diskFormatFromName(path: string): DiskFormat | undefined {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.tar.gz')) return 'gce';
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return ({ img: 'raw', raw: 'raw', qcow2: 'qcow2', vhd: 'vhd', vmdk: 'vmdk', ova: 'ova' } as Record<string, DiskFormat>)[ext];
}

export function parseDiskFormat(value: string, option = '--format'): DiskFormat {
  if ((DISK_FORMATS as readonly string[]).includes(value)) return value as DiskFormat;
  throw new ReprimageError('USAGE', option, `unknown disk format '${value}' (one of ${DISK_FORMATS.join(', ')})`);
}

/**
 * Writes the raw disk image `input` as `format` to `options.output`. USAGE errors for sizes a
 * format cannot hold (a fixed VHD that is not a whole number of MiB, a VHD over 2040 GiB);
 * a missing or unreadable input names the input.
 */
export async function convertDisk(
  input: string | RandomAccessSource | Readable | AsyncIterable<Uint8Array>,
  format: DiskFormat,
  options: ConvertDiskOptions,
): Promise<ConvertDiskReport> {
  parseDiskFormat(format, 'format');
  if (typeof input === 'string') {
    const source = await openSyncFileSource(input);
    try {
      return await convertSource(source, format, options);
    } finally {
      await source.close();
    }
  }
  if (isSource(input)) return convertSource(input, format, options);
  // a stream: spooled to a sparse scratch file, read back at random
  const scratch = await makeTemporaryDirectory('reprimage-disk-');
  try {
    const path = join(scratch.path, 'disk.raw');
    const name = options.inputName ?? 'raw disk stream';
    await writeAtomically(path, (sink) => spool(input, sink, name), { subject: name });
    const source = await openFileSource(path);
    try {
      if (options.size !== undefined && source.size !== options.size) throw new ReprimageError('USAGE', name, `the stream held ${source.size} bytes, not the ${options.size} announced`);
      return await convertSource({ ...source, name, read: (o, n) => source.read(o, n), close: () => source.close() }, format, options);
    } finally {
      await source.close();
    }
  } finally {
    await scratch.remove();
  }
}

/**
 * The raw image as the writers read it: in order, 4 MiB at a time, into reused buffers, its holes
 * skipped when the file system tells where they are (`dataRanges`)
 * (`readInto`), several reads in flight on libuv's threads so that reading overlaps the work (one
 * awaited read at a time left the CPU idle for most of a qcow2 conversion). `read` is synchronous.
 */
async function openSyncFileSource(path: string): Promise<RandomAccessSource> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fromSystemError(e, path);
  }
  const { size, blocks, isFile } = fstatWithKind(fd);
  // where the holes are, so that the writers skip them unread as qemu-img does (a 2 GiB cloud
  // disk holds 400 MB of data); only regular files have extents
  const dataRanges = isFile ? await fileDataRanges(fd, size, blocks * 512) : undefined;
  const readInto = (offset: number, target: Uint8Array): void => {
    const length = target.length;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`${path}: bad read range ${offset}+${length}`);
    if (offset + length > size) throw new ReprimageError('TRUNCATED', path, `read past the end (${size} bytes)`);
    try {
      for (let done = 0; done < length; ) {
        const n = readSync(fd, target, done, length - done, offset + done);
        if (n === 0) throw new ReprimageError('IO', path, `file shrank to ${offset + done} bytes while reading it`);
        done += n;
      }
    } catch (e) {
      throw fromSystemError(e, path);
    }
  };
  return {
    name: path,
    size,
    dataRanges,
    read(offset, length) {
      if (!Number.isSafeInteger(length) || length < 0) return Promise.reject(new RangeError(`${path}: bad read range ${offset}+${length}`));
      try {
        const buf = new Uint8Array(length);
        readInto(offset, buf);
        return Promise.resolve(buf);
      } catch (e) {
        return Promise.reject(e as Error);
      }
    },
    // on libuv's threads: the writers keep several of these in flight (readChunks), as qemu-img does
    async readInto(offset, target) {
      const length = target.length;
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`${path}: bad read range ${offset}+${length}`);
      if (offset + length > size) throw new ReprimageError('TRUNCATED', path, `read past the end (${size} bytes)`);
      for (let done = 0; done < length; ) {
        const n = await readAsync(fd, target, done, length - done, offset + done).catch((e: unknown) => {
          throw fromSystemError(e, path);
        });
        if (n === 0) throw new ReprimageError('IO', path, `file shrank to ${offset + done} bytes while reading it`);
        done += n;
      }
    },
    close: () => {
      closeSync(fd);
      return Promise.resolve();
    },
  };
}

function fstatWithKind(fd: number): { size: number; blocks: number; isFile: boolean } {
  const stats = fstatSync(fd);
  return { size: stats.size, blocks: stats.blocks, isFile: stats.isFile() };
}

function readAsync(fd: number, target: Uint8Array, at: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, target, at, length, position, (e, n) => (e ? reject(e) : resolve(n))));
}

function isSource(x: unknown): x is RandomAccessSource {
  return typeof x === 'object' && x !== null && typeof (x as RandomAccessSource).read === 'function' && typeof (x as RandomAccessSource).size === 'number';
}

async function spool(stream: AsyncIterable<Uint8Array>, sink: Sink, name: string): Promise<void> {
  try {
    for await (const chunk of stream) {
      if (chunk.length === 0) continue;
      if (isAllZero(chunk)) await appendZeros(sink, chunk.length);
      else await sink.write(chunk);
    }
  } catch (e) {
    throw fromSystemError(e, name);
  }
}

async function convertSource(source: RandomAccessSource, format: DiskFormat, o: ConvertDiskOptions): Promise<ConvertDiskReport> {
  const subject = o.output;
  const report = (details: object): ConvertDiskReport => ({ format, output: o.output, virtualSize: source.size, details: { ...details } });
  switch (format) {
    case 'raw':
      await writeAtomically(o.output, (sink) => copySparse(source, sink));
      return report({});
    case 'qcow2': {
      const { writeQcow2, QCOW2_COMPRESSION } = await import('../formats/qcow2/index.js');
      const r = await writeAtomically(o.output, (sink) => writeQcow2(source, sink, { compress: o.compress, workers: o.workers, subject }));
      return report({ ...r, codec: o.compress ? QCOW2_COMPRESSION : undefined });
    }
    case 'vhd':
    case 'vhd-dynamic': {
      const { writeVhd } = await import('../formats/vhd/index.js');
      const type = format === 'vhd' ? 'fixed' : 'dynamic';
      return report(await writeAtomically(o.output, (sink) => writeVhd(source, sink, { type, seed: o.seed, buildTime: o.buildTime, subject })));
    }
    case 'vmdk': {
      const { writeVmdk, VMDK_COMPRESSION } = await import('../formats/vmdk/index.js');
      const r = await writeAtomically(o.output, (sink) => writeVmdk(source, sink, { seed: o.seed, extentFile: basename(o.output), workers: o.workers, subject }));
      return report({ ...r, codec: VMDK_COMPRESSION });
    }
    case 'ova':
      return report(await writeOva(source, o));
    case 'gce': {
      const { writeGceTarball } = await import('../formats/gce/index.js');
      return report(await writeAtomically(o.output, (sink) => writeGceTarball(source, sink, { buildTime: o.buildTime, subject })));
    }
  }
}

/**
 * An OVA: a ustar archive of `NAME.ovf`, `NAME.mf` (SHA-256 of both other files, as ovftool
 * writes it) and `NAME-disk1.vmdk`, in that order (OVF 1.0 requires the descriptor first).
 * The VMDK is written to a scratch file first: the descriptor states its size.
 */
async function writeOva(source: RandomAccessSource, o: ConvertDiskOptions): Promise<Record<string, unknown>> {
  const { writeVmdk, ovfDescriptor, writeOvaTar, VMDK_COMPRESSION } = await import('../formats/vmdk/index.js');
  const name = o.name ?? basename(o.output).replace(/\.ova$/i, '');
  if (name === '' || /[/\0]/.test(name)) throw new ReprimageError('USAGE', o.output, 'the OVA needs a name without slashes');
  const diskFile = `${name}-disk1.vmdk`;
  const scratch = await makeTemporaryDirectory('reprimage-ova-');
  try {
    const vmdkPath = join(scratch.path, diskFile);
    const r = await writeAtomically(vmdkPath, (sink) => writeVmdk(source, sink, { seed: o.seed, extentFile: diskFile, workers: o.workers, subject: `${o.output} ▸ ${diskFile}` }), { subject: o.output });
    const ovf = new TextEncoder().encode(ovfDescriptor({ name, diskFile, diskFileSize: r.fileSize, capacity: source.size }));
    const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    const mf = new TextEncoder().encode(`SHA256(${name}.ovf)= ${sha(ovf)}\nSHA256(${diskFile})= ${await hashFile(vmdkPath)}\n`);
    const bytes = (n: string, b: Uint8Array) => ({ name: n, size: b.length, write: (sink: Sink) => sink.write(b) });
    const vmdk = await openFileSource(vmdkPath);
    try {
      await writeAtomically(o.output, (sink) =>
        writeOvaTar(sink, [
          bytes(`${name}.ovf`, ovf),
          bytes(`${name}.mf`, mf),
          { name: diskFile, size: vmdk.size, write: (s) => copySparse(vmdk, s) },
        ], o.buildTime),
      );
    } finally {
      await vmdk.close();
    }
    return { ...r, codec: VMDK_COMPRESSION, diskFile };
  } finally {
    await scratch.remove();
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
