/**
 * Runs a command under /usr/bin/time and reports its wall time and peak resident memory. Used by
 * every benchmark so that ours and the reference tool are measured the same way, in one run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Measurement {
  label: string;
  seconds: number;
  /** CPU seconds (user + system) of that run; less disturbed by other load than wall time. */
  cpu: number;
  peakMiB: number;
}

/** The median of `runs` runs of `argv` (wall seconds and peak RSS of that run). */
export function measure(label: string, argv: string[], runs = 3, env: NodeJS.ProcessEnv = process.env): Measurement {
  if (!existsSync('/usr/bin/time')) throw new Error('bench needs /usr/bin/time (apt-get install time)');
  const results: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %M %U %S', ...argv], { env, maxBuffer: 1 << 26 });
    const stderr = String(r.stderr);
    if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${stderr}`);
    const m = /@@ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
    if (!m) throw new Error(`${label}: no timing in ${stderr}`);
    results.push({ label, seconds: Number(m[1]), cpu: Number(m[3]) + Number(m[4]), peakMiB: Number(m[2]) / 1024 });
  }
  results.sort((a, b) => a.seconds - b.seconds);
  return results[Math.floor(results.length / 2)]!;
}

export function printRatio(ours: Measurement, theirs: Measurement, extra = ''): void {
  const ratio = ours.seconds / theirs.seconds;
  console.log(
    `${ours.label.padEnd(28)} ${ours.seconds.toFixed(2).padStart(7)} s ${ours.cpu.toFixed(2).padStart(6)} s cpu ${ours.peakMiB.toFixed(0).padStart(6)} MiB\n` +
      `${theirs.label.padEnd(28)} ${theirs.seconds.toFixed(2).padStart(7)} s ${theirs.cpu.toFixed(2).padStart(6)} s cpu ${theirs.peakMiB.toFixed(0).padStart(6)} MiB\n` +
      `ratio (ours / theirs): ${ratio.toFixed(2)}x wall, ${(ours.cpu / Math.max(theirs.cpu, 0.01)).toFixed(2)}x cpu${extra}`,
  );
}

/**
 * The tree every benchmark measures: REFERENCE_ROOTFS if set, else the reference root file
 * system of docs/benchmarks.md, which the helper script shared/bench/reference-rootfs makes once
 * and prints. The script is looked for upwards from the compiled bench, which runs from dist/ or
 * a build directory at another depth.
 */
export function referenceRootfs(): string {
  if (process.env.REFERENCE_ROOTFS) return process.env.REFERENCE_ROOTFS;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const script = join(dir, 'shared/bench/reference-rootfs');
    if (existsSync(script)) return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }
  throw new Error('cannot find shared/bench/reference-rootfs above the repository; set REFERENCE_ROOTFS');
}
