/**
 * Start-up benchmark: `reprimage --version` and `reprimage normalize` of one small gzip file
 * against `node -e 0` (the floor: Node.js starting and stopping), in one run on the same box.
 *   node dist/bench/startup.js [RUNS]   (default 21 of each, interleaved)
 * The three commands run in turn, round after round, so that load from elsewhere falls on all
 * of them alike; each figure is the median wall time. Prints the ratios to `node -e 0`; the
 * goal is at most 1.3x for both.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const times = commands.map(() => [] as number[]);
try {
  for (let round = 0; round < runs; round++) {
    commands.forEach((c, i) => {
      c.before?.();
      const started = performance.now();
      const r = spawnSync(c.argv[0]!, c.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = performance.now() - started;
      if (r.status !== 0) throw new Error(`${c.label} failed (${r.status}): ${String(r.stderr)}`);
      times[i]!.push(ms);
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const floor = median(times[0]!);
console.log(`Node.js ${process.versions.node}, ${runs} runs each, median wall time`);
commands.forEach((c, i) => {
  const m = median(times[i]!);
  console.log(`${c.label.padEnd(30)} ${m.toFixed(1).padStart(7)} ms  ${(m / floor).toFixed(2)}x node -e 0`);
});
