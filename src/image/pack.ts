/**
 * Writes a Tree as one image or archive of the chosen output format. This is where formats meet
 * compression and identifiers; the format modules themselves know nothing of each other.
 */
import { readFile } from 'node:fs/promises';
import { ReprimageError, fromSystemError } from '../errors.js';
import type { Sink } from '../io/sink.js';
import type { Tree } from '../tree/tree.js';
import { deriveU32, deriveUuid } from '../tree/identifiers.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';
import type { OutputFormat } from './output-formats.js';

export interface PackOptions {
  /** Header flavour of tar outputs. */
  tarFormat: 'gnu' | 'pax' | 'ustar';
  /** Deflate level of `.gz` outputs. */
  gzipLevel: number;
  /** Filesystem and volume creation times. */
  sourceDateEpoch: number;
  /** Where identifiers (disk signatures, GUIDs) come from (DESIGN.md rule 4). */
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
  ext4?: {
    blockSize?: 1024 | 4096;
    size?: number;
    inodes?: number;
    reservedPercent?: number;
    label?: string;
    mountOptions?: string;
    uuid?: string;
    hashSeed?: string;
    journalUuid?: string;
  };
  warn: (message: string) => void;
}

/** Format modules load on first use: a tar job should not pay for the SquashFS codecs. */
export async function packTree(tree: Tree, format: OutputFormat, sink: Sink, options: PackOptions): Promise<void> {
  switch (format) {
    case 'tar': {
      const { writeTar } = await import('../formats/tar/index.js');
      return writeTar(tree, sink, { format: options.tarFormat, headerTime: options.sourceDateEpoch, warn: options.warn });
    }
    case 'cpio': {
      const { writeCpio } = await import('../formats/cpio/index.js');
      return writeCpio(tree, sink, { warn: options.warn });
    }
    case 'tar.gz':
    case 'cpio.gz': {
      const { GzipSink } = await import('../compress/gzip.js');
      const gz = new GzipSink(sink, { level: options.gzipLevel });
      await packTree(tree, format === 'tar.gz' ? 'tar' : 'cpio', gz, options);
      await gz.close();
      return;
    }
    case 'squashfs': {
      const { writeSquashfs } = await import('../formats/squashfs/index.js');
      await writeSquashfs(tree, sink, {
        compressor: options.squashfs.compressor,
        blockSize: options.squashfs.blockSize,
        workers: options.workers,
        mkfsTime: options.sourceDateEpoch,
        noFragments: options.squashfs.noFragments,
        noDuplicates: options.squashfs.noDuplicates,
        deflate: options.squashfs.deflate,
        blockCache: options.squashfs.blockCache,
        warn: options.warn,
      });
      return;
    }
    case 'fat': {
      const { writeFat } = await import('../formats/fat/index.js');
      await writeFat(tree, sink, {
        fatType: options.fat.fatType,
        label: options.fat.label,
        size: options.fat.size,
        volumeSerial: deriveU32(options.seed, 'fat volume serial'),
        time: options.sourceDateEpoch,
        skipUnsupported: options.fat.skipUnsupported,
        warn: options.warn,
      } as Parameters<typeof writeFat>[2]);
      return;
    }
    case 'ext4': {
      const { writeExt4 } = await import('../formats/ext4/index.js');
      const o = options.ext4 ?? {};
      await writeExt4(tree, sink, {
        blockSize: o.blockSize,
        size: o.size,
        inodes: o.inodes,
        reservedPercent: o.reservedPercent,
        label: o.label,
        mountOptions: o.mountOptions,
        uuid: o.uuid ?? deriveUuid(options.seed, 'ext4 uuid'),
        hashSeed: o.hashSeed ?? deriveUuid(options.seed, 'ext4 hash seed'),
        journalUuid: o.journalUuid ?? deriveUuid(options.seed, 'ext4 journal uuid'),
        time: options.sourceDateEpoch,
      });
      return;
    }
    case 'iso': {
      const { writeIso } = await import('../formats/iso9660/index.js');
      const o = options.iso;
      const hybrid = o.hybridMbr === undefined ? undefined : await readMbrCode(o.hybridMbr);
      await writeIso(tree, sink, {
        volumeId: o.volumeId,
        publisher: o.publisher,
        applicationId: o.applicationId,
        creationTime: options.sourceDateEpoch,
        bios: o.biosBoot === undefined ? undefined : { bootImage: o.biosBoot, bootInfoTable: true },
        efi: o.efiBoot === undefined ? undefined : { bootImage: o.efiBoot },
        hybridMbr: hybrid,
        mbrId: hybrid === undefined ? undefined : (o.mbrId ?? deriveU32(options.seed, 'iso mbr disk signature')),
        gpt: o.gpt ? { diskGuid: deriveUuid(options.seed, 'iso gpt disk'), partitionGuids: [0, 1, 2, 3].map((i) => deriveUuid(options.seed, `iso gpt partition ${i}`)) } : undefined,
        warn: options.warn,
      });
      return;
    }
  }
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
