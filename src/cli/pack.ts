/** `reprimage pack SRC -o OUT`: one image or archive from a directory, archive or image. */
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { ReprimageError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { chooseOutputFormat, OUTPUT_FORMATS } from '../image/output-formats.js';
import type { PackOptions } from '../image/pack.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';
import { addPolicyOptions, pathInsideSource, shapeTree, type PolicyOptionValues } from './policy-options.js';
import type { Reporter } from './reporter.js';
import { hashFile } from '../io/hash-file.js';
import { withInputPath } from './stdin-input.js';
import { interruption } from './process-end.js';

interface PackOptionValues extends PolicyOptionValues {
  output: string;
  format?: string;
  tarFormat: string;
  gzipLevel: string;
  xattrs: boolean;
  workers?: string;
  json?: boolean;
  seed?: string;
  comp: string;
  squashfsDeflate?: string;
  blockSize?: string;
  blockCache?: string;
  fragments: boolean;
  duplicates: boolean;
  volid: string;
  publisher?: string;
  applicationId?: string;
  biosBoot?: string;
  efiBoot?: string;
  hybridMbr?: string;
  mbrId?: string;
  gpt?: boolean;
  fatType?: string;
  label?: string;
  size?: string;
  skipUnsupported?: boolean;
  inodes?: string;
  reservedPercent?: string;
  uuid?: string;
  hashSeed?: string;
  mountOptions?: string;
  verbose?: boolean;
}

export function packCommand(reporter: Reporter): Command {
  const cmd = new Command('pack')
    .description('write one image or archive from a directory, archive or image')
    .argument('<src>', "a directory, an archive (tar, cpio; gzip, xz or zstd compressed or not) or an image (SquashFS, ISO 9660, ext4, FAT, GPT/MBR disk); '-' reads a tar or cpio stream (compressed or not) from standard input")
    .requiredOption('-o, --output <file>', "the image to write ('-' for standard output, with --format)")
    .option('--format <format>', `output format (${OUTPUT_FORMATS.join(', ')}); default: from the output name`)
    .option('--tar-format <gnu|pax|ustar>', 'tar header flavour', 'gnu')
    .option('--gzip-level <1-9>', 'deflate level of .gz outputs', '9')
    .option('--no-xattrs', 'do not read extended attributes from a source directory')
    .option('--workers <n>', 'parallel workers (never changes the output bytes)')
    .option('--seed <text>', 'seed of derived identifiers (default: reprimage:SOURCE_DATE_EPOCH)')
    .option('--json', 'print a JSON summary of what was written (schema reprimage-pack/1, docs/json.md)')
    .option('--comp <gzip|xz|zstd|lz4>', 'SquashFS compressor', 'gzip')
    .option('--squashfs-deflate <libdeflate|zlib>', "SquashFS gzip: libdeflate (default, fast) or zlib (slower; mksquashfs's exact bytes)")
    .option('--block-size <bytes>', 'SquashFS block size: 4K to 1M, a power of two (default 128K); ext4: 1024 or 4096 (default 4096)')
    .option('--block-cache <dir>', 'SquashFS: reuse compressed blocks stored in DIR and store new ones (same bytes as without; off by default)')
    .option('--no-fragments', 'SquashFS: no fragment blocks (like mksquashfs -no-fragments)')
    .option('--no-duplicates', 'SquashFS: store identical files each time')
    .option('--volid <id>', 'ISO volume id', 'REPRIMAGE')
    .option('--publisher <text>', 'ISO publisher id')
    .option('--application-id <text>', 'ISO application id')
    .option('--bios-boot <path>', 'ISO: El Torito BIOS no-emulation boot image (a path inside SRC, e.g. isolinux/isolinux.bin)')
    .option('--efi-boot <path>', 'ISO: El Torito UEFI boot image (a FAT image inside SRC)')
    .option('--hybrid-mbr <file>', 'ISO: isohybrid MBR boot code (e.g. /usr/lib/ISOLINUX/isohdpfx.bin); needs --bios-boot')
    .option('--mbr-id <n>', 'ISO: MBR disk signature, decimal or 0x hexadecimal (default: derived from the seed)')
    .option('--gpt', 'ISO: add a GPT for UEFI USB boot (GUIDs derived from the seed)')
    .option('--fat-type <12|16|32>', 'FAT: the FAT type (default: chosen by size, as mkfs.fat does)')
    .option('--label <text>', 'FAT, ext4: the volume label')
    .option('--size <bytes>', 'FAT, ext4: the image size (default: the tree plus headroom)')
    .option('--inodes <n>', 'ext4: the inode count (default: one per 16 KiB, at least the tree plus 10 %)')
    .option('--reserved-percent <n>', 'ext4: blocks reserved for root, in percent (default 5)')
    .option('--uuid <uuid>', 'ext4: the file system UUID (default: derived from the seed)')
    .option('--hash-seed <uuid>', 'ext4: the directory hash seed (default: derived from the seed)')
    .option('--mount-options <text>', 'ext4: default mount options stored in the superblock')
    .option('--skip-unsupported', 'FAT: leave out symlinks, devices, fifos and sockets with a warning instead of failing');
  addPolicyOptions(cmd);
  // '-': a tar or cpio stream on standard input, copied to a file that `src` then names
  return cmd.action(async (given: string, values: PackOptionValues) => withInputPath(given, async (src) => {
    const format = chooseOutputFormat(values.output === '-' ? '' : values.output, values.format);
    const tarFormat = parseTarFormat(values.tarFormat);
    const gzipLevel = parseIntOption(values.gzipLevel, '--gzip-level', 1, 9);
    const workers = values.workers === undefined ? undefined : parseIntOption(values.workers, '--workers', 1, 256);
    const compressor = await parseCompressor(values.comp);
    const ext4BlockSize = format === 'ext4' && values.blockSize !== undefined ? parseExt4BlockSize(values.blockSize) : undefined;
    const blockSize = format === 'ext4' || values.blockSize === undefined ? 131072 : parseSize(values.blockSize, '--block-size');
    const mbrId = values.mbrId === undefined ? undefined : parseIntOption(values.mbrId, '--mbr-id', 0, 0xffffffff);
    const warn = (m: string) => reporter.warn(m);
    if (NO_OPTIMIZER_FORMATS.has(format) && isDirectory(src)) setFlagsFromString('--no-opt');
    if (SMALL_HEAP_FORMATS.has(format)) preferSmallHeap();
    // the readers and writers load here, not at start-up; image/pack loads only the format written
    const { openTree } = await import('../image/open-tree.js');
    const { packTree } = await import('../image/pack.js');
    const input = await openTree(src, { warn, xattrs: values.xattrs, signal: interruption() });
    try {
      if (input.format === 'directory' && values.output !== '-') {
        const self = pathInsideSource(src, values.output);
        if (self !== undefined && input.tree.remove(self)) warn(`${values.output}: the output is inside the source; left out`);
      }
      const sourceDateEpoch = await shapeTree(input.tree, values, reporter);
      const options: PackOptions = {
        tarFormat,
        gzipLevel,
        warn,
        buildTime: sourceDateEpoch,
        seed: values.seed ?? `reprimage:${sourceDateEpoch}`,
        workers,
        signal: interruption(),
        squashfs: { compressor, blockSize, noFragments: !values.fragments, noDuplicates: !values.duplicates, deflate: parseDeflate(values.squashfsDeflate), blockCache: values.blockCache },
        fat: {
          fatType: values.fatType === undefined ? undefined : (parseIntOption(values.fatType, '--fat-type', 12, 32) as 12 | 16 | 32),
          label: values.label,
          size: values.size === undefined ? undefined : parseIntOption(values.size, '--size', 1, Number.MAX_SAFE_INTEGER),
          skipUnsupported: values.skipUnsupported ?? false,
        },
        ext4: {
          blockSize: ext4BlockSize,
          size: values.size === undefined ? undefined : parseIntOption(values.size, '--size', 1, Number.MAX_SAFE_INTEGER),
          inodes: values.inodes === undefined ? undefined : parseIntOption(values.inodes, '--inodes', 16, 0xffffffff),
          reservedPercent: values.reservedPercent === undefined ? undefined : parseIntOption(values.reservedPercent, '--reserved-percent', 0, 50),
          label: values.label,
          mountOptions: values.mountOptions,
          uuid: values.uuid,
          hashSeed: values.hashSeed,
        },
        iso: {
          volumeId: values.volid,
          publisher: values.publisher,
          applicationId: values.applicationId,
          biosBoot: values.biosBoot,
          efiBoot: values.efiBoot,
          hybridMbr: values.hybridMbr,
          mbrId,
          gpt: values.gpt ?? false,
        },
      };
      const bar = reporter.progress('pack');
      if (reporter.animates) {
        const { countReads } = await import('../tree/read-progress.js');
        countReads(input.tree, (done, total) => bar.update(done, total));
      }
      let written = false;
      try {
        if (values.output === '-') {
          const { StreamSink } = await import('../io/sink.js');
          await packTree(input.tree, format, new StreamSink(process.stdout, '<stdout>'), options);
        } else {
          await writeAtomically(values.output, (sink) => packTree(input.tree, format, sink, options));
        }
        written = true;
      } finally {
        // a failed run leaves no bar behind its error line
        bar.end(written);
      }
      if (values.output === '-') return;
    } finally {
      await input.close();
    }
    if (values.json) {
      const { size } = await stat(values.output);
      const { sha256 } = await hashFile(values.output);
      process.stdout.write(`${JSON.stringify({ schema: 'reprimage-pack/1', output: values.output, format, size, sha256, input: input.format })}\n`);
    } else if (values.verbose) {
      const { size } = await stat(values.output);
      reporter.detail(`reprimage: ${values.output}: ${size} bytes (${format} from ${input.format})`);
    }
  }));
}

/**
 * Outputs whose writing from a directory is system calls and one pass over the metadata. For
 * them V8's optimizing compiler costs more CPU than it saves: its background compiles took a
 * quarter of the CPU time of an ISO of the reference root file system (bench/iso.ts: 1.2 s CPU
 * with it, 0.88 s without; tar 0.75 -> 0.71 s, cpio 0.70 -> 0.63 s; same bytes). Not for image or archive sources, whose readers may
 * decompress in JavaScript while the output is written, nor for formats that compress.
 */
const NO_OPTIMIZER_FORMATS: ReadonlySet<string> = new Set(['iso', 'tar', 'cpio']);

/** Outputs measured with a heap kept small (preferSmallHeap); compressed ones run codecs in JavaScript on this thread. */
const SMALL_HEAP_FORMATS: ReadonlySet<string> = new Set(['tar', 'cpio', 'ext4', 'iso']);

/**
 * A pack holds one Tree (and a writer's plan of it) for its whole run and makes short-lived
 * garbage per entry. V8's defaults size the heap for throughput: the young generation grows to
 * 32 MiB and the old one to about twice what survived the last full collection, which took a
 * pack of a 44,657-entry tree to 160-220 MiB. Collecting sooner keeps it near what is alive
 * (ext4 of that tree: 159 -> 108 MiB) at no measurable cost in time. Both flags are read at
 * each collection, so setting them now still counts.
 */
function preferSmallHeap(): void {
  // V8's flags are the process's: worker threads started later (SquashFS's compressors) would
  // inherit them, so only the outputs written on this thread without a codec ask for it
  setFlagsFromString('--optimize-for-size');
  setFlagsFromString('--semi-space-growth-factor=1');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // openTree reports it
  }
}

function parseTarFormat(value: string): 'gnu' | 'pax' | 'ustar' {
  if (value === 'gnu' || value === 'pax' || value === 'ustar') return value;
  throw new ReprimageError('USAGE', '--tar-format', `expected gnu, pax or ustar, got '${value}'`);
}

/** The default needs no check; the codec list loads every codec, which a tar job need not pay for. */
async function parseCompressor(value: string): Promise<SquashfsCompressorName> {
  if (value === 'gzip') return value;
  const { SQUASHFS_COMPRESSORS } = await import('../compress/squashfs-codecs.js');
  if ((SQUASHFS_COMPRESSORS as readonly string[]).includes(value)) return value as SquashfsCompressorName;
  throw new ReprimageError('USAGE', '--comp', `expected ${SQUASHFS_COMPRESSORS.join(', ')}, got '${value}'`);
}

function parseDeflate(value: string | undefined): 'libdeflate' | 'zlib' | undefined {
  if (value === undefined || value === 'libdeflate' || value === 'zlib') return value;
  throw new ReprimageError('USAGE', '--squashfs-deflate', `expected libdeflate or zlib, got '${value}'`);
}

/** `131072`, `128K` or `1M`: a power of two from 4 KiB to 1 MiB. */
function parseSize(value: string, option: string): number {
  const m = /^(\d+)([KkMm]?)$/.exec(value);
  const n = m ? Number(m[1]) * (m[2] === '' ? 1 : /[Kk]/.test(m[2]!) ? 1024 : 1 << 20) : NaN;
  if (!(n >= 4096 && n <= 1 << 20) || (n & (n - 1)) !== 0) {
    throw new ReprimageError('USAGE', option, `expected a power of two from 4K to 1M, got '${value}'`);
  }
  return n;
}

function parseExt4BlockSize(value: string): 1024 | 4096 {
  if (value === '1024' || value === '1K' || value === '1k') return 1024;
  if (value === '4096' || value === '4K' || value === '4k') return 4096;
  throw new ReprimageError('USAGE', '--block-size', `ext4 block size must be 1024 or 4096, got '${value}'`);
}

export function parseIntOption(value: string, option: string, min: number, max: number): number {
  // decimal, or hexadecimal with 0x as isohybrid --id and sfdisk take disk signatures
  const n = /^\d+$/.test(value) || /^0x[0-9a-f]+$/i.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ReprimageError('USAGE', option, `expected a whole number from ${min} to ${max} (or 0x… hexadecimal), got '${value}'`);
  }
  return n;
}

