/**
 * ext4 benchmark: reprimage's writer against `mke2fs -t ext4 -d` on the reference root file
 * system (docs/benchmarks.md), in one run: the same input
 * directory read from disk (with xattrs), the same block size, the same volume size (ours picks
 * it, mke2fs is given it), the same features (Debian's ext4 without resize_inode), fixed UUID
 * and hash seed, E2FSPROGS_FAKE_TIME. Prints the wall-time ratio and the peak memory of each,
 * checks both images with e2fsck -fn, and shows how many bytes each image file allocates.
 * `node dist/bench/ext4.js write DIR OUT [PATH]` is the measured child (load + policy + write;
 * with PATH, that file's contents are replaced by one changed line).
 *
 * `node dist/bench/ext4.js diff` then compares two such images that differ in one file:
 * `reprimage diff` against diffoscope (diffoscope only with BENCH_DIFFOSCOPE=1: without
 * libguestfs it hex-dumps the images and took 9.3 GiB on the reference machine: docs/benchmarks.md), and checks that our report
 * names the file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomically } from '../src/io/atomic-output.js';
import { bytesContent } from '../src/tree/content.js';
import { loadDirectory } from '../src/tree/load-dir.js';
import { applyPolicy } from '../src/tree/policy.js';
import { writeExt4 } from '../src/formats/ext4/index.js';
import { measure, printRatio, referenceRootfs } from './measure.js';

const EPOCH = 1700000000;
const UUID = '6d1a3f52-8b1e-4c35-9a8e-2f5d7b9c0e11';
const SEED = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

async function writeChild(dir: string, out: string, change?: string): Promise<void> {
  const tree = await loadDirectory(dir, { warn: () => undefined });
  if (change !== undefined) {
    const node = tree.get(change);
    if (node?.kind !== 'file') throw new Error(`${change}: not a file of the tree`);
    node.content = bytesContent(new TextEncoder().encode('changed by bench/ext4.ts\n'), change);
  }
  applyPolicy(tree, { buildTime: EPOCH, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
  const report = await writeAtomically(out, (sink) => writeExt4(tree, sink, { uuid: UUID, hashSeed: SEED, journalUuid: UUID, buildTime: EPOCH }));
  process.stdout.write(`${report.size}\n`);
}

/** User plus system seconds of one run of `argv`, from /usr/bin/time. */
function cpuSeconds(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync('/usr/bin/time', ['-f', '@@ %U %S', ...argv], { env, maxBuffer: 1 << 26 });
  const m = /@@ ([\d.]+) ([\d.]+)\s*$/.exec(String(r.stderr));
  if (r.status !== 0 || !m) throw new Error(`${argv[0]} failed: ${String(r.stderr)}`);
  return Number(m[1]) + Number(m[2]);
}

function fsck(img: string): string {
  const r = spawnSync('e2fsck', ['-fn', img]);
  const last = String(r.stdout).trim().split('\n').pop() ?? '';
  return `${r.status === 0 ? 'clean' : `exit ${r.status}`} (${last.replace(/^.*: /, '')})`;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'write') return writeChild(rest[0]!, rest[1]!, rest[2]);
  const root = referenceRootfs();
  if (mode === 'diff') return diffBench(root);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-ext4-'));
  try {
    const ours = join(work, 'ours.ext4');
    const theirs = join(work, 'theirs.ext4');
    const a = measure('reprimage pack (ext4)', [process.execPath, fileURLToPath(import.meta.url), 'write', root, ours], runs);
    const size = statSync(ours).size;
    const b = measure('mke2fs -t ext4 -d', [
      'sh', '-c', 'rm -f "$1" && exec mke2fs -q -F -t ext4 -O ^resize_inode -b 4096 -U "$2" -E hash_seed="$3" -d "$4" "$1" "$5"',
      'mke2fs', theirs, UUID, SEED, root, `${size / 1024}k`,
    ], runs, { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH) });
    printRatio(a, b, ` (median of ${runs}; ${size} bytes each)`);
    // CPU seconds (user + system) depend less on how loaded the shared machine is than wall time
    const cpuOurs = cpuSeconds([process.execPath, fileURLToPath(import.meta.url), 'write', root, ours]);
    const cpuTheirs = cpuSeconds(['sh', '-c', `rm -f "$0" && exec mke2fs -q -F -t ext4 -O ^resize_inode -b 4096 -U ${UUID} -E hash_seed=${SEED} -d "$1" "$0" ${size / 1024}k`, theirs, root], { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH) });
    console.log(`CPU (user + system): ours ${cpuOurs.toFixed(2)} s, mke2fs ${cpuTheirs.toFixed(2)} s, ratio ${(cpuOurs / cpuTheirs).toFixed(2)}x`);
    for (const [label, img] of [['ours', ours], ['mke2fs', theirs]] as const) {
      console.log(`${label.padEnd(7)} e2fsck -fn: ${fsck(img)}; ${statSync(img).blocks * 512} bytes allocated in the image file`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Two images of `root` that differ in one file: reprimage diff against diffoscope. */
function diffBench(root: string): void {
  const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-ext4diff-'));
  const changed = existsSync(join(root, 'etc/debian_version')) ? 'etc/debian_version' : 'etc/hostname';
  try {
    const a = join(work, 'a.ext4');
    const b = join(work, 'b.ext4');
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'write', root, a]);
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'write', root, b, changed]);
    const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const out = spawnSync(process.execPath, [cli, 'diff', a, b], { maxBuffer: 1 << 28 });
    const names = String(out.stdout).includes(changed);
    const ours = measure('reprimage diff (ext4)', ['sh', '-c', `"$0" "$1" diff "$2" "$3" >/dev/null; [ $? -eq 1 ]`, process.execPath, cli, a, b], 3);
    console.log(`reprimage diff exit ${out.status}, ${String(out.stdout).length} bytes of report, names ${changed}: ${names ? 'yes' : 'NO'}`);
    if (process.env.BENCH_DIFFOSCOPE === '1') {
      const theirs = measure('diffoscope', ['sh', '-c', 'diffoscope "$0" "$1" >/dev/null; [ $? -eq 1 ]', a, b], 1);
      printRatio(ours, theirs);
    } else {
      console.log(`${ours.label.padEnd(28)} ${ours.seconds.toFixed(2).padStart(7)} s ${ours.peakMiB.toFixed(0).padStart(6)} MiB (diffoscope: set BENCH_DIFFOSCOPE=1; reference machine: 79 s, 9.3 GiB, an 11.5 MB hex dump naming no file)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
