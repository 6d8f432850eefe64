/**
 * The live ISO: a hybrid (CD and USB disk, BIOS and UEFI) medium that boots Debian's live-boot,
 * assembled from a root tree in memory with reprimage's own writers (docs/live-iso.md):
 *
 *   live/vmlinuz, live/initrd.img     kernel and repacked initramfs from the tree's /boot
 *   live/filesystem.squashfs          the whole root tree (xz by default, like Tails)
 *   isolinux/                         isolinux.bin + ldlinux.c32 from the tree (BIOS)
 *   boot/grub/grub.cfg, .disk/info    read by the signed CD GRUB (UEFI)
 *   appended ESP (FAT)                EFI/boot/bootx64.efi (shim) + grubx64.efi (signed GRUB)
 *
 * Every boot loader file is taken from the root tree, i.e. from the recipe's locked packages
 * (isolinux, syslinux-common, shim-signed, grub-efi-amd64-signed), never from the build host.
 * Identifiers (MBR signature, GPT GUIDs, FAT serial) come from the seed; all times are
 * SOURCE_DATE_EPOCH.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import type { WriteContext, WriteSettings } from '../formats/format.js';
import type { IsoWriteReport } from '../formats/iso9660/index.js';
import { writeFormat } from '../formats/registry.js';
import type { SquashfsCompressorName } from '../formats/squashfs/index.js';
import { scratchSubject, writeAtomically } from '../io/atomic-output.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { MemorySink, type Sink } from '../io/sink.js';
import { bytesContent, fileContent, readContent } from '../tree/content.js';
import { ID_PURPOSES as ID, renamedIdentifiers, seededIdentifiers, type IdPurpose } from '../tree/id-purposes.js';
import { compareNames } from '../tree/names.js';
import { Tree, newDir, type FileNode, type Node } from '../tree/tree.js';
import { LIVE_INITRD, LIVE_KERNEL, LIVE_SQUASHFS, grubCfg, isolinuxCfg, liveCmdline } from './boot-menus.js';
import { repackInitramfs } from './initramfs-repack.js';
import { stageTimer } from '../stage-timer.js';

/** Where Debian's packages put the boot loader files, inside the root tree. */
export const BOOT_FILES = {
  isolinuxBin: 'usr/lib/ISOLINUX/isolinux.bin',
  isohybridMbr: 'usr/lib/ISOLINUX/isohdpfx.bin',
  ldlinux: 'usr/lib/syslinux/modules/bios/ldlinux.c32',
  shim: 'usr/lib/shim/shimx64.efi.signed',
  grubCd: 'usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed',
} as const;

/**
 * The live ISO's identifiers have purposes of their own, apart from a `pack` output's of the same
 * format; the installer ISO, laid out as the live ISO, uses the same ones.
 */
export const LIVE_ISO_PURPOSES: ReadonlyMap<IdPurpose, IdPurpose> = new Map([
  [ID.fatVolumeSerial, ID.liveIsoEspSerial],
  [ID.isoMbrDiskSignature, ID.liveIsoMbrDiskSignature],
  [ID.isoGptDisk, ID.liveIsoGptDisk],
  ...[0, 1, 2, 3].map((i): [IdPurpose, IdPurpose] => [ID.isoGptPartition(i), ID.liveIsoGptPartition(i)]),
]);

export interface LiveIsoOptions {
  /** The build's name: the menus' title and .disk/info. */
  name: string;
  /** Default: the name upper-cased, other characters as `_`, at most 32. */
  volumeId?: string;
  buildTime: number;
  /** Derives the MBR signature, GPT GUIDs and the ESP serial. */
  seed: string;
  /** Default xz. */
  compressor?: SquashfsCompressorName;
  /** Words after `boot=live components`; default `console=ttyS0,115200 console=tty0`. */
  kernelCmdline?: string;
  workers?: number;
  /** A SquashFS block cache directory (formats/squashfs/block-cache.ts); never changes the bytes. */
  blockCache?: string;
  /** Where the SquashFS is spooled; default the OS temp directory. */
  tempDir?: string;
  /** The user's name for the ISO being made, named (with the scratch file) when spooling fails. */
  subject?: string;
  warn?: (message: string) => void;
  /** Stops the build at the next block written (an ABORTED error); the spooled SquashFS is removed. */
  signal?: AbortSignal;
  /** Files put on the medium beside live/, outside the SquashFS (the build record: docs/rebuild.md). */
  mediumFiles?: ReadonlyArray<{ path: string; bytes: Uint8Array }>;
}

export interface LiveIsoReport {
  iso: IsoWriteReport;
  kernelVersion: string;
  initramfsSegments: string[];
  squashfsSize: number;
  uefi: boolean;
  /** Milliseconds per stage. */
  timings: Record<string, number>;
}

/**
 * The ESP of a hybrid medium: shim, Debian's signed GRUB and its grub.cfg where the firmware
 * looks for them (the live and the installer ISO carry the same one).
 */
export function espTreeOf(buildTime: number, shim: FileNode, grub: FileNode, grubConfig: string): Tree {
  const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: { sec: buildTime, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
  const file = (content: FileNode['content']): Node => ({ kind: 'file', ...meta(0o644), content });
  const esp = new Tree(newDir(meta(0o755)));
  esp.set('EFI/boot/bootx64.efi', file(shim.content), meta(0o755));
  esp.set('EFI/boot/grubx64.efi', file(grub.content), meta(0o755));
  esp.set('EFI/boot/grub.cfg', file(bytesContent(new TextEncoder().encode(grubConfig))), meta(0o755));
  return esp;
}

export function volumeIdOf(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 32);
}

export function fileAt(tree: Tree, path: string, what: string, required: true): FileNode;
export function fileAt(tree: Tree, path: string, what: string, required: false): FileNode | undefined;
export function fileAt(tree: Tree, path: string, what: string, required: boolean): FileNode | undefined {
  let node = tree.get(path);
  // Debian ships some of these as symlinks within /usr/lib; follow relative and absolute ones a few times
  for (let hops = 0; node?.kind === 'symlink' && hops < 8; hops++) {
    const target: string = node.target;
    const base = target.startsWith('/') ? '' : path.split('/').slice(0, -1).join('/');
    path = normalize(base === '' ? target.replace(/^\/+/, '') : `${base}/${target}`);
    node = tree.get(path);
  }
  if (node?.kind === 'file') return node;
  if (!required) return undefined;
  throw new ReprimageError('NOT_FOUND', `/${path}`, `${what} is missing from the root tree (add its package to the recipe)`);
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The kernel and initramfs of the newest kernel version in /boot (bytewise order of versions). */
export function findKernel(tree: Tree, warn: (m: string) => void): { version: string; kernel: FileNode; initrd: FileNode } {
  const boot = tree.get('boot');
  const versions = boot?.kind === 'dir' ? [...boot.children.keys()].filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length)).sort(compareNames) : [];
  const version = versions[versions.length - 1];
  if (version === undefined) throw new ReprimageError('NOT_FOUND', '/boot/vmlinuz-*', 'no kernel in the root tree (add linux-image-amd64 to the recipe)');
  if (versions.length > 1) warn(`live ISO: several kernels in /boot; using ${version}`);
  return {
    version,
    kernel: fileAt(tree, `boot/vmlinuz-${version}`, 'the kernel', true),
    initrd: fileAt(tree, `boot/initrd.img-${version}`, `the initramfs of kernel ${version}`, true),
  };
}

/**
 * Writes the live ISO of `root` to `sink`. The root tree itself is not changed.
 */
export async function writeLiveIso(root: Tree, sink: Sink, options: LiveIsoOptions): Promise<LiveIsoReport> {
  const warn = options.warn ?? (() => {});
  const epoch = options.buildTime;
  const { timings, stage } = stageTimer();
  // the medium and every image in it are written by their formats in the registry, with the live
  // ISO's own identifier purposes (its ESP serial, MBR signature and GPT GUIDs)
  const ctx: WriteContext = { buildTime: epoch, ids: renamedIdentifiers(seededIdentifiers(options.seed), LIVE_ISO_PURPOSES), warn, workers: options.workers, subject: options.subject, signal: options.signal };
  const write = (id: string, tree: Tree, to: Sink, settings: WriteSettings) => writeFormat(id, tree, to, ctx, settings);

  const { version, kernel, initrd } = findKernel(root, warn);
  const bios = {
    isolinux: fileAt(root, BOOT_FILES.isolinuxBin, 'isolinux.bin (package isolinux)', true),
    mbr: fileAt(root, BOOT_FILES.isohybridMbr, 'isohdpfx.bin (package isolinux)', true),
    ldlinux: fileAt(root, BOOT_FILES.ldlinux, 'ldlinux.c32 (package syslinux-common)', true),
  };
  const shim = fileAt(root, BOOT_FILES.shim, 'shim (package shim-signed)', false);
  const grub = fileAt(root, BOOT_FILES.grubCd, 'the signed CD GRUB (package grub-efi-amd64-signed)', false);
  if (!shim || !grub) warn('live ISO: shim-signed or grub-efi-amd64-signed is not installed in the root tree; the ISO boots with BIOS only');

  const repacked = await repackInitramfs(await readContent(initrd.content), `/boot/initrd.img-${version}`, epoch);
  stage('initramfs');

  const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: { sec: epoch, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
  const file = (content: FileNode['content']): Node => ({ kind: 'file', ...meta(0o644), content });
  const text = (s: string): Node => file(bytesContent(new TextEncoder().encode(s)));
  const vars = { title: `${options.name} (live)`, cmdline: liveCmdline(options.kernelCmdline) };

  const scratch = await makeTemporaryDirectory('reprimage-live-', options.tempDir);
  const work = scratch.path;
  try {
    const squashfsPath = join(work, 'filesystem.squashfs');
    await writeAtomically(
      squashfsPath,
      (s) => write('squashfs', root, s, { squashfs: { compressor: options.compressor ?? 'xz', blockCache: options.blockCache } }),
      { subject: scratchSubject(options.subject, squashfsPath), signal: options.signal },
    );
    const squashfsSize = (await stat(squashfsPath)).size;
    stage('squashfs');

    const medium = new Tree(newDir(meta(0o755)));
    const put = (path: string, node: Node) => medium.set(path, node, meta(0o755));
    put('.disk/info', text(`${options.name}\n`));
    put(LIVE_KERNEL, file(kernel.content));
    put(LIVE_INITRD, file(bytesContent(repacked.bytes, `/boot/initrd.img-${version} (repacked)`)));
    put(LIVE_SQUASHFS, file(fileContent(squashfsPath, squashfsSize)));
    put('isolinux/isolinux.bin', file(bios.isolinux.content));
    put('isolinux/ldlinux.c32', file(bios.ldlinux.content));
    put('isolinux/isolinux.cfg', text(isolinuxCfg(vars)));
    put('boot/grub/grub.cfg', text(grubCfg(vars)));
    for (const extra of options.mediumFiles ?? []) put(extra.path, file(bytesContent(extra.bytes, extra.path)));

    let esp: Uint8Array | undefined;
    if (shim && grub) {
      const espSink = new MemorySink();
      await write('fat', espTreeOf(epoch, shim, grub, grubCfg(vars)), espSink, { fat: { label: 'EFIBOOT' } });
      esp = espSink.bytes();
    }
    const mbr = await readContent(bios.mbr.content);
    stage('boot');

    const written = await write('iso9660', medium, sink, {
      iso: {
        volumeId: options.volumeId ?? volumeIdOf(options.name),
        biosBoot: 'isolinux/isolinux.bin',
        efiAppended: esp ? bytesContent(esp, 'efi.img') : undefined,
        hybridMbr: mbr,
        gpt: true,
        // the big file last and the boot files first, as live-build's xorriso sort list does
        sortWeights: new Map([
          ['isolinux/isolinux.bin', 30],
          ['isolinux/ldlinux.c32', 20],
          [LIVE_KERNEL, 10],
          [LIVE_INITRD, 10],
        ]),
      },
    });
    const iso = written.report as IsoWriteReport;
    stage('iso');
    return { iso, kernelVersion: version, initramfsSegments: repacked.segments, squashfsSize, uefi: esp !== undefined, timings };
  } finally {
    await scratch.remove();
  }
}
