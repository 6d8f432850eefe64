/**
 * The installer ISO (docs/installer.md): a hybrid medium (CD and USB disk, BIOS and UEFI, laid
 * out as the live ISO) whose small live system writes a verified disk image onto a disk:
 *
 *   install/vmlinuz          the root tree's kernel
 *   install/initrd.img       our initramfs: busybox (busybox-static), the installer scripts
 *                            (installer/ in this project) and only the kernel modules listed in
 *                            INSTALLER_MODULES (with their dependencies), gzip'd by libdeflate
 *   install/disk.img.gz      the raw disk image, compressed (installer-image.ts)
 *   install/image.conf       the image's name, size and SHA-256, the compressed file's too
 *   isolinux/, boot/grub/, .disk/info, appended ESP: the live ISO's boot path, from the tree
 *
 * The menus' kernel command line ends in KARGS_RESERVED spaces, so that a copy of the medium can
 * be given `reprimage.install=/dev/vda` and other words in place without changing its layout
 * (as coreos-installer's `iso kargs`): setInstallerKernelArgs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { createDeflateCompressor } from '../compress/libdeflate/compressor.js';
import type { WriteContext, WriteSettings } from '../formats/format.js';
import type { IsoWriteReport } from '../formats/iso9660/index.js';
import { writeFormat } from '../formats/registry.js';
import { abortableSource, throwIfAborted } from '../io/abort.js';
import { scratchSubject, writeAtomically } from '../io/atomic-output.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { MemorySink, type Sink } from '../io/sink.js';
import { openFileSource } from '../io/source.js';
import { bytesContent, fileContent, readContent } from '../tree/content.js';
import { renamedIdentifiers, seededIdentifiers } from '../tree/id-purposes.js';
import { Tree, newDir, type FileNode, type Node } from '../tree/tree.js';
import { grubCfg, isolinuxCfg } from './boot-menus.js';
import { BOOT_FILES, LIVE_ISO_PURPOSES, espTreeOf, fileAt, findKernel, volumeIdOf } from './live-iso.js';
import { INSTALLER_IMAGE_CODEC, writeCompressedImage, type CompressedImageReport } from './installer-image.js';
import { installerModules } from './installer-modules.js';
import { stageTimer } from '../stage-timer.js';

export const INSTALLER_KERNEL = 'install/vmlinuz';
export const INSTALLER_INITRD = 'install/initrd.img';
export const INSTALLER_IMAGE = 'install/disk.img.gz';
export const INSTALLER_CONF = 'install/image.conf';
/** Spaces reserved at the end of the menus' kernel command line for words added in place. */
export const KARGS_RESERVED = 256;
export const DEFAULT_INSTALLER_CMDLINE = 'console=ttyS0,115200 console=tty0';

export interface InstallerIsoOptions {
  /** The installer's name (menus, .disk/info). */
  name: string;
  /** The image's name, shown by the installer. */
  imageName: string;
  volumeId?: string;
  buildTime: number;
  /** Derives the MBR signature, GPT GUIDs and the ESP serial (the live ISO's purposes). */
  seed: string;
  /** Words on the installer's kernel command line; default DEFAULT_INSTALLER_CMDLINE. */
  kernelCmdline?: string;
  /** Where the compressed image is spooled; default the OS temp directory. */
  tempDir?: string;
  /** Parallel workers of the writers; never changes the bytes. */
  workers?: number;
  /** The user's name for the ISO being made, named (with the scratch file) when spooling fails. */
  subject?: string;
  warn?: (message: string) => void;
  /** Stops the build at the next block read or written (an ABORTED error); the spooled image is removed. */
  signal?: AbortSignal;
}

export interface InstallerIsoReport {
  iso: IsoWriteReport;
  kernelVersion: string;
  modules: string[];
  image: CompressedImageReport & { codec: string; implementation: string };
  timings: Record<string, number>;
}

/** The installer scripts, shipped with the package in installer/. */
function installerScript(name: string): Uint8Array {
  for (let up = '../'; up.length < 30; up += '../') {
    try {
      return readFileSync(new URL(`${up}installer/${name}`, import.meta.url));
    } catch {
      // not at this level
    }
  }
  throw new ReprimageError('NOT_FOUND', `installer/${name}`, 'the installer script is missing from the reprimage installation');
}

/** busybox-static's /bin/busybox (under /usr/bin in a merged-/usr tree). */
function busyboxOf(tree: Tree): FileNode {
  return fileAt(tree, 'usr/bin/busybox', 'busybox', false) ?? fileAt(tree, 'bin/busybox', 'busybox (package busybox-static)', true);
}

/** image.conf: sourced by the installer script, so every value is a plain word. */
export function imageConf(imageName: string, image: CompressedImageReport): string {
  return [
    `IMAGE_NAME=${imageName.replace(/[^A-Za-z0-9._-]/g, '_')}`,
    `IMAGE_SIZE=${image.size}`,
    `IMAGE_SHA256=${image.sha256}`,
    `COMPRESSED_FILE=${INSTALLER_IMAGE}`,
    `COMPRESSED_CODEC=${INSTALLER_IMAGE_CODEC.name}`,
    `COMPRESSED_SIZE=${image.compressedSize}`,
    `COMPRESSED_SHA256=${image.compressedSha256}`,
    '',
  ].join('\n');
}

/** Writes the installer ISO for the raw disk image at `imagePath`, with the boot files and kernel of `root`. */
export async function writeInstallerIso(root: Tree, imagePath: string, sink: Sink, options: InstallerIsoOptions): Promise<InstallerIsoReport> {
  const warn = options.warn ?? (() => {});
  const epoch = options.buildTime;
  const signal = options.signal;
  const { timings, stage } = stageTimer();
  // the initramfs, the ESP and the medium are written by their formats in the registry, with the
  // live ISO's identifier purposes (the installer ISO is laid out as the live ISO)
  const ctx: WriteContext = { buildTime: epoch, ids: renamedIdentifiers(seededIdentifiers(options.seed), LIVE_ISO_PURPOSES), warn, workers: options.workers, subject: options.subject, signal };
  const write = (id: string, tree: Tree, to: Sink, settings: WriteSettings = {}) => writeFormat(id, tree, to, ctx, settings);
  const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: { sec: epoch, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
  const file = (content: FileNode['content'], mode = 0o644): Node => ({ kind: 'file', ...meta(mode), content });
  const text = (s: string, mode = 0o644): Node => file(bytesContent(new TextEncoder().encode(s)), mode);

  const { version, kernel } = findKernel(root, warn);
  const bios = {
    isolinux: fileAt(root, BOOT_FILES.isolinuxBin, 'isolinux.bin (package isolinux)', true),
    mbr: fileAt(root, BOOT_FILES.isohybridMbr, 'isohdpfx.bin (package isolinux)', true),
    ldlinux: fileAt(root, BOOT_FILES.ldlinux, 'ldlinux.c32 (package syslinux-common)', true),
  };
  const shim = fileAt(root, BOOT_FILES.shim, 'shim (package shim-signed)', false);
  const grub = fileAt(root, BOOT_FILES.grubCd, 'the signed CD GRUB (package grub-efi-amd64-signed)', false);
  if (!shim || !grub) warn('installer ISO: shim-signed or grub-efi-amd64-signed is not installed in the root tree; the ISO boots with BIOS only');
  const busybox = busyboxOf(root);

  const scratch = await makeTemporaryDirectory('reprimage-installer-', options.tempDir);
  try {
    const compressedPath = join(scratch.path, 'disk.img.gz');
    const source = await openFileSource(imagePath);
    let image: CompressedImageReport;
    try {
      const from = signal ? abortableSource(source, signal) : source;
      image = await writeAtomically(compressedPath, (s) => writeCompressedImage(from, s), { subject: scratchSubject(options.subject, compressedPath), signal });
    } finally {
      await source.close();
    }
    stage('image');

    // the initramfs: busybox, the scripts, the modules (flat, loaded in the listed order)
    throwIfAborted(signal, options.subject ?? 'installer ISO');
    const modules = await installerModules(root, version, warn);
    const initramfs = new Tree(newDir(meta(0o755)));
    for (const dir of ['bin', 'dev', 'proc', 'sys', 'tmp', 'medium', 'etc', 'lib/modules']) initramfs.ensureDir(dir, meta(0o755));
    initramfs.set('init', file(bytesContent(installerScript('init.sh')), 0o755));
    initramfs.set('bin/reprimage-install', file(bytesContent(installerScript('reprimage-install.sh')), 0o755));
    initramfs.set('bin/busybox', file(busybox.content, 0o755));
    initramfs.set('dev/console', { kind: 'char', ...meta(0o600), major: 5, minor: 1 });
    initramfs.set('dev/null', { kind: 'char', ...meta(0o666), major: 1, minor: 3 });
    for (const m of modules) initramfs.set(`lib/modules/${m.name}`, file(m.content));
    initramfs.set('etc/reprimage-installer.conf', text(`MEDIUM_IMAGE_SHA256=${image.sha256}\nMODULES="${modules.map((m) => m.name).join(' ')}"\n`));
    const cpio = new MemorySink();
    await write('cpio', initramfs, cpio);
    const initrd = (await createDeflateCompressor(6)).gzip(cpio.bytes());
    stage('initramfs');

    const vars = { title: `${options.name}: install ${options.imageName}`, cmdline: `${options.kernelCmdline ?? DEFAULT_INSTALLER_CMDLINE}${' '.repeat(KARGS_RESERVED)}`, kernel: INSTALLER_KERNEL, initrd: INSTALLER_INITRD };
    const medium = new Tree(newDir(meta(0o755)));
    const put = (path: string, node: Node) => medium.set(path, node, meta(0o755));
    put('.disk/info', text(`${options.name}\n`));
    put(INSTALLER_KERNEL, file(kernel.content));
    put(INSTALLER_INITRD, file(bytesContent(initrd, INSTALLER_INITRD)));
    put(INSTALLER_IMAGE, file(fileContent(compressedPath, image.compressedSize)));
    put(INSTALLER_CONF, text(imageConf(options.imageName, image)));
    put('isolinux/isolinux.bin', file(bios.isolinux.content));
    put('isolinux/ldlinux.c32', file(bios.ldlinux.content));
    put('isolinux/isolinux.cfg', text(isolinuxCfg(vars)));
    put('boot/grub/grub.cfg', text(grubCfg(vars)));
    let esp: Uint8Array | undefined;
    if (shim && grub) {
      const espSink = new MemorySink();
      await write('fat', espTreeOf(epoch, shim, grub, grubCfg(vars)), espSink, { fat: { label: 'EFIBOOT' } });
      esp = espSink.bytes();
    }
    const mbr = await readContent(bios.mbr.content);
    const written = await write('iso9660', medium, sink, {
      iso: {
        volumeId: options.volumeId ?? volumeIdOf(options.name),
        biosBoot: 'isolinux/isolinux.bin',
        efiAppended: esp ? bytesContent(esp, 'efi.img') : undefined,
        hybridMbr: mbr,
        gpt: true,
        sortWeights: new Map([
          ['isolinux/isolinux.bin', 30],
          ['isolinux/ldlinux.c32', 20],
          [INSTALLER_KERNEL, 10],
          [INSTALLER_INITRD, 10],
        ]),
      },
    });
    const iso = written.report as IsoWriteReport;
    stage('iso');
    return { iso, kernelVersion: version, modules: modules.map((m) => m.name), image: { ...image, codec: INSTALLER_IMAGE_CODEC.name, implementation: INSTALLER_IMAGE_CODEC.implementation }, timings };
  } finally {
    await scratch.remove();
  }
}
