/**
 * `reprimage diff` against diffoscope on two ext4 images that differ in one file, in one run.
 * Both images are made by `mke2fs -t ext4 -d` (fixed UUID and hash seed, E2FSPROGS_FAKE_TIME)
 * from the reference root file system (docs/benchmarks.md), the second after one
 * byte of /etc/shadow changed, so the images differ in that file's data and in the metadata
 * mke2fs takes from the source (times of the copied tree). Prints wall time and peak memory of
 * each, their ratio, and whether each output names etc/shadow. Without libguestfs diffoscope
 * cannot look inside ext4 and compares the images as bytes.
 *
 *   usage: npm run build && node dist/bench/diff-ext4.js [--size 400M] [--runs 3] [--no-diffoscope]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceRootfs } from './measure.js';

interface Run {
  label: string;
  seconds: number;
  peakMiB: number;
  status: number;
  output: string;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const size = option('--size', '400M');
const runs = Number(option('--runs', '3'));
const withDiffoscope = !args.includes('--no-diffoscope');
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../src/cli/main.js');

/** Median of `n` runs under /usr/bin/time; a differ's exit 1 (different) is an answer too. */
function measure(label: string, argv: string[], out: string, n: number): Run {
  const results: Run[] = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %M', ...argv], { maxBuffer: 1 << 30 });
    const stderr = String(r.stderr);
    const m = /@@ ([\d.]+) (\d+)\s*$/.exec(stderr);
    if (!m || (r.status !== 0 && r.status !== 1)) throw new Error(`${label} failed (${r.status}): ${stderr.slice(-2000)}`);
    const output = out === '-' ? String(r.stdout) : readFileSync(out, 'utf8');
    results.push({ label, seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, status: r.status!, output });
  }
  results.sort((a, b) => a.seconds - b.seconds);
  return results[Math.floor(results.length / 2)]!;
}

function build(work: string): { a: string; b: string } {
  const a = join(work, 'a.ext4');
  const b = join(work, 'b.ext4');
  const marker = join(work, `.ready-${size}`);
  if (existsSync(marker)) return { a, b };
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rootfs = referenceRootfs();
  const rootB = join(work, 'root-b');
  execFileSync('cp', ['-a', rootfs, rootB]);
  const shadow = join(rootB, 'etc/shadow');
  const text = readFileSync(shadow);
  text[0] = text[0] === 0x72 ? 0x52 : 0x72; // one byte of /etc/shadow
  writeFileSync(shadow, text);
  const env = { ...process.env, E2FSPROGS_FAKE_TIME: '1700000000' };
  for (const [img, root] of [[a, rootfs], [b, rootB]] as const) {
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-U', '6d1a3f52-8b1e-4c35-9a8e-2f5d7b9c0e11', '-E', 'hash_seed=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', '-d', root, img, size], { env, stdio: 'inherit' });
  }
  rmSync(rootB, { recursive: true, force: true });
  writeFileSync(marker, '');
  return { a, b };
}

const names = (output: string) => /etc\/shadow/.test(output);
const line = (r: Run) =>
  `${r.label.padEnd(26)} ${r.seconds.toFixed(2).padStart(8)} s ${r.peakMiB.toFixed(0).padStart(6)} MiB  exit ${r.status}  output ${(r.output.length / 1024).toFixed(0).padStart(6)} KiB  names etc/shadow: ${names(r.output) ? 'yes' : 'no'}`;

const work = join(process.env.TMPDIR ?? '/tmp', 'reprimage-bench', 'diff-ext4');
const { a, b } = build(work);
for (const f of [a, b]) spawnSync('cat', [f], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache
console.log(`two ${size} ext4 images made by mke2fs -d from the reference rootfs, /etc/shadow differs by one byte (${work})`);
const ours = measure('reprimage diff', [process.execPath, cli, 'diff', a, b], '-', runs);
console.log(line(ours));
if (ours.status !== 1 || !names(ours.output)) throw new Error('reprimage diff did not name etc/shadow');
if (withDiffoscope) {
  const report = join(work, 'diffoscope.txt');
  const theirs = measure('diffoscope (no libguestfs)', ['diffoscope', '--text', report, a, b], report, 1);
  console.log(line(theirs));
  console.log(`diffoscope / reprimage: ${(theirs.seconds / ours.seconds).toFixed(1)}x wall, ${(theirs.peakMiB / ours.peakMiB).toFixed(1)}x peak memory`);
}
