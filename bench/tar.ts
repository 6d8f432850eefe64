/**
 * tar and cpio benchmark: reprimage against GNU tar and GNU cpio on the same tree, in one run.
 *   node dist/bench/tar.js [TREE]    (default: the reference root file system of docs/benchmarks.md)
 * Prints wall time, peak memory and their ratios, and whether the outputs are byte-identical
 * (they must be: that is the tar/cpio oracle on a real tree). Memory must not grow with the
 * tree: the figures for /usr/share/doc and the whole tree are printed side by side.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, printRatio, referenceRootfs } from './measure.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const EPOCH = '1700000000';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function benchTar(tree: string, out: string): void {
  const ours = join(out, 'ours.tar');
  const theirs = join(out, 'gnu.tar');
  const gnu = measure('GNU tar --format=gnu', ['tar', '--sort=name', `--mtime=@${EPOCH}`, '--clamp-mtime', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', tree, '-cf', theirs, '.']);
  const rep = measure('reprimage pack (tar)', [process.execPath, CLI, 'pack', tree, '-o', ours, '--owner', 'root', '--source-date-epoch', EPOCH, '-q']);
  printRatio(rep, gnu, `, ${(rep.peakMiB / gnu.peakMiB).toFixed(1)}x memory; byte-identical: ${sha(ours) === sha(theirs) ? 'yes' : 'NO'}`);
}

function benchCpio(tree: string, out: string): void {
  const ours = join(out, 'ours.cpio');
  const theirs = join(out, 'gnu.cpio');
  // GNU cpio does not clamp mtimes: give it a copy whose times are already clamped
  const copy = join(out, 'clamped');
  execFileSync('cp', ['-a', tree, copy]);
  execFileSync('find', [copy, '-newermt', `@${EPOCH}`, '-exec', 'touch', '--no-dereference', '-d', `@${EPOCH}`, '{}', '+']);
  const gnu = measure('GNU cpio --reproducible', ['sh', '-c', `cd "${copy}" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible > "${theirs}"`]);
  const rep = measure('reprimage pack (cpio)', [process.execPath, CLI, 'pack', copy, '-o', ours, '--source-date-epoch', EPOCH, '-q']);
  printRatio(rep, gnu, `, ${(rep.peakMiB / gnu.peakMiB).toFixed(1)}x memory; byte-identical: ${sha(ours) === sha(theirs) ? 'yes' : 'NO'}`);
  rmSync(copy, { recursive: true, force: true });
}

const tree = process.argv[2] ?? referenceRootfs();
const out = mkdtempSync(join(tmpdir(), 'reprimage-bench-'));
try {
  const entries = spawnSync('sh', ['-c', `find "${tree}" | wc -l`], { encoding: 'utf8' }).stdout.trim();
  console.log(`tree: ${tree} (${entries} entries)\n`);
  benchTar(tree, out);
  console.log();
  benchCpio(tree, out);
  const small = join(tree, 'usr/share/doc');
  if (existsSync(small)) {
    console.log('\nmemory against tree size:');
    const a = measure('reprimage, usr/share/doc', [process.execPath, CLI, 'pack', small, '-o', join(out, 's.tar'), '--source-date-epoch', EPOCH, '-q'], 1);
    const b = measure('reprimage, whole tree', [process.execPath, CLI, 'pack', tree, '-o', join(out, 'b.tar'), '--source-date-epoch', EPOCH, '-q'], 1);
    console.log(`${a.label}: ${a.peakMiB.toFixed(0)} MiB; ${b.label}: ${b.peakMiB.toFixed(0)} MiB`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
