/**
 * ext4 benchmark: reprimage's writer against `mke2fs -t ext4 -d` on the reference root file
 * system (../shared/bench/reference-rootfs prints its path), in one run: the same input
 * directory read from disk (with xattrs), the same block size, the same volume size (ours picks
 * it, mke2fs is given it), the same features (Debian's ext4 without resize_inode), fixed UUID
 * and hash seed, E2FSPROGS_FAKE_TIME. Prints the wall-time ratio and the peak memory of each,
 * checks both images with e2fsck -fn, and shows how many bytes each image file allocates.
 * `node dist/bench/ext4.js write DIR OUT` is the measured child (load + policy + write).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomically } from '../src/io/atomic-output.js';
import { loadDirectory } from '../src/tree/load-dir.js';
import { applyPolicy } from '../src/tree/policy.js';
import { writeExt4 } from '../src/formats/ext4/index.js';
import { measure, printRatio } from './measure.js';

const EPOCH = 1700000000;
const UUID = '6d1a3f52-8b1e-4c35-9a8e-2f5d7b9c0e11';
const SEED = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

async function writeChild(dir: string, out: string): Promise<void> {
  const tree = await loadDirectory(dir, { warn: () => undefined });
  applyPolicy(tree, { sourceDateEpoch: EPOCH, clampMtime: true, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
  const report = await writeAtomically(out, (sink) => writeExt4(tree, sink, { uuid: UUID, hashSeed: SEED, journalUuid: UUID, time: EPOCH }));
  process.stdout.write(`${report.size}\n`);
}

/** ../shared/bench/reference-rootfs, looked for upwards from this file. */
function findReferenceScript(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'shared/bench/reference-rootfs');
    if (existsSync(candidate)) return candidate;
    dir = join(dir, '..');
  }
  throw new Error('cannot find shared/bench/reference-rootfs; set REFERENCE_ROOTFS');
}

function fsck(img: string): string {
  const r = spawnSync('e2fsck', ['-fn', img]);
  const last = String(r.stdout).trim().split('\n').pop() ?? '';
  return `${r.status === 0 ? 'clean' : `exit ${r.status}`} (${last.replace(/^.*: /, '')})`;
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'write') return writeChild(rest[0]!, rest[1]!);
  const root = process.env.REFERENCE_ROOTFS ?? execFileSync(findReferenceScript()).toString().trim();
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
    for (const [label, img] of [['ours', ours], ['mke2fs', theirs]] as const) {
      console.log(`${label.padEnd(7)} e2fsck -fn: ${fsck(img)}; ${statSync(img).blocks * 512} bytes allocated in the image file`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
