/**
 * The cloud / virtual-machine disk: an installed Debian system on a GPT disk that boots with
 * BIOS and UEFI, assembled from a root tree with reprimage's own writers (docs/cloud-disk.md):
 *
 *   MBR         GRUB's boot.img (from grub-pc-bin), patched as grub-bios-setup would
 *   p1 bios     BIOS boot partition: core.img made by the tree's grub-mkimage, embedded
 *   p2 esp      FAT: EFI/boot/bootx64.efi (shim) + grubx64.efi (Debian's signed GRUB) + grub.cfg
 *   p3…         extra partitions from the recipe (/boot, swap, …)
 *   last root   ext4 of the root tree; grows to the disk on first boot (systemd-repart + growfs)
 *
 * The root tree gets the installed-system fix-ups: /etc/fstab by the seeded file-system UUIDs,
 * /boot/grub/grub.cfg, the initramfs repacked deterministically, machine-id `uninitialized`,
 * /etc/repart.d for the growth. Every identifier comes from the seed, every time from
 * SOURCE_DATE_EPOCH. The tree passed in is not changed (changed directories are copied).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { partitionTypeGuid, protectiveMbr } from '../formats/gpt/index.js';
import type { Sink } from '../io/sink.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import { stageTimer } from '../stage-timer.js';
import { bytesContent, readContent } from '../tree/content.js';
import { deriveU32, deriveUuid } from '../tree/identifiers.js';
import { compareNames } from '../tree/names.js';
import { Tree, type DirNode, type FileNode, type Meta, type Node } from '../tree/tree.js';
import { writeDisk, type DiskPartitionSpec, type DiskReport } from './disk.js';
import { grubBiosSetup } from './grub-bios-setup.js';
import { makeGrubCoreImage } from './grub-mkimage.js';
import { repackInitramfs } from './initramfs-repack.js';
import { BOOT_FILES } from './live-iso.js';

const SECTOR = 512;
const MIB = 1 << 20;

/** An extra partition between the ESP and the root file system. */
export interface ExtraPartition {
  /** `swap`, or an ext4 file system mounted here (its part of the root tree moves into it). */
  mountpoint: string;
  /** Bytes, a multiple of 1 MiB. */
  size: number;
}

export interface CloudDiskOptions {
  /** Menu title and GRUB entry name. */
  name: string;
  /** Derives every GUID, UUID and serial. */
  seed: string;
  buildTime: number;
  /** Whole disk in bytes (a multiple of 1 MiB); the root partition takes what the others leave. */
  size: number;
  /** Default 64 MiB. */
  espSize?: number;
  /** Default 1 MiB. */
  biosBootSize?: number;
  /** Which firmware boots it; default both. */
  bios?: boolean;
  uefi?: boolean;
  partitions?: readonly ExtraPartition[];
  /** Words after `root=UUID=… ro`; default `console=tty0 console=ttyS0,115200`. */
  kernelCmdline?: string;
  /** Grow the root partition and file system to the disk on first boot; default true. */
  growRoot?: boolean;
  tempDir?: string;
  workers?: number;
  subject?: string;
  warn?: (message: string) => void;
}

export interface CloudDiskReport {
  disk: DiskReport;
  kernelVersion: string;
  rootUuid: string;
  rootPartUuid: string;
  coreSectors?: number;
  initramfsSegments: string[];
  timings: Record<string, number>;
}

export const DEFAULT_DISK_CMDLINE = 'console=tty0 console=ttyS0,115200';

/** Type names (docs: DPS) of the partitions a recipe may add, by mount point. */
const MOUNT_TYPES: Record<string, string> = { '/boot': 'xbootldr', '/home': 'home', '/srv': 'srv', '/var': 'var', '/var/tmp': 'tmp', swap: 'swap' };

interface Planned {
  role: 'bios' | 'esp' | 'extra' | 'root';
  type: string;
  size: number;
  offset: number;
  partUuid: string;
  mountpoint?: string;
}

/**
 * The identifiers `writeDisk` derives (src/image/disk.ts): a partition's UUID from its type and
 * rank among partitions of that type, a file system's from its partition's UUID. Predicted here
 * because the ESP, core.img and fstab must name them before the disk is written; checked after.
 */
function partitionUuid(seed: string, typeGuid: string, rank: number): string {
  return deriveUuid(seed, `disk partition ${typeGuid} ${rank}`);
}
function ext4Uuid(seed: string, partUuid: string): string {
  return deriveUuid(seed, `disk partition ${partUuid} ext4 uuid`);
}
function fatSerial(seed: string, partUuid: string): string {
  const n = deriveU32(seed, `disk partition ${partUuid} fat volume serial`);
  return n.toString(16).padStart(8, '0').replace(/^(....)/, '$1-').toUpperCase();
}

function plan(o: CloudDiskOptions): Planned[] {
  const bios = o.bios ?? true;
  const uefi = o.uefi ?? true;
  if (!bios && !uefi) throw new ReprimageError('USAGE', 'boot', 'the disk needs at least one of bios and uefi');
  const parts: Array<Omit<Planned, 'offset' | 'partUuid'>> = [];
  if (bios) parts.push({ role: 'bios', type: 'bios-boot', size: o.biosBootSize ?? MIB });
  if (uefi) parts.push({ role: 'esp', type: 'esp', size: o.espSize ?? 64 * MIB });
  for (const p of o.partitions ?? []) {
    const type = MOUNT_TYPES[p.mountpoint] ?? 'linux-generic';
    parts.push({ role: 'extra', type, size: p.size, mountpoint: p.mountpoint });
  }
  // the root partition is last so that it can grow into the rest of a larger disk
  const head = MIB;
  const tail = MIB;
  const used = parts.reduce((n, p) => n + p.size, 0);
  for (const p of parts) {
    if (p.size <= 0 || p.size % MIB !== 0) throw new ReprimageError('USAGE', `${p.mountpoint ?? p.role} size`, `must be a positive multiple of 1 MiB, got ${p.size}`);
  }
  if (o.size % MIB !== 0) throw new ReprimageError('USAGE', 'size', `the disk size must be a multiple of 1 MiB, got ${o.size}`);
  const rootSize = o.size - head - used - tail;
  if (rootSize < 16 * MIB) throw new ReprimageError('USAGE', 'size', `a disk of ${o.size} bytes leaves ${Math.max(rootSize, 0)} bytes for the root file system; make it larger`);
  parts.push({ role: 'root', type: 'root-x86-64', size: rootSize });
  const rank = new Map<string, number>();
  let offset = head;
  return parts.map((p) => {
    const typeGuid = partitionTypeGuid(p.type, `${p.role} type`);
    const k = rank.get(typeGuid) ?? 0;
    rank.set(typeGuid, k + 1);
    const planned = { ...p, offset, partUuid: partitionUuid(o.seed, typeGuid, k) };
    offset += p.size;
    return planned;
  });
}

/** A copy of the tree whose directories are new objects and whose other nodes are shared. */
function copyDirectories(tree: Tree): Tree {
  const copy = (dir: DirNode): DirNode => ({ ...dir, xattrs: new Map(dir.xattrs), children: new Map([...dir.children].map(([k, v]) => [k, v.kind === 'dir' ? copy(v) : v])) });
  return new Tree(copy(tree.root));
}

function findKernel(tree: Tree, warn: (m: string) => void): { version: string; kernel: FileNode; initrd: FileNode } {
  const boot = tree.get('boot');
  const versions = boot?.kind === 'dir' ? [...boot.children.keys()].filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length)).sort(compareNames) : [];
  const version = versions[versions.length - 1];
  if (version === undefined) throw new ReprimageError('NOT_FOUND', '/boot/vmlinuz-*', 'no kernel in the root tree (add linux-image-cloud-amd64 or linux-image-amd64 to the recipe)');
  if (versions.length > 1) warn(`disk: several kernels in /boot; the menu boots ${version}`);
  const kernel = tree.get(`boot/vmlinuz-${version}`);
  const initrd = tree.get(`boot/initrd.img-${version}`);
  if (kernel?.kind !== 'file') throw new ReprimageError('NOT_FOUND', `/boot/vmlinuz-${version}`, 'the kernel is not a regular file');
  if (initrd?.kind !== 'file') throw new ReprimageError('NOT_FOUND', `/boot/initrd.img-${version}`, 'no initramfs for the kernel (add initramfs-tools to the recipe)');
  return { version, kernel, initrd };
}

function requiredFile(tree: Tree, path: string, what: string): FileNode {
  let node = tree.get(path);
  for (let hops = 0; node?.kind === 'symlink' && hops < 8; hops++) {
    const base = path.split('/').slice(0, -1);
    const parts = node.target.startsWith('/') ? node.target.split('/') : [...base, ...node.target.split('/')];
    const out: string[] = [];
    for (const p of parts) if (p === '..') out.pop(); else if (p !== '' && p !== '.') out.push(p);
    path = out.join('/');
    node = tree.get(path);
  }
  if (node?.kind !== 'file') throw new ReprimageError('NOT_FOUND', `/${path}`, `${what} is missing from the root tree (add its package to the recipe)`);
  return node;
}

/** The GRUB menu on the file system that holds the kernels. */
export function diskGrubCfg(v: { title: string; bootUuid: string; kernel: string; initrd: string; cmdline: string }): string {
  const title = v.title.replace(/[\r\n"'\\$]/g, '_');
  return [
    '# written by reprimage (docs/cloud-disk.md)',
    'set default=0',
    'set timeout=1',
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    `search --no-floppy --fs-uuid --set=root ${v.bootUuid}`,
    `menuentry '${title}' {`,
    `\tlinux ${v.kernel} ${v.cmdline}`,
    `\tinitrd ${v.initrd}`,
    '}',
    '',
  ].join('\n');
}

/** What the ESP's GRUB and core.img run first: find the file system with the menu and read it. */
export function grubFinder(bootUuid: string, prefix: string, load: boolean): string {
  const lines = [`search --no-floppy --fs-uuid --set=root ${bootUuid}`, `set prefix=($root)${prefix}`];
  if (load) lines.push('configfile $prefix/grub.cfg');
  return lines.join('\n') + '\n';
}

/** /etc/fstab of the installed system. */
export function diskFstab(entries: Array<{ spec: string; file: string; type: string; options: string; pass: number }>): string {
  const lines = ['# /etc/fstab: written by reprimage (docs/cloud-disk.md); file systems by their seeded UUIDs'];
  for (const e of entries) lines.push(`${e.spec}\t${e.file}\t${e.type}\t${e.options}\t0\t${e.pass}`);
  return lines.join('\n') + '\n';
}

/** The Linux swap signature (version 1) for a partition of `size` bytes, 4 KiB pages. */
export function swapHeader(size: number, uuid: string): Uint8Array {
  const page = 4096;
  const h = new Uint8Array(page);
  const v = new DataView(h.buffer);
  v.setUint32(1024, 1, true); // version
  v.setUint32(1028, size / page - 1, true); // last page
  h.set(Buffer.from(uuid.replace(/-/g, ''), 'hex'), 1024 + 12);
  h.set(new TextEncoder().encode('SWAPSPACE2'), page - 10);
  return h;
}

/** A partition's content that does not fit, said in the recipe's terms (which key to raise). */
function tooSmall(e: unknown, parts: readonly Planned[], subject: string): unknown {
  const n = e instanceof ReprimageError && e.code === 'USAGE' ? /partition (\d+)/.exec(e.subject) : null;
  const p = n ? parts[Number(n[1]) - 1] : undefined;
  if (!p || !(e instanceof ReprimageError)) return e;
  const what = p.role === 'root' ? 'the root file system (raise size)' : p.role === 'esp' ? 'the ESP (raise esp_size)' : `the partition ${p.mountpoint ?? p.role} (raise its size)`;
  const detail = e.detail.replace(/^.*partition \d+: /, '').replace(/; give a larger --size$/, '');
  return new ReprimageError('USAGE', subject, `${what} is too small: ${detail}`, { cause: e });
}

/**
 * Writes the disk to `sink` (a seekable file, empty). Errors: NOT_FOUND for a missing kernel,
 * initramfs or boot loader file (naming its package), USAGE for a layout that cannot hold the
 * tree (naming the partition).
 */
export async function writeCloudDisk(source: Tree, sink: Sink, o: CloudDiskOptions): Promise<CloudDiskReport> {
  const warn = o.warn ?? (() => {});
  const epoch = o.buildTime;
  const { timings, stage } = stageTimer();
  const parts = plan(o);
  const root = parts[parts.length - 1]!;
  const bootPart = parts.find((p) => p.mountpoint === '/boot');
  const esp = parts.find((p) => p.role === 'esp');
  const bios = parts.find((p) => p.role === 'bios');
  const rootUuid = ext4Uuid(o.seed, root.partUuid);
  const bootUuid = bootPart ? ext4Uuid(o.seed, bootPart.partUuid) : rootUuid;
  const bootDir = bootPart ? '' : '/boot';

  const tree = copyDirectories(source);
  const { version, initrd } = findKernel(tree, warn);
  const shim = esp ? requiredFile(tree, BOOT_FILES.shim, 'shim (package shim-signed)') : undefined;
  const grubEfi = esp ? requiredFile(tree, 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed', 'the signed GRUB (package grub-efi-amd64-signed)') : undefined;
  const bootImg = bios ? requiredFile(tree, 'usr/lib/grub/i386-pc/boot.img', 'GRUB boot.img (package grub-pc-bin)') : undefined;

  const meta = (mode: number): Meta => ({ mode, uid: 0, gid: 0, mtime: { sec: epoch, nsec: 0 }, xattrs: new Map() });
  const text = (s: string, mode = 0o644): Node => ({ kind: 'file', ...meta(mode), content: bytesContent(new TextEncoder().encode(s)) });

  // installed-system fix-ups
  const repacked = await repackInitramfs(await readContent(initrd.content), `/boot/initrd.img-${version}`, epoch);
  tree.set(`boot/initrd.img-${version}`, { ...initrd, mtime: { sec: Math.min(initrd.mtime.sec, epoch), nsec: 0 }, content: bytesContent(repacked.bytes, `/boot/initrd.img-${version} (repacked)`) });
  stage('initramfs');
  const cmdline = `root=UUID=${rootUuid} ro ${o.kernelCmdline ?? DEFAULT_DISK_CMDLINE}`.trim();
  tree.set('boot/grub/grub.cfg', text(diskGrubCfg({ title: o.name, bootUuid, kernel: `${bootDir}/vmlinuz-${version}`, initrd: `${bootDir}/initrd.img-${version}`, cmdline })), meta(0o755));
  const fstab = [{ spec: `UUID=${rootUuid}`, file: '/', type: 'ext4', options: `rw,discard,errors=remount-ro${o.growRoot === false ? '' : ',x-systemd.growfs'}`, pass: 1 }];
  for (const p of parts.filter((q) => q.role === 'extra')) {
    if (p.mountpoint === 'swap') fstab.push({ spec: `UUID=${p.partUuid}`, file: 'none', type: 'swap', options: 'sw', pass: 0 });
    else fstab.push({ spec: `UUID=${ext4Uuid(o.seed, p.partUuid)}`, file: p.mountpoint!, type: 'ext4', options: 'rw,discard', pass: 2 });
  }
  if (esp) fstab.push({ spec: `UUID=${fatSerial(o.seed, esp.partUuid)}`, file: '/boot/efi', type: 'vfat', options: 'umask=0077', pass: 1 });
  tree.set('etc/fstab', text(diskFstab(fstab)), meta(0o755));
  tree.set('etc/machine-id', text('uninitialized\n', 0o444), meta(0o755));
  if (o.growRoot !== false) {
    // systemd-repart grows the last (root) partition into free space; growfs follows via fstab
    tree.set('etc/repart.d/50-root.conf', text('[Partition]\nType=root\n'), meta(0o755));
  }
  const mountDir = (path: string) => {
    const old = tree.get(path);
    tree.set(path, { kind: 'dir', ...(old && old.kind === 'dir' ? { ...old, xattrs: new Map(old.xattrs) } : meta(0o755)), children: new Map() }, meta(0o755));
    return old;
  };
  if (esp) mountDir('boot/efi');
  const extraTrees = new Map<Planned, Tree>();
  for (const p of parts.filter((q) => q.role === 'extra' && q.mountpoint !== 'swap')) {
    const path = p.mountpoint!.replace(/^\/+|\/+$/g, '');
    const old = tree.get(path);
    if (old !== undefined && old.kind !== 'dir') throw new ReprimageError('USAGE', `partitions ${p.mountpoint}`, `is a ${old.kind} in the root tree, not a directory`);
    const moved = old?.kind === 'dir' ? old : { kind: 'dir' as const, ...meta(0o755), children: new Map<string, Node>() };
    // the partition's tree: the directory's contents; the root keeps the empty mount point
    extraTrees.set(p, new Tree({ ...moved, children: new Map(moved.children) }));
    mountDir(path);
  }
  stage('fixups');

  const scratch = await makeTemporaryDirectory('reprimage-disk-', o.tempDir);
  try {
    const totalSectors = o.size / SECTOR;
    let mbr: Uint8Array | undefined;
    let coreSectors: number | undefined;
    const specs: DiskPartitionSpec[] = [];
    for (const p of parts) {
      const base = { type: p.type, size: p.size };
      if (p.role === 'bios') {
        const core = await makeGrubCoreImage(tree, { config: grubFinder(bootUuid, `${bootDir}/grub`, false), prefix: `${bootDir}/grub`, workDir: join(scratch.path, 'grub') });
        const setup = grubBiosSetup({
          bootImg: await readContent(bootImg!.content), coreImg: core, sector0: protectiveMbr(totalSectors),
          partitionLba: p.offset / SECTOR, partitionSectors: p.size / SECTOR, subject: 'core.img',
        });
        mbr = setup.mbr;
        coreSectors = setup.coreSectors;
        const path = join(scratch.path, 'embedded-core.img');
        await writeFile(path, setup.embedded);
        specs.push({ ...base, content: { kind: 'file', path } });
      } else if (p.role === 'esp') {
        const espTree = new Tree({ kind: 'dir', ...meta(0o755), children: new Map() });
        espTree.set('EFI/boot/bootx64.efi', { kind: 'file', ...meta(0o755), content: shim!.content }, meta(0o755));
        espTree.set('EFI/boot/grubx64.efi', { kind: 'file', ...meta(0o755), content: grubEfi!.content }, meta(0o755));
        // the signed GRUB reads $prefix/grub.cfg (prefix /EFI/debian), else the one beside it
        const finder = grubFinder(bootUuid, `${bootDir}/grub`, true);
        espTree.set('EFI/boot/grub.cfg', text(finder), meta(0o755));
        espTree.set('EFI/debian/grub.cfg', text(finder), meta(0o755));
        specs.push({ ...base, content: { kind: 'fat', tree: espTree, label: 'EFI' } });
      } else if (p.mountpoint === 'swap') {
        const path = join(scratch.path, `swap-${p.offset}`);
        await writeFile(path, swapHeader(p.size, p.partUuid));
        specs.push({ ...base, content: { kind: 'file', path } });
      } else if (p.role === 'extra') {
        specs.push({ ...base, content: { kind: 'ext4', tree: extraTrees.get(p)!, label: p.mountpoint!.replace(/^\//, '').slice(0, 16) } });
      } else {
        specs.push({ ...base, attributes: o.growRoot === false ? [] : ['grow-file-system'], content: { kind: 'ext4', tree, label: 'root' } });
      }
    }
    stage('boot');

    const disk = await writeDisk(sink, { partitions: specs, seed: o.seed, buildTime: epoch, size: o.size, workers: o.workers, warn, subject: o.subject }).catch((e: unknown) => {
      throw tooSmall(e, parts, o.subject ?? 'disk');
    });
    // the identifiers named in fstab, grub.cfg and core.img must be the ones written
    for (const [i, p] of parts.entries()) {
      const r = disk.partitions[i]!;
      if (r.offset !== p.offset || r.uuid !== p.partUuid) throw new ReprimageError('TOOL', o.subject ?? 'disk', `internal: partition ${i + 1} was laid out at ${r.offset} (${r.uuid}), not at ${p.offset} (${p.partUuid})`);
    }
    if (disk.partitions[parts.length - 1]!.filesystemId !== rootUuid) throw new ReprimageError('TOOL', o.subject ?? 'disk', 'internal: the root file system UUID differs from the one fstab names');
    if (mbr) await sink.writeAt(0, mbr);
    await sink.flush();
    stage('disk');
    return { disk, kernelVersion: version, rootUuid, rootPartUuid: root.partUuid, coreSectors, initramfsSegments: repacked.segments, timings };
  } finally {
    await scratch.remove();
  }
}
