/**
 * `reprimage diff` against diffoscope and cmp, in one run:
 *   (a) two ~1 GiB ISOs that differ in one byte of one file inside their SquashFS,
 *   (b) two identical ~1 GiB ISOs (separate files), and `cmp` on (b).
 * Each ISO holds the reference root file system (docs/benchmarks.md) as a gzip
 * SquashFS made by mksquashfs, plus one incompressible filler file that brings it to the size.
 * Prints wall time, peak memory and the ratios against the targets of docs/diff.md: at least 20x
 * faster than diffoscope on (a), within 2x of cmp on (b), peak memory under 512 MiB.
 *
 *   usage: npm run build && node dist/bench/diff.js [--size-mib 1024] [--runs 3] [--no-diffoscope]
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, statSync, writeFileSync, linkSync, copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { referenceRootfs } from './measure.js';

interface Run {
  label: string;
  seconds: number;
  peakMiB: number;
  status: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const sizeMiB = Number(option('--size-mib', '1024'));
const runs = Number(option('--runs', '3'));
const withDiffoscope = !args.includes('--no-diffoscope');

const here = dirname(fileURLToPath(import.meta.url));
const cliModule = join(here, '../src/cli/diff.js');

const SDE = '1700000000';

/** Median of `n` runs under /usr/bin/time; exit statuses 0 and 1 are both answers for a differ. */
function measure(label: string, argv: string[], n: number): Run {
  const results: Run[] = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %M', ...argv], { maxBuffer: 1 << 28 });
    const stderr = String(r.stderr);
    const m = /@@ ([\d.]+) (\d+)\s*$/.exec(stderr);
    if (!m || (r.status !== 0 && r.status !== 1)) throw new Error(`${label} failed (${r.status}): ${stderr.slice(-2000)}`);
    results.push({ label, seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, status: r.status });
  }
  results.sort((a, b) => a.seconds - b.seconds);
  return results[Math.floor(results.length / 2)]!;
}

/** The reprimage diff command as main.ts runs it (exit status in process.exitCode). */
function reprimage(a: string, b: string): string[] {
  const script = `const { diffCommand } = await import(${JSON.stringify(cliModule)});
process.exitCode = 2;
await diffCommand({ warn: (m) => process.stderr.write(m + '\\n') }).parseAsync([${JSON.stringify(a)}, ${JSON.stringify(b)}, '--text', '/dev/null'], { from: 'user' });`;
  return [process.execPath, '--input-type=module', '-e', script];
}

/** Incompressible bytes from a fixed xorshift seed, so every run builds the same filler. */
function writeFiller(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const chunk = new Uint32Array(1 << 21);
  let x = 0x9e3779b9;
  for (let done = 0; done < bytes; ) {
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x >>> 0;
    }
    const n = Math.min(chunk.byteLength, bytes - done);
    writeSync(fd, new Uint8Array(chunk.buffer, 0, n));
    done += n;
  }
  closeSync(fd);
}

function build(work: string): { a: string; b: string; same: string } {
  const a = join(work, 'a.iso');
  const b = join(work, 'b.iso');
  const same = join(work, 'a-copy.iso');
  const marker = join(work, `.ready-${sizeMiB}`);
  if (existsSync(marker)) return { a, b, same };
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rootfs = referenceRootfs();
  const env = { ...process.env, SOURCE_DATE_EPOCH: SDE };
  const rootB = join(work, 'root-b');
  execFileSync('cp', ['-a', rootfs, rootB]);
  const shadow = join(rootB, 'etc/shadow');
  const text = execFileSync('cat', [shadow]);
  text[0] = text[0] === 0x72 ? 0x52 : 0x72; // one byte of /etc/shadow
  writeFileSync(shadow, text);
  for (const [side, root] of [['a', rootfs], ['b', rootB]] as const) {
    mkdirSync(join(work, side, 'live'), { recursive: true });
    execFileSync('mksquashfs', [root, join(work, side, 'live/filesystem.squashfs'), '-noappend', '-comp', 'gzip', '-quiet', '-no-progress'], { env, stdio: 'inherit' });
  }
  const squashfsBytes = statSync(join(work, 'a/live/filesystem.squashfs')).size;
  const fillerBytes = Math.max(0, sizeMiB * 1048576 - squashfsBytes - (4 << 20));
  writeFiller(join(work, 'a/live/filler.bin'), fillerBytes);
  linkSync(join(work, 'a/live/filler.bin'), join(work, 'b/live/filler.bin'));
  for (const side of ['a', 'b']) {
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'BENCH', '-o', join(work, `${side}.iso`), join(work, side)], { env, stdio: 'inherit' });
  }
  copyFileSync(a, same);
  writeFileSync(marker, '');
  return { a, b, same };
}

function line(r: Run): string {
  return `${r.label.padEnd(40)} ${r.seconds.toFixed(2).padStart(8)} s ${r.peakMiB.toFixed(0).padStart(6)} MiB  exit ${r.status}`;
}

const work = join(process.env.TMPDIR ?? '/tmp', 'reprimage-bench', 'diff');
const { a, b, same } = build(work);
console.log(`ISOs of ${(statSync(a).size / 1048576).toFixed(0)} MiB (SquashFS of the reference rootfs + filler), in ${work}`);
// warm the page cache so every tool reads from memory
for (const f of [a, b, same]) spawnSync('cat', [f], { stdio: ['ignore', 'ignore', 'ignore'] });

const oursA = measure('(a) reprimage diff, one file differs', reprimage(a, b), runs);
const oursB = measure('(b) reprimage diff, identical', reprimage(a, same), runs);
const cmpB = measure('(b) cmp, identical', ['cmp', a, same], runs);
console.log(line(oursA));
console.log(line(oursB));
console.log(line(cmpB));
if (oursA.status !== 1 || oursB.status !== 0) throw new Error('reprimage diff gave the wrong answer');
let ok = oursB.seconds <= 2 * cmpB.seconds && Math.max(oursA.peakMiB, oursB.peakMiB) < 512;
if (withDiffoscope) {
  const theirsA = measure('(a) diffoscope, one file differs', ['diffoscope', '--text', '/dev/null', a, b], 1);
  const theirsB = measure('(b) diffoscope, identical', ['diffoscope', '--text', '/dev/null', a, same], 1);
  console.log(line(theirsA));
  console.log(line(theirsB));
  console.log(`(a) diffoscope / reprimage: ${(theirsA.seconds / oursA.seconds).toFixed(1)}x (target >= 20x)`);
  console.log(`(b) diffoscope / reprimage: ${(theirsB.seconds / oursB.seconds).toFixed(1)}x`);
  ok &&= theirsA.seconds / oursA.seconds >= 20;
}
console.log(`(b) reprimage / cmp: ${(oursB.seconds / cmpB.seconds).toFixed(2)}x (target <= 2x)`);
console.log(`peak memory: ${Math.max(oursA.peakMiB, oursB.peakMiB).toFixed(0)} MiB (target < 512 MiB)`);
console.log(ok ? 'all targets met' : 'some targets missed');
