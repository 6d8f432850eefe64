/**
 * Start-up benchmark: `reprimage --version` and `reprimage normalize` of one small gzip file
 * against `node -e 0` (the floor: Node.js starting and stopping), in one run on the same box.
 *   node dist/bench/startup.js [RUNS]   (default 21 of each, interleaved)
 * The three commands run in turn, round after round, so that load from elsewhere falls on all
 * of them alike; each figure is the median wall time. Each round also runs each command once
 * more under bash to read its CPU time (user + system, bash's `times`), which load from other
 * processes disturbs less than the wall time. Prints the ratios to `node -e 0` and the load
 * average; the goal is at most 1.3x for both (docs/benchmarks.md, start-up).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const runs = Number(process.argv[2] ?? 21);
const dir = mkdtempSync(join(tmpdir(), 'reprimage-bench-startup-'));
const small = join(dir, 'small.gz');

const commands: Array<{ label: string; argv: string[]; before?: () => void }> = [
  { label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
  { label: 'reprimage --version', argv: [process.execPath, CLI, '--version'] },
  {
    label: 'reprimage normalize (1 file)',
    argv: [process.execPath, CLI, 'normalize', '--timestamp', '1700000000', small],
    // a fresh file each time, so that every run normalizes rather than finds nothing to do
    before: () => writeFileSync(small, withMtime(gzipSync(Buffer.from('hello\n')), 2_000_000_000)),
  },
];

function withMtime(gz: Buffer, mtime: number): Buffer {
  gz.writeUInt32LE(mtime, 4);
  return gz;
}

/** The child's user + system milliseconds, from the second line of bash's `times` (its children's). */
function cpuMs(argv: string[]): number {
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1 || exit 1; times', 'startup', ...argv], { encoding: 'utf8' });
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(r.stdout.trim().split('\n')[1] ?? '');
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed under bash (${r.status}): ${r.stdout}${r.stderr}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

const wall = commands.map(() => [] as number[]);
const cpu = commands.map(() => [] as number[]);
const loadBefore = loadavg()[0]!;
try {
  for (let round = 0; round < runs; round++) {
    commands.forEach((c, i) => {
      c.before?.();
      const started = performance.now();
      const r = spawnSync(c.argv[0]!, c.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = performance.now() - started;
      if (r.status !== 0) throw new Error(`${c.label} failed (${r.status}): ${String(r.stderr)}`);
      wall[i]!.push(ms);
      c.before?.();
      cpu[i]!.push(cpuMs(c.argv));
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [wallFloor, cpuFloor] = [median(wall[0]!), median(cpu[0]!)];
console.log(`Node.js ${process.versions.node}, ${runs} runs each, medians; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
commands.forEach((c, i) => {
  const [w, u] = [median(wall[i]!), median(cpu[i]!)];
  console.log(`${c.label.padEnd(30)} wall ${w.toFixed(1).padStart(6)} ms  ${(w / wallFloor).toFixed(2)}x   cpu ${u.toFixed(0).padStart(4)} ms  ${(u / cpuFloor).toFixed(2)}x node -e 0`);
});
