/**
 * Live ISO benchmark: the image-assembly stage of `reprimage build` (root tree → live ISO:
 * initramfs repack, SquashFS, ESP, ISO) against `mksquashfs` + `xorriso -as mkisofs` on the same
 * tree, compressor and medium layout, in one run; prints the ratio (target: at most 1.0x).
 *
 *   node dist/bench/live-iso.js [ROOT] [xz|zstd|gzip]
 *
 * ROOT is a root tree holding /boot/vmlinuz-*, /boot/initrd.img-* and the boot loader files
 * (e.g. rootfs.tar of examples/live-minimal with an extra `- type: rootfs` output, unpacked);
 * without it the reference root file system (docs/benchmarks.md) is used with a
 * synthetic kernel and initramfs and the host's isolinux files added. The reference side gets
 * the medium as a directory (kernel, the *unrepacked* initramfs, boot files) and its SquashFS;
 * it does less work than we do (no repack, no ESP), which the comparison accepts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOOT_FILES, writeLiveIso } from '../src/image/live-iso.js';
import { isolinuxCfg, liveCmdline } from '../src/image/boot-menus.js';
import { FileSink } from '../src/io/sink.js';
import { readContent } from '../src/tree/content.js';
import type { SquashfsCompressorName } from '../src/formats/squashfs/index.js';
import { measure, printRatio, referenceRootfs } from './measure.js';
import { loadMksquashfsTree } from './mksquashfs-tree.js';

const EPOCH = 1700000000;

/** Copies what the live ISO needs into ROOT when it lacks it (synthetic kernel + initramfs, host isolinux). */
function ensureBootFiles(root: string, work: string): string {
  if (existsSync(join(root, 'boot')) && readdirSync(join(root, 'boot')).some((n) => n.startsWith('vmlinuz-'))) return root;
  // an overlay directory: the reference tree is read-only for us, so the bench copies it (cp -a) once
  const copy = join(work, 'root');
  execFileSync('cp', ['-a', `${root}/.`, copy]);
  mkdirSync(join(copy, 'boot'), { recursive: true });
  copyFileSync('/usr/lib/ISOLINUX/isolinux.bin', join(copy, 'boot/vmlinuz-6.1.0-99-amd64')); // any bytes do for timing
  const early = join(work, 'early');
  mkdirSync(join(early, 'kernel/x86/microcode'), { recursive: true });
  writeFileSync(join(early, 'kernel/x86/microcode/GenuineIntel.bin'), new Uint8Array(4096).fill(7));
  const cpio = (dir: string) => execFileSync('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc --quiet'], { cwd: dir, maxBuffer: 1 << 30 });
  const main = execFileSync('zstd', ['-q', '-1', '-c'], { input: cpio(join(copy, 'usr/lib')), maxBuffer: 1 << 30 });
  writeFileSync(join(copy, 'boot/initrd.img-6.1.0-99-amd64'), Buffer.concat([cpio(early), main]));
  for (const [key, host] of [['isolinuxBin', '/usr/lib/ISOLINUX/isolinux.bin'], ['isohybridMbr', '/usr/lib/ISOLINUX/isohdpfx.bin'], ['ldlinux', '/usr/lib/syslinux/modules/bios/ldlinux.c32']] as const) {
    mkdirSync(join(copy, BOOT_FILES[key], '..'), { recursive: true });
    copyFileSync(host, join(copy, BOOT_FILES[key]));
  }
  return copy;
}

async function writeChild(root: string, out: string, comp: SquashfsCompressorName): Promise<void> {
  const fh = await open(out, 'w');
  try {
    await writeLiveIso(loadMksquashfsTree(root, EPOCH), new FileSink(fh, out), { name: 'bench', buildTime: EPOCH, seed: 'bench', compressor: comp, workers: 2 });
  } finally {
    await fh.close();
  }
}

/** The reference: mksquashfs of the tree, then xorriso on a medium directory with the same layout. */
async function referenceScript(root: string, work: string, comp: string): Promise<string> {
  const tree = loadMksquashfsTree(root, EPOCH);
  const medium = join(work, 'medium');
  mkdirSync(join(medium, 'live'), { recursive: true });
  mkdirSync(join(medium, 'isolinux'), { recursive: true });
  const boot = readdirSync(join(root, 'boot'));
  const version = boot.filter((n) => n.startsWith('vmlinuz-')).sort().pop()!.slice('vmlinuz-'.length);
  copyFileSync(join(root, `boot/vmlinuz-${version}`), join(medium, 'live/vmlinuz'));
  copyFileSync(join(root, `boot/initrd.img-${version}`), join(medium, 'live/initrd.img'));
  const isolinux = tree.get(BOOT_FILES.isolinuxBin);
  writeFileSync(join(medium, 'isolinux/isolinux.bin'), isolinux?.kind === 'file' ? await readContent(isolinux.content) : readFileSync('/usr/lib/ISOLINUX/isolinux.bin'));
  copyFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32', join(medium, 'isolinux/ldlinux.c32'));
  writeFileSync(join(medium, 'isolinux/isolinux.cfg'), isolinuxCfg({ title: 'bench', cmdline: liveCmdline(undefined) }));
  const script = join(work, 'reference.sh');
  writeFileSync(
    script,
    [
      'set -e',
      `mksquashfs ${root} ${medium}/live/filesystem.squashfs -noappend -comp ${comp} -processors 2 -mkfs-time ${EPOCH} -all-time ${EPOCH} -all-root -no-xattrs -quiet -no-progress`,
      `SOURCE_DATE_EPOCH=${EPOCH} xorriso -as mkisofs -quiet -o ${work}/theirs.iso -R -J -V BENCH -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin ${medium}`,
      '',
    ].join('\n'),
  );
  return script;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'write') return writeChild(rest[0]!, rest[1]!, rest[2] as SquashfsCompressorName);
  const comp = (rest[0] ?? 'xz') as SquashfsCompressorName;
  let root = mode || referenceRootfs();
  const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-live-'));
  try {
    root = ensureBootFiles(root, work);
    const script = await referenceScript(root, work, comp);
    console.log(`live ISO, ${comp}, root ${root}; ${execFileSync('uptime').toString().trim()}`);
    const ours = join(work, 'ours.iso');
    const a = measure(`reprimage live ISO (${comp})`, [process.execPath, fileURLToPath(import.meta.url), 'write', root, ours, comp], 1);
    const b = measure(`mksquashfs + xorriso (${comp})`, ['sh', script], 1);
    printRatio(a, b, `, ${(statSync(ours).size / statSync(join(work, 'theirs.iso')).size).toFixed(4)}x size (${statSync(ours).size} vs ${statSync(join(work, 'theirs.iso')).size} bytes)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
