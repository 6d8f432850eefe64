/**
 * VM image formats: writing qcow2, VHD and VMDK from a raw disk image, reprimage (convertDisk,
 * one process per conversion, start-up included) against `qemu-img convert` on the same input,
 * in one run, alternating (ours, qemu-img + sync, qemu-img, ours, …; every run writes a new file);
 * the median of each is printed with the ratio, and whether qemu-img compare finds both outputs
 * equal to the raw disk. Ours reads only the raw image's data (its holes located by filefrag,
 * src/io/data-ranges.ts), as qemu-img does with SEEK_DATA.
 *
 *   node dist/bench/vm-formats.js [TREE | --raw IMAGE]
 *   BENCH_PAIRS=N    runs of each per format (default 3)
 *   BENCH_FORMATS=a,b  only these cases (qcow2, qcow2-compressed, vhd, vhd-dynamic, vmdk)
 *
 * Without --raw the raw disk is made by `reprimage disk` from TREE (an ESP and an ext4 root;
 * default the reference root file system, docs/benchmarks.md). `--raw out/disk.img` measures the
 * example's 2 GiB cloud disk (docs/cloud-disk.md). Ours flushes its output to the disk before
 * renaming it into place (docs/design.md rule 7) and qemu-img does not: the ratio against
 * "qemu-img + sync" (sync(1) of the output) compares the same work, the one against qemu-img
 * alone is printed too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, printRatio, referenceRootfs, type Measurement } from './measure.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUN = fileURLToPath(new URL('./convert-disk-run.js', import.meta.url));
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);

const out = mkdtempSync(join(tmpdir(), 'reprimage-bench-vm-'));
try {
  let raw: string;
  if (process.argv[2] === '--raw') {
    raw = process.argv[3]!;
  } else {
    const tree = process.argv[2] ?? referenceRootfs();
    const esp = join(out, 'esp');
    mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
    writeFileSync(join(esp, 'EFI/BOOT/BOOTX64.EFI'), 'loader');
    raw = join(out, 'disk.img');
    const made = spawnSync(process.execPath, [CLI, 'disk', '-o', raw, '--source-date-epoch', '1700000000', '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${tree}`, '-q'], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('reprimage disk failed');
  }
  const du = spawnSync('du', ['-k', raw], { encoding: 'utf8' }).stdout.split('\t')[0];
  console.log(`raw disk ${raw}: ${statSync(raw).size} bytes, ${du} KiB allocated; ${PAIRS} runs of each, alternating\n`);
  const cases: Array<[string, string, string[], string]> = [
    ['qcow2', 'qcow2', ['-O', 'qcow2'], 'qcow2'],
    ['qcow2 compressed', 'qcow2', ['-c', '-O', 'qcow2'], 'qcow2'],
    ['vhd fixed', 'vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size'], 'vpc'],
    ['vhd dynamic', 'vhd-dynamic', ['-O', 'vpc', '-o', 'force_size'], 'vpc'],
    ['vmdk streamOptimized', 'vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized'], 'vmdk'],
  ];
  const only = process.env.BENCH_FORMATS?.split(',');
  for (const [label, format, qemuArgs, qemuFormat] of cases) {
    if (only && !only.includes(label.replace(/ (fixed|streamOptimized)$/, '').replace(/ /g, '-'))) continue;
    const ours = join(out, `ours.${format}`);
    const theirs = join(out, `qemu.${format}`);
    const compress = label.includes('compressed') ? ['compress'] : [];
    const runs: { r: Measurement[]; qs: Measurement[]; q: Measurement[] } = { r: [], qs: [], q: [] };
    const loads: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      loads.push(loadavg()[0]!);
      // each run writes a new file, as a build does: replacing the last run's output would add
      // freeing it (hundreds of MB) to whichever tool replaces it, at a point that differs (ours
      // renames over it at the end, qemu-img truncates it at the start)
      rmSync(ours, { force: true });
      runs.r.push(measure(`reprimage (${label})`, [process.execPath, RUN, raw, format, ours, ...compress], 1));
      rmSync(theirs, { force: true });
      runs.qs.push(measure(`qemu-img + sync (${label})`, ['sh', '-c', 'out=$1; shift; qemu-img convert -f raw "$@" && sync "$out"', 'sh', theirs, ...qemuArgs, raw, theirs], 1));
      rmSync(theirs, { force: true });
      runs.q.push(measure(`qemu-img convert (${label})`, ['qemu-img', 'convert', '-f', 'raw', ...qemuArgs, raw, theirs], 1));
    }
    const median = (list: Measurement[]) => [...list].sort((a, b) => a.seconds - b.seconds)[Math.floor(list.length / 2)]!;
    const same = (p: string) => spawnSync('qemu-img', ['compare', '-q', '-f', 'raw', '-F', qemuFormat, raw, p]).status === 0;
    printRatio(median(runs.r), median(runs.qs), ' (against qemu-img + sync)');
    printRatio(median(runs.r), median(runs.q), `; sizes ${statSync(ours).size} / ${statSync(theirs).size} bytes; equal to the raw disk: ours ${same(ours) ? 'yes' : 'NO'}, qemu ${same(theirs) ? 'yes' : 'NO'}`);
    console.log(`load average during the runs: ${loads.map((l) => l.toFixed(1)).join(', ')}\n`);
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
