/**
 * VM image formats: writing qcow2, VHD and VMDK from a raw disk image, reprimage (convertDisk,
 * one process per conversion, start-up included) against `qemu-img convert` on the same input,
 * in one run; ratio printed, and whether qemu-img compare finds both outputs equal to the raw disk.
 *   node dist/bench/vm-formats.js [TREE]    (default: the reference root file system of ../shared/bench)
 * The raw disk is made by `reprimage disk` from the tree (an ESP and an ext4 root).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, printRatio, referenceRootfs } from './measure.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUN = fileURLToPath(new URL('./convert-disk-run.js', import.meta.url));

const tree = process.argv[2] ?? referenceRootfs();
const out = mkdtempSync(join(tmpdir(), 'reprimage-bench-vm-'));
try {
  const esp = join(out, 'esp');
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  writeFileSync(join(esp, 'EFI/BOOT/BOOTX64.EFI'), 'loader');
  const raw = join(out, 'disk.img');
  const made = spawnSync(process.execPath, [CLI, 'disk', '-o', raw, '--source-date-epoch', '1700000000', '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${tree}`, '-q'], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error('reprimage disk failed');
  const du = spawnSync('du', ['-k', raw], { encoding: 'utf8' }).stdout.split('\t')[0];
  console.log(`raw disk from ${tree}: ${statSync(raw).size} bytes, ${du} KiB allocated\n`);
  const cases: Array<[string, string, string[], string]> = [
    ['qcow2', 'qcow2', ['-O', 'qcow2'], 'qcow2'],
    ['qcow2 compressed', 'qcow2', ['-c', '-O', 'qcow2'], 'qcow2'],
    ['vhd fixed', 'vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size'], 'vpc'],
    ['vhd dynamic', 'vhd-dynamic', ['-O', 'vpc', '-o', 'force_size'], 'vpc'],
    ['vmdk streamOptimized', 'vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized'], 'vmdk'],
  ];
  for (const [label, format, qemuArgs, qemuFormat] of cases) {
    const ours = join(out, `ours.${format}`);
    const theirs = join(out, `qemu.${format}`);
    const compress = label.includes('compressed') ? ['compress'] : [];
    const q = measure(`qemu-img convert (${label})`, ['qemu-img', 'convert', '-f', 'raw', ...qemuArgs, raw, theirs]);
    // ours flushes its output to the disk before renaming it into place (DESIGN.md rule 7): qemu-img then sync(1) does as much
    const qs = measure(`qemu-img + sync (${label})`, ['sh', '-c', 'out=$1; shift; qemu-img convert -f raw "$@" && sync "$out"', 'sh', theirs, ...qemuArgs, raw, theirs]);
    const r = measure(`reprimage (${label})`, [process.execPath, RUN, raw, format, ours, ...compress]);
    const same = (p: string) => spawnSync('qemu-img', ['compare', '-q', '-f', 'raw', '-F', qemuFormat, raw, p]).status === 0;
    printRatio(r, qs, ' (against qemu-img + sync)');
    printRatio(r, q, `; sizes ${statSync(ours).size} / ${statSync(theirs).size} bytes; equal to the raw disk: ours ${same(ours) ? 'yes' : 'NO'}, qemu ${same(theirs) ? 'yes' : 'NO'}`);
    console.log();
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
