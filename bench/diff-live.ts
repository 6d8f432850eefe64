/**
 * `reprimage diff` of two live-like ISOs of the desktop-class tree (docs/benchmarks.md: about
 * 1.3 GB, 45,000 entries), against diffoscope and cmp in one run:
 *   (a) two ISOs (xorriso, a gzip SquashFS by mksquashfs in live/) whose trees differ in one byte
 *       of /etc/shadow (its mtime kept), deep diff: reprimage vs diffoscope;
 *   (b) two identical ISOs (separate files): reprimage vs cmp.
 * Prints wall time, CPU time, peak RSS, the load average and the ratios against the targets of
 * docs/diff.md: (a) at least 50x faster than diffoscope, (b) within 2x of cmp, peak RSS of (a)
 * at most 128 MiB. diffoscope takes minutes here: it runs once (--no-diffoscope leaves it out).
 *
 *   usage: npm run build && node dist/bench/diff-live.js [--runs 3] [--no-diffoscope]
 *   DESKTOP_ROOTFS=DIR uses that tree (default: the shared desktop-rootfs script's, made once).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type Measurement } from './measure.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const runs = Number(option('--runs', '3'));
const withDiffoscope = !args.includes('--no-diffoscope');
const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '../src/cli/main.js');
const SDE = '1700000000';

function desktopRootfs(): string {
  if (process.env.DESKTOP_ROOTFS) return process.env.DESKTOP_ROOTFS;
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const script = join(dir, 'shared/bench/desktop-rootfs');
    if (existsSync(script)) return execFileSync('nice', ['-n', '10', 'bash', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }
  throw new Error('cannot find shared/bench/desktop-rootfs above the repository; set DESKTOP_ROOTFS');
}

/** The pair, made once (mksquashfs of 1.3 GB takes minutes); `.ready` marks it complete. */
function build(work: string): { a: string; b: string; same: string } {
  const [a, b, same] = ['a.iso', 'b.iso', 'a-copy.iso'].map((f) => join(work, f)) as [string, string, string];
  if (existsSync(join(work, '.ready'))) return { a, b, same };
  const root = desktopRootfs();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rootB = join(work, 'root-b');
  cpSync(root, rootB, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const shadow = join(rootB, 'etc/shadow');
  const { atime, mtime } = statSync(shadow);
  const text = readFileSync(shadow);
  text[0] = text[0] === 0x72 ? 0x52 : 0x72; // one byte; the mtime is put back
  writeFileSync(shadow, text);
  utimesSync(shadow, atime, mtime);
  const env = { ...process.env, SOURCE_DATE_EPOCH: SDE };
  for (const [side, tree] of [['a', root], ['b', rootB]] as const) {
    mkdirSync(join(work, side, 'live'), { recursive: true });
    execFileSync('nice', ['-n', '10', 'mksquashfs', tree, join(work, side, 'live/filesystem.squashfs'), '-noappend', '-comp', 'gzip', '-quiet', '-no-progress'], { env, stdio: 'inherit' });
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'LIVE', '-o', join(work, `${side}.iso`), join(work, side)], { env, stdio: 'inherit' });
  }
  copyFileSync(a, same);
  writeFileSync(join(work, '.ready'), '');
  return { a, b, same };
}

/** Exit status 1 (different) is an answer, not a failure: wrapped so that measure() sees 0. */
function differ(argv: string[], expected: number): string[] {
  return ['sh', '-c', `"$@"; s=$?; [ $s -eq ${expected} ] || { echo "exit $s, expected ${expected}" >&2; exit 1; }`, 'differ', ...argv];
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const line = (m: Measurement) => `${m.label.padEnd(36)} ${m.seconds.toFixed(2).padStart(8)} s ${m.cpu.toFixed(2).padStart(7)} s cpu ${m.peakMiB.toFixed(0).padStart(5)} MiB`;

const work = join(process.env.TMPDIR ?? tmpdir(), 'reprimage-bench', 'diff-live');
const { a, b, same } = build(work);
console.log(`ISOs of ${(statSync(a).size / 1e6).toFixed(0)} MB (gzip SquashFS of the desktop tree), in ${work}; load average ${load()}`);
for (const f of [a, b, same]) spawnSync('cat', [f], { stdio: ['ignore', 'ignore', 'ignore'] }); // into the page cache
const ours = (x: string, y: string, expected: number) => differ([process.execPath, CLI, 'diff', '--text', '/dev/null', x, y], expected);
const oursA = measure('(a) reprimage diff, one byte differs', ours(a, b, 1), runs);
console.log(line(oursA));
const oursB = measure('(b) reprimage diff, identical', ours(a, same, 0), runs);
console.log(line(oursB));
const cmpB = measure('(b) cmp, identical', ['cmp', a, same], runs);
console.log(line(cmpB));
console.log(`load average after: ${load()}`);
let ok = oursB.seconds <= 2 * cmpB.seconds && oursA.peakMiB <= 128;
if (withDiffoscope) {
  const theirs = measure('(a) diffoscope, one byte differs', differ(['nice', '-n', '10', 'diffoscope', '--text', '/dev/null', a, b], 1), 1);
  console.log(line(theirs));
  console.log(`load average after diffoscope: ${load()}`);
  const ratio = theirs.seconds / oursA.seconds;
  console.log(`(a) diffoscope / reprimage: ${ratio.toFixed(1)}x wall, ${(theirs.cpu / oursA.cpu).toFixed(1)}x cpu (target >= 50x)`);
  ok &&= ratio >= 50;
}
console.log(`(b) reprimage / cmp: ${(oursB.seconds / cmpB.seconds).toFixed(2)}x wall (target <= 2x)`);
console.log(`(a) peak RSS: ${oursA.peakMiB.toFixed(0)} MiB (target <= 128 MiB)`);
console.log(ok ? 'all targets met' : 'some targets missed');
