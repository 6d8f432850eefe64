/**
 * ISO 9660 benchmark: `reprimage pack DIR -o OUT.iso` against `xorriso -as mkisofs` on the same
 * tree, in one run, both under SOURCE_DATE_EPOCH, both with Rock Ridge, Joliet, an El Torito BIOS
 * (boot info table) + UEFI catalog, an isohybrid MBR and a GPT; and `cat` of the same payload
 * into one file, the floor any ISO writer has to pay. Two trees:
 *
 *   live:    live/filesystem.squashfs of 1 GiB (the reference root file system by mksquashfs,
 *            then random bytes up to the size: readers ignore what follows bytes_used), plus
 *            boot files (isolinux, a 40 MiB kernel + initrd stand-in, efi.img);
 *   rootfs:  the reference root file system (many small files) plus the same boot files.
 *
 * Prints wall and CPU time and peak memory of each, the ratios to xorriso and to cat; median of
 * ROUNDS (5) interleaved runs.
 *   node dist/bench/iso.js [live|rootfs]…     (SIZE_MIB=1024 by default)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, statSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { referenceRootfs } from './measure.js';

interface Run {
  label: string;
  wall: number;
  cpu: number;
  peakMiB: number;
}

/**
 * Runs each command `rounds` times, interleaved (A B C A B C …) so that load from other
 * processes on the machine falls on all of them alike; the output file is removed before each
 * run. Reports the median wall time, and CPU time (user + sys), which load disturbs less.
 */
function measureInterleaved(commands: Array<{ label: string; argv: string[]; output: string }>, rounds: number, env: NodeJS.ProcessEnv): Run[] {
  const all = commands.map(() => [] as Run[]);
  for (let round = 0; round < rounds; round++) {
    commands.forEach((c, i) => {
      rmSync(c.output, { force: true });
      const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %M', ...c.argv], { env, maxBuffer: 1 << 26 });
      const stderr = String(r.stderr);
      if (r.status !== 0) throw new Error(`${c.label} failed (${r.status}): ${stderr}`);
      const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(stderr);
      if (!m) throw new Error(`${c.label}: no timing in ${stderr}`);
      all[i]!.push({ label: c.label, wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), peakMiB: Number(m[4]) / 1024 });
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return all.map((runs) => ({ label: runs[0]!.label, wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), peakMiB: median(runs.map((r) => r.peakMiB)) }));
}

const EPOCH = '1700000000';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ISOLINUX = '/usr/lib/ISOLINUX/isolinux.bin';
const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';
const LDLINUX = '/usr/lib/syslinux/modules/bios/ldlinux.c32';

function randomFile(path: string, bytes: number, append = false): void {
  const fd = openSync(path, append ? 'a' : 'w');
  const chunk = Buffer.alloc(4 << 20);
  try {
    for (let left = bytes; left > 0; left -= chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    }
  } finally {
    closeSync(fd);
  }
}

/** isolinux, ldlinux, a kernel + initrd stand-in and an efi.img, as a live ISO carries them. */
function addBootFiles(src: string): void {
  mkdirSync(join(src, 'isolinux'), { recursive: true });
  mkdirSync(join(src, 'boot/grub'), { recursive: true });
  copyFileSync(ISOLINUX, join(src, 'isolinux/isolinux.bin'));
  copyFileSync(LDLINUX, join(src, 'isolinux/ldlinux.c32'));
  execFileSync('sh', ['-c', `printf 'default live\\nlabel live\\n  kernel /live/vmlinuz\\n' > ${join(src, 'isolinux/isolinux.cfg')}`]);
  mkdirSync(join(src, 'live'), { recursive: true });
  randomFile(join(src, 'live/vmlinuz'), 8 << 20);
  randomFile(join(src, 'live/initrd.img'), 32 << 20);
  execFileSync('mkfs.fat', ['-C', '--invariant', '-n', 'ESP', join(src, 'boot/grub/efi.img'), '4096'], { stdio: 'ignore' });
}

function liveTree(work: string, rootfs: string, sizeMiB: number): string {
  const src = join(work, 'live-src');
  addBootFiles(src);
  const sqfs = join(src, 'live/filesystem.squashfs');
  execFileSync('mksquashfs', [rootfs, sqfs, '-noappend', '-comp', 'gzip', '-quiet', '-no-progress', '-processors', '2'], { stdio: 'ignore' });
  const have = statSync(sqfs).size;
  randomFile(sqfs, Math.max(0, sizeMiB * 1048576 - have), true);
  return src;
}

function rootfsTree(work: string, rootfs: string): string {
  const src = join(work, 'rootfs-src');
  execFileSync('cp', ['-a', rootfs, src]);
  addBootFiles(src);
  return src;
}

function bootArgsXorriso(): string[] {
  return [
    '-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-eltorito-alt-boot', '-e', 'boot/grub/efi.img', '-no-emul-boot', '-isohybrid-mbr', ISOHDPFX, '-isohybrid-gpt-basdat',
  ];
}

function bench(name: string, src: string, work: string): void {
  const env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH };
  const payload = Number(execFileSync('du', ['-sb', '--apparent-size', src]).toString().split('\t')[0]);
  const files = Number(execFileSync('sh', ['-c', `find ${src} | wc -l`]).toString().trim());
  console.log(`\n== ${name}: ${(payload / 1048576).toFixed(0)} MiB in ${files} entries (${src})`);
  const ours = join(work, `${name}-reprimage.iso`);
  const theirs = join(work, `${name}-xorriso.iso`);
  const catOut = join(work, `${name}-cat.bin`);
  const rounds = Number(process.env.ROUNDS ?? 5);
  const results = measureInterleaved([
    { label: 'reprimage pack', output: ours, argv: [process.execPath, CLI, 'pack', src, '-o', ours, '--no-xattrs', '--volid', 'LIVE',
      '--bios-boot', 'isolinux/isolinux.bin', '--efi-boot', 'boot/grub/efi.img', '--hybrid-mbr', ISOHDPFX, '--gpt'] },
    { label: 'xorriso -as mkisofs', output: theirs, argv: ['xorriso', '-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'LIVE', ...bootArgsXorriso(), '-o', theirs, src] },
    { label: 'cat (payload)', output: catOut, argv: ['sh', '-c', 'find "$0" -type f -print0 | sort -z | xargs -0 cat > "$1"', src, catOut] },
  ], rounds, env);
  const [r, x, c] = results as [Run, Run, Run];
  console.log(`median of ${rounds} interleaved runs; load average before: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`);
  for (const m of results) console.log(`${m.label.padEnd(22)} ${m.wall.toFixed(2).padStart(7)} s wall ${m.cpu.toFixed(2).padStart(7)} s cpu ${m.peakMiB.toFixed(0).padStart(6)} MiB`);
  console.log(`sizes: reprimage ${statSync(ours).size} bytes, xorriso ${statSync(theirs).size} bytes`);
  console.log(`ratio reprimage / xorriso: ${(r.wall / x.wall).toFixed(2)}x wall, ${(r.cpu / x.cpu).toFixed(2)}x cpu (target <= 1.0x)`);
  console.log(`ratio reprimage / cat:     ${(r.wall / c.wall).toFixed(2)}x wall, ${(r.cpu / c.cpu).toFixed(2)}x cpu (target <= 1.3x)`);
  console.log(`ratio xorriso / cat:       ${(x.wall / c.wall).toFixed(2)}x wall, ${(x.cpu / c.cpu).toFixed(2)}x cpu`);
  for (const f of [ours, theirs, catOut]) rmSync(f, { force: true });
}

function main(): void {
  for (const tool of ['xorriso', 'mksquashfs', 'mkfs.fat']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`bench/iso needs ${tool} (.ci/run installs it)`);
    }
  }
  const which = process.argv.slice(2);
  const cases = which.length > 0 ? which : ['live', 'rootfs'];
  const rootfs = referenceRootfs();
  const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'reprimage-bench-iso-'));
  try {
    for (const c of cases) {
      if (c === 'live') bench('live', liveTree(work, rootfs, Number(process.env.SIZE_MIB ?? 1024)), work);
      else if (c === 'rootfs') bench('rootfs', rootfsTree(work, rootfs), work);
      else throw new Error(`unknown case ${c} (live, rootfs)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
