/**
 * A synthetic root tree for the live ISO tests: a kernel and an initramfs in /boot (an
 * uncompressed early microcode archive followed by a gzip- or zstd-compressed main archive, as
 * initramfs-tools writes them), and boot loader files at the paths Debian's packages use
 * (given by the caller: the host's real isolinux files in oracle tests, stand-ins in unit tests).
 */
import { gzipSync } from 'node:zlib';
import { createZstdCompressor } from '../../src/compress/zstd/compressor.js';
import { writeCpio } from '../../src/formats/cpio/index.js';
import { BOOT_FILES } from '../../src/image/live-iso.js';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';
import { LATE_BUILD_TIME } from './sample-tree.js';

export const LIVE_ROOT_EPOCH = 1700000000;
export const KERNEL_VERSION = '6.1.0-99-amd64';

const meta = (mode: number, sec = LIVE_ROOT_EPOCH + 3600) => ({ mode, uid: 0, gid: 0, mtime: { sec, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
export const fileNode = (bytes: Uint8Array | string, mode = 0o644, sec?: number): Node => ({
  kind: 'file',
  ...meta(mode, sec),
  content: bytesContent(typeof bytes === 'string' ? Buffer.from(bytes) : bytes),
});

function treeOf(entries: Array<[string, Node]>): Tree {
  const tree = new Tree(newDir(meta(0o755)));
  for (const [path, node] of entries) tree.set(path, node, meta(0o755));
  return tree;
}

async function cpioBytes(tree: Tree): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME });
  return sink.bytes().slice();
}

/** Pseudo-random but compressible bytes. */
export function blob(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 5 === 0 ? x >>> 24 : 0x61 + (i % 17);
  }
  return out;
}

/** The files of the main archive: an /init, a module, a symlink; times after the epoch (to be clamped). */
export function mainInitramfsTree(): Tree {
  return treeOf([
    ['init', fileNode('#!/bin/sh\necho init\n', 0o755)],
    ['bin/busybox', fileNode(blob(50000, 3), 0o755)],
    ['bin/sh', { kind: 'symlink', ...meta(0o777), target: 'busybox' }],
    ['usr/lib/modules/6.1.0-99-amd64/kernel/fs/squashfs.ko', fileNode(blob(20000, 4))],
    ['conf/initramfs.conf', fileNode('MODULES=most\n')],
  ]);
}

/** An initramfs as mkinitramfs lays it out: early archive, then the compressed main archive. */
export async function makeInitrd(compression: 'gzip' | 'zstd'): Promise<Uint8Array> {
  const early = await cpioBytes(treeOf([['kernel/x86/microcode/GenuineIntel.bin', fileNode(blob(3000, 7))]]));
  const main = await cpioBytes(mainInitramfsTree());
  // level 1 on purpose: the repacked archive must not depend on how the input was compressed
  const packed = compression === 'gzip' ? gzipSync(main, { level: 1 }) : (await createZstdCompressor(1))(main);
  return Buffer.concat([early, packed]);
}

export interface BootLoaderFiles {
  isolinuxBin: Uint8Array;
  isohybridMbr: Uint8Array;
  ldlinux: Uint8Array;
  /** Leave both out for a BIOS-only tree. */
  shim?: Uint8Array;
  grubCd?: Uint8Array;
}

/** A small root tree with a kernel, an initramfs and the given boot loader files. */
export async function liveRootTree(boot: BootLoaderFiles, compression: 'gzip' | 'zstd' = 'zstd'): Promise<Tree> {
  const entries: Array<[string, Node]> = [
    ['etc/hostname', fileNode('live\n')],
    ['etc/os-release', fileNode('PRETTY_NAME="Test live"\n')],
    ['usr/bin/tool', fileNode(blob(200000, 1), 0o755)],
    ['usr/sbin/init', { kind: 'symlink', ...meta(0o777), target: '../lib/systemd/systemd' }],
    ['dev/console', { kind: 'char', ...meta(0o600), major: 5, minor: 1 }],
    [`boot/vmlinuz-${KERNEL_VERSION}`, fileNode(blob(300000, 2))],
    [`boot/initrd.img-${KERNEL_VERSION}`, fileNode(await makeInitrd(compression))],
    [BOOT_FILES.isolinuxBin, fileNode(boot.isolinuxBin)],
    [BOOT_FILES.isohybridMbr, fileNode(boot.isohybridMbr)],
    [BOOT_FILES.ldlinux, fileNode(boot.ldlinux)],
  ];
  if (boot.shim) entries.push([BOOT_FILES.shim, fileNode(boot.shim)]);
  if (boot.grubCd) entries.push([BOOT_FILES.grubCd, fileNode(boot.grubCd)]);
  return treeOf(entries);
}

/** Stand-ins for the boot loader files where only their bytes matter (unit tests). */
export function fakeBootLoaders(): BootLoaderFiles {
  return {
    isolinuxBin: blob(40 * 1024, 11),
    isohybridMbr: blob(512, 12),
    ldlinux: blob(120 * 1024, 13),
    shim: blob(900 * 1024, 14),
    grubCd: blob(1200 * 1024, 15),
  };
}
