/**
 * `npm run bench`: every row of the performance table (docs/benchmarks.md) on both benchmark trees, in
 * one run: reprimage against its peer on the same tree, one after the other and alternating
 * (ours, peer, ours, peer …), with wall time, CPU time, peak RSS and output size of each, the
 * ratio, and whether the outputs are byte-identical where they must be.
 *
 *   node dist/bench/all.js [ROW …]     rows: squashfs-gzip squashfs-xz squashfs-zstd tar cpio ext4 iso version
 *   BENCH_TREES=reference,desktop      which trees (default both; REFERENCE_ROOTFS / DESKTOP_ROOTFS override their paths)
 *   BENCH_PAIRS=N                      paired runs per row (default 1; the median pair is printed)
 *
 * The machine may be shared: the load average is printed with every row, and CPU seconds are
 * printed beside wall seconds (they depend less on other load).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceRootfs } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** SquashFS and ext4 rows: every time clamped to this, as their benches always did. */
const EPOCH = 1700000000;
/** tar and cpio rows: later than every mtime of both trees, so GNU cpio (which cannot clamp) needs no clamped copy. */
const LATE_EPOCH = 2000000000;

interface Run {
  wall: number;
  cpu: number;
  peakMiB: number;
  size: number;
}

interface Command {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** The output file, for its size (and byte comparison). */
  out: string;
}

interface Row {
  name: string;
  ours: (tree: string, work: string) => Command;
  peer: (tree: string, work: string) => Command;
  peerName: string;
  /** Outputs that must be byte-identical. */
  identical?: boolean;
}

function timed(cmd: Command): Run {
  rmSync(cmd.out, { force: true });
  const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %M %U %S', ...cmd.argv], { env: cmd.env ?? process.env, maxBuffer: 1 << 26, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = String(r.stderr);
  const m = /@@ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.argv.join(' ')} failed (${r.status}): ${stderr.slice(-2000)}`);
  return { wall: Number(m[1]), peakMiB: Number(m[2]) / 1024, cpu: Number(m[3]) + Number(m[4]), size: existsSync(cmd.out) ? statSync(cmd.out).size : 0 };
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

const squashfs = (comp: 'gzip' | 'xz' | 'zstd'): Row => ({
  name: `squashfs-${comp}`,
  peerName: 'mksquashfs -processors 2',
  identical: comp === 'xz',
  ours: (tree, work) => ({ argv: [process.execPath, join(HERE, 'squashfs.js'), 'write', tree, join(work, 'ours.sqfs'), comp], out: join(work, 'ours.sqfs') }),
  peer: (tree, work) => ({
    argv: ['mksquashfs', tree, join(work, 'peer.sqfs'), '-noappend', '-comp', comp, '-processors', '2', '-mkfs-time', String(EPOCH), '-all-time', String(EPOCH), '-all-root', '-no-xattrs', '-quiet', '-no-progress'],
    out: join(work, 'peer.sqfs'),
  }),
});

const UUID = '6d1a3f52-8b1e-4c35-9a8e-2f5d7b9c0e11';
const SEED = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

const ROWS: Row[] = [
  squashfs('gzip'),
  squashfs('xz'),
  squashfs('zstd'),
  {
    name: 'tar',
    peerName: 'GNU tar',
    identical: true,
    ours: (tree, work) => ({ argv: [process.execPath, CLI, 'pack', tree, '-o', join(work, 'ours.tar'), '--owner', 'root', '--source-date-epoch', String(LATE_EPOCH), '-q'], out: join(work, 'ours.tar') }),
    peer: (tree, work) => ({
      argv: ['tar', '--sort=name', `--mtime=@${LATE_EPOCH}`, '--clamp-mtime', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', tree, '-cf', join(work, 'peer.tar'), '.'],
      out: join(work, 'peer.tar'),
    }),
  },
  {
    name: 'cpio',
    peerName: 'GNU cpio',
    identical: true,
    ours: (tree, work) => ({ argv: [process.execPath, CLI, 'pack', tree, '-o', join(work, 'ours.cpio'), '--source-date-epoch', String(LATE_EPOCH), '-q'], out: join(work, 'ours.cpio') }),
    peer: (tree, work) => ({ argv: ['sh', '-c', 'cd "$0" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible > "$1"', tree, join(work, 'peer.cpio')], out: join(work, 'peer.cpio') }),
  },
  {
    name: 'ext4',
    peerName: 'mke2fs -d',
    // the command a user runs (pack sets the memory flags the writers are measured with)
    ours: (tree, work) => ({
      argv: [process.execPath, CLI, 'pack', tree, '-o', join(work, 'ours.ext4'), '--uuid', UUID, '--hash-seed', SEED, '--source-date-epoch', String(EPOCH), '-q'],
      out: join(work, 'ours.ext4'),
    }),
    peer: (tree, work) => ({
      // the same size as ours (measured first in each pair)
      argv: ['sh', '-c', 'rm -f "$1" && exec mke2fs -q -F -t ext4 -O ^resize_inode -b 4096 -U "$2" -E hash_seed="$3" -d "$4" "$1" "$(($(stat -c %s "$5") / 1024))k"', 'mke2fs', join(work, 'peer.ext4'), UUID, SEED, tree, join(work, 'ours.ext4')],
      env: { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH) },
      out: join(work, 'peer.ext4'),
    }),
  },
  {
    // the floor of any ISO writer: every file's bytes read once and written once (bench/iso.ts
    // measures the 1 GiB live layout and xorriso)
    name: 'iso',
    peerName: 'cat of the files',
    ours: (tree, work) => ({ argv: [process.execPath, CLI, 'pack', tree, '-o', join(work, 'ours.iso'), '--source-date-epoch', String(EPOCH), '-q'], out: join(work, 'ours.iso') }),
    peer: (tree, work) => ({ argv: ['sh', '-c', 'find "$0" -type f -print0 | LC_ALL=C sort -z | xargs -0 cat > "$1"', tree, join(work, 'peer.bin')], out: join(work, 'peer.bin') }),
  },
  {
    name: 'version',
    peerName: 'node -e 0',
    ours: (_tree, work) => ({ argv: [process.execPath, CLI, '--version'], out: join(work, 'none') }),
    peer: (_tree, work) => ({ argv: [process.execPath, '-e', '0'], out: join(work, 'none') }),
  },
];

function treePath(which: string): string {
  if (which === 'reference') return referenceRootfs();
  if (which === 'desktop') {
    if (process.env.DESKTOP_ROOTFS) return process.env.DESKTOP_ROOTFS;
    const script = join(dirname(referenceRootfsScript()), 'desktop-rootfs');
    return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }
  return which; // a path
}

function referenceRootfsScript(): string {
  for (let dir = HERE; dir !== dirname(dir); dir = dirname(dir)) {
    const script = join(dir, 'shared/bench/reference-rootfs');
    if (existsSync(script)) return script;
  }
  throw new Error('cannot find shared/bench/ above the repository; set DESKTOP_ROOTFS');
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const median = (runs: Run[]) => [...runs].sort((a, b) => a.wall - b.wall)[Math.floor(runs.length / 2)]!;

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const rows = wanted.length > 0 ? ROWS.filter((r) => wanted.includes(r.name)) : ROWS;
  const trees = (process.env.BENCH_TREES ?? 'reference,desktop').split(',');
  const pairs = Number(process.env.BENCH_PAIRS ?? 1);
  console.log(`reprimage bench, ${pairs} paired run(s) per row; load average at start: ${load()}`);
  console.log('| tree | work | ours: wall, cpu, peak RSS, size | peer | ratio wall (cpu) | same bytes | load |');
  console.log('|---|---|---|---|---|---|---|');
  for (const which of trees) {
    const tree = treePath(which);
    for (const row of rows) {
      if (row.name === 'version' && which !== trees[0]) continue;
      const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-all-'));
      try {
        const ours: Run[] = [];
        const peer: Run[] = [];
        let same = '';
        for (let i = 0; i < pairs; i++) {
          const a = row.ours(tree, work);
          const b = row.peer(tree, work);
          ours.push(timed(a));
          peer.push(timed(b));
          if (row.identical && i === 0) same = (await sha256(a.out)) === (await sha256(b.out)) ? 'yes' : 'NO';
        }
        const o = median(ours);
        const p = median(peer);
        const fmt = (r: Run) => `${r.wall.toFixed(2)} s, ${r.cpu.toFixed(2)} cpu-s, ${r.peakMiB.toFixed(0)} MiB${r.size ? `, ${mib(r.size)} MiB out` : ''}`;
        console.log(
          `| ${which} | ${row.name} vs ${row.peerName} | ${fmt(o)} | ${fmt(p)} | ${(o.wall / p.wall).toFixed(2)}x (${(o.cpu / Math.max(p.cpu, 0.01)).toFixed(2)}x)${o.size && p.size ? `, size ${(o.size / p.size).toFixed(4)}x` : ''} | ${same || '-'} | ${load()} |`,
        );
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }
  console.log(`load average at the end: ${load()}`);
}

await main();
