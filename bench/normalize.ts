/**
 * normalize benchmark: reprimage against strip-nondeterminism on the same few hundred real
 * jars, zips, PNGs and gzip files found on this machine (Debian packages), in one run.
 *   node dist/bench/normalize.js [COUNT_PER_KIND]   (default 100 of each kind)
 * Each tool works on its own fresh copy of the tree; strip-nondeterminism gets every file in one
 * invocation (its fastest use). Prints wall time, peak memory, the ratio, and how many outputs
 * are byte-identical (set mode, where both claim the same result).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, printRatio } from './measure.js';

const EPOCH = '1700000000';
const WALK = fileURLToPath(new URL('../src/normalize/walk.js', import.meta.url));

function find(dirs: string[], pattern: RegExp, count: number): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 8 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && pattern.test(e.name) && statSync(p).size < 8 << 20) found.push(p);
    }
  };
  for (const d of dirs) walk(d, 0);
  const step = Math.max(1, Math.floor(found.length / count));
  return found.filter((_, i) => i % step === 0).slice(0, count);
}

function copyAll(files: string[], to: string): string[] {
  mkdirSync(to, { recursive: true });
  return files.map((f, i) => {
    const p = join(to, `${String(i).padStart(4, '0')}-${basename(f)}`);
    copyFileSync(f, p);
    return p;
  });
}

/** Drops the files strip-nondeterminism refuses (it stops at the first one), so both tools get the same list. */
function acceptedBySn(files: string[], scratch: string): string[] {
  let ok = [...files];
  for (let attempt = 0; attempt < 50; attempt++) {
    rmSync(scratch, { recursive: true, force: true });
    const copies = copyAll(ok, scratch);
    const r = spawnSync('strip-nondeterminism', ['--timestamp', EPOCH, ...copies], { encoding: 'utf8' });
    if (r.status === 0) return ok;
    const bad = copies.findIndex((c) => r.stderr.includes(c));
    if (bad < 0) throw new Error(`strip-nondeterminism failed: ${r.stderr}`);
    ok = ok.filter((_, i) => i !== bad);
  }
  return ok;
}

const perKind = Number(process.argv[2] ?? 100);
const roots = ['/usr/share', '/usr/lib', '/usr/local/lib', '/opt'];
const candidates = [
  ...find(roots, /\.jar$/, perKind),
  ...find(roots, /\.(zip|whl)$/, perKind),
  ...find(roots, /\.png$/, perKind),
  ...find(roots, /\.gz$/, perKind),
];
const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-normalize-'));
try {
  const files = acceptedBySn(candidates, join(work, 'probe'));
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  console.log(`${files.length} files (${(bytes / 1e6).toFixed(1)} MB): ${['jar', 'zip|whl', 'png', 'gz'].map((k) => `${files.filter((f) => new RegExp(`\\.(${k})$`).test(f)).length} ${k}`).join(', ')}`);
  const snFiles = copyAll(files, join(work, 'sn'));
  const usFiles = copyAll(files, join(work, 'us'));
  const theirs = measure('strip-nondeterminism 1.13', ['strip-nondeterminism', '--timestamp', EPOCH, ...snFiles], 1);
  const script = `const m = await import(${JSON.stringify(WALK)}); const r = await m.normalizePaths([${JSON.stringify(join(work, 'us'))}], { timestamp: ${EPOCH}, clamp: false }); if (r.results.some((x) => x.status === 'error')) process.exit(3);`;
  // a script file, not `-e`: worker threads inherit the command line's --input-type
  const runner = join(work, 'run.mjs');
  writeFileSync(runner, script);
  const ours = measure('reprimage normalize', [process.execPath, runner], 1);
  const same = snFiles.filter((f, i) => readFileSync(f).equals(readFileSync(usFiles[i]!))).length;
  printRatio(ours, theirs, `; ${(theirs.seconds / ours.seconds).toFixed(1)}x faster; ${same}/${files.length} outputs byte-identical`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
