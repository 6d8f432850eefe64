/**
 * Writes a Tree as one image or archive of the chosen output format: the command line's options
 * become the registry's write context and settings (src/formats/format.ts), and a compressed
 * output wraps the sink in a pinned codec. The format modules themselves know nothing of each other.
 */
import { readFile } from 'node:fs/promises';
import { ReprimageError, fromSystemError } from '../errors.js';
import type { Sink } from '../io/sink.js';
import { abortableSink } from '../io/abort.js';
import type { Tree } from '../tree/tree.js';
import { seededIdentifiers } from '../tree/id-purposes.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';
import type { WriteContext, WriteSettings } from '../formats/format.js';
import type { OutputCompression, OutputFormat } from './output-formats.js';

export interface PackOptions {
  /** Header flavour of tar outputs. */
  tarFormat: 'gnu' | 'pax' | 'ustar';
  /** Deflate level of `.gz` outputs. */
  gzipLevel: number;
  /** Filesystem and volume creation times. */
  buildTime: number;
  /** Where identifiers (disk signatures, GUIDs) come from (docs/design.md rule 4). */
  seed: string;
  workers?: number;
  squashfs: { compressor: SquashfsCompressorName; blockSize: number; noFragments: boolean; noDuplicates: boolean; deflate?: 'libdeflate' | 'zlib'; blockCache?: string };
  iso: {
    volumeId: string;
    publisher?: string;
    applicationId?: string;
    biosBoot?: string;
    efiBoot?: string;
    hybridMbr?: string;
    mbrId?: number;
    gpt: boolean;
  };
  fat: { fatType?: 12 | 16 | 32; label?: string; size?: number; skipUnsupported: boolean };
  /** The ext4 writer's settings, as the registry's writers take them. */
  ext4?: WriteSettings['ext4'];
  warn: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * Writes `tree` as the output named `format` (see output-formats.ts) through the format
 * registry. Format modules load on first use: a tar job does not pay for the SquashFS codecs.
 */
export async function packTree(tree: Tree, format: OutputFormat, sink: Sink, options: PackOptions): Promise<void> {
  const { chooseOutput } = await import('./output-formats.js');
  const ctx: WriteContext = { buildTime: options.buildTime, ids: seededIdentifiers(options.seed), warn: options.warn, workers: options.workers, signal: options.signal };
  const settings = await writeSettings(options, chooseOutput('', format).format.id);
  await writeOutput(tree, format, sink, ctx, settings, { gzipLevel: options.gzipLevel });
}

/**
 * Writes `tree` as the output named `output` (`tar.zst`, `squashfs` …) through the format
 * registry: the format's writer, in the output's compression if it has one. The library's way
 * in, with the registry's context and settings as they are; a USAGE error for a format that is
 * only read.
 */
export async function writeOutput(tree: Tree, output: string, sink: Sink, ctx: WriteContext, settings: WriteSettings, options: { gzipLevel?: number } = {}): Promise<void> {
  const { chooseOutput } = await import('./output-formats.js');
  const choice = chooseOutput('', output);
  const handler = await choice.format.load();
  if (handler.write === undefined) throw new ReprimageError('USAGE', '--format', `${choice.format.title} is read, not written`);
  // every writer stops at its next write once the signal is aborted, without knowing of it
  if (ctx.signal) sink = abortableSink(sink, ctx.signal, ctx.subject ?? output);
  if (choice.compression === undefined) {
    await handler.write(tree, sink, ctx, settings);
    return;
  }
  const compressed = await compressingSink(choice.compression, choice.format.id, sink, options.gzipLevel);
  await handler.write(tree, compressed, ctx, settings);
  await compressed.close();
}

/** The sink that compresses a whole output; the codecs are pinned (src/compress, docs/compression.md). */
async function compressingSink(codec: OutputCompression, formatId: string, sink: Sink, gzipLevel: number | undefined): Promise<Sink & { close(): Promise<void> }> {
  switch (codec) {
    case 'gzip': {
      const { GzipSink } = await import('../compress/gzip.js');
      return new GzipSink(sink, { level: gzipLevel });
    }
    case 'xz': {
      const { XzSink } = await import('../compress/xz-sink.js');
      return new XzSink(sink);
    }
    case 'zstd': {
      const { ZstdSink, ZSTD_OUTPUT_FRAME } = await import('../compress/zstd-sink.js');
      // the kernel wants each zstd frame of an initramfs to hold a whole cpio archive
      return new ZstdSink(sink, formatId === 'cpio' ? Infinity : ZSTD_OUTPUT_FRAME);
    }
  }
}

/** PackOptions as the registry's per-format settings. */
async function writeSettings(options: PackOptions, formatId: string): Promise<WriteSettings> {
  const iso = options.iso;
  return {
    tar: { flavour: options.tarFormat },
    squashfs: options.squashfs,
    fat: options.fat,
    ext4: options.ext4,
    iso: {
      volumeId: iso.volumeId,
      publisher: iso.publisher,
      applicationId: iso.applicationId,
      biosBoot: iso.biosBoot,
      efiBoot: iso.efiBoot,
      // read only for an ISO: other outputs ignore the ISO options
      hybridMbr: iso.hybridMbr === undefined || formatId !== 'iso9660' ? undefined : await readMbrCode(iso.hybridMbr),
      mbrId: iso.mbrId,
      gpt: iso.gpt,
    },
  };
}

/** The boot code of an isohybrid MBR (e.g. syslinux's isohdpfx.bin): its first 432 bytes. */
async function readMbrCode(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fromSystemError(e, path);
  }
  if (bytes.length < 432) throw new ReprimageError('USAGE', path, `an MBR boot code file holds at least 432 bytes, this one ${bytes.length}`);
  return bytes.subarray(0, 432);
}
