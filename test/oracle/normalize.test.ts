/**
 * normalize against the reference tools: strip-nondeterminism gives the same bytes on inputs made
 * now by zip, jar, fastjar, Python's zipfile, gzip, ar and msgfmt, and on real files from this
 * machine's Debian packages (set mode); each documented deviation is checked both ways so the
 * test fails if it disappears; the formats' own tools accept what we write; and the CLI reports
 * with the right exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { normalizePaths } from '../../src/normalize/walk.js';
import { normalizeFile } from '../../src/normalize/file.js';
import { requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';

const T = 1700000000;
const SN = ['strip-nondeterminism', '--normalizers=+ar', '--timestamp', String(T)];

/** Copies `files` into two directories, runs strip-nondeterminism on one and reprimage (set mode) on the other. */
async function bothWays(dir: string, files: string[]): Promise<{ sn: string; us: string; names: string[] }> {
  const sn = join(dir, 'sn');
  const us = join(dir, 'us');
  mkdirSync(sn);
  mkdirSync(us);
  const names = files.map((f, i) => `${String(i).padStart(3, '0')}-${basename(f)}`);
  files.forEach((f, i) => {
    copyFileSync(f, join(sn, names[i]!));
    copyFileSync(f, join(us, names[i]!));
  });
  run(SN[0]!, [...SN.slice(1), ...names], { cwd: sn });
  const report = await normalizePaths([us], { buildTime: T, clamp: false, workers: 2 });
  for (const r of report.results) assert.notEqual(r.status, 'error', JSON.stringify(r));
  return { sn, us, names };
}

function same(a: string, b: string): boolean {
  return readFileSync(a).equals(readFileSync(b));
}

function makeInputs(dir: string): string[] {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'hello\n');
  writeFileSync(join(src, 'sub', 'b.txt'), Array.from({ length: 2000 }, (_, i) => `${i}\n`).join(''));
  writeFileSync(join(src, 'sub', 'deep', 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(src, 'empty'), '');
  const out = join(dir, 'in');
  mkdirSync(out);
  const sh = (cmd: string) => run('sh', ['-c', cmd], { cwd: src });
  sh(`zip -qr ${out}/infozip.zip .`);
  sh(`zip -qrX ${out}/no-extras.zip .`);
  sh(`find . -type f | sort | zip -q - -@ > ${out}/streamed.zip`);
  sh(`zip -qr -fz ${out}/zip64.zip .`);
  sh(`jar cf ${out}/openjdk.jar .`);
  sh(`fastjar cf ${out}/fastjar.jar .`);
  run('python3', ['-c', `import zipfile\nwith zipfile.ZipFile('${out}/python.zip','w',zipfile.ZIP_DEFLATED) as z:\n for n in ['a.txt','sub/b.txt','empty']: z.write(n, n)\n z.writestr('dir/','')`], { cwd: src });
  sh(`gzip -c sub/b.txt > ${out}/named.gz && gzip -nc a.txt > ${out}/plain.gz`);
  sh(`ar rcU ${out}/lib.a a.txt sub/b.txt sub/deep/run.sh`);
  writeFileSync(join(dir, 'x.po'), 'msgid ""\nmsgstr ""\n"PO-Revision-Date: 2031-01-01 10:00+0100\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "a"\nmsgstr "b"\n');
  run('msgfmt', ['-o', join(out, 'dated.mo'), join(dir, 'x.po')]);
  return readdirSync(out).sort().map((n) => join(out, n));
}

test('strip-nondeterminism gives the same bytes on freshly made zip, jar, gzip, ar and mo files', async (t) => {
  if (!requireTool(t, 'strip-nondeterminism', 'zip', 'jar', 'fastjar', 'gzip', 'ar', 'msgfmt', 'python3', 'unzip')) return;
  const dir = tempDir(t);
  const inputs = makeInputs(dir);
  assert.equal(inputs.length, 11);
  const { sn, us, names } = await bothWays(dir, inputs);
  const differing = names.filter((n) => !same(join(sn, n), join(us, n)));
  assert.deepEqual(differing, []);
  // they really changed, and stay valid
  // `gzip -n` output is already clean; every other input really changed
  for (const [i, n] of names.entries()) assert.equal(readFileSync(inputs[i]!).equals(readFileSync(join(us, n))), n.endsWith('plain.gz'), n);
  for (const n of names.filter((x) => /\.(zip|jar)$/.test(x))) run('unzip', ['-tq', join(us, n)]);
  for (const n of names.filter((x) => x.endsWith('.gz'))) run('gzip', ['-t', join(us, n)]);
  const lib = names.find((x) => x.endsWith('.a'))!;
  assert.equal(run('ar', ['t', join(us, lib)]).stdout.toString(), 'a.txt\nb.txt\nrun.sh\n');
  assert.match(run('ar', ['tv', join(us, lib)]).stdout.toString(), /^rw-r--r-- 0\/0 +6 Nov 14 22:13 2023 a\.txt$/m);
  const mo = names.find((x) => x.endsWith('.mo'))!;
  assert.match(run('msgunfmt', [join(us, mo)]).stdout.toString(), /PO-Revision-Date: 2023-11-14 22:13\+0000/);
  // idempotent: a second run changes nothing
  const again = await normalizePaths([us], { buildTime: T, clamp: false, workers: 1 });
  assert.deepEqual(again.results.map((r) => r.status), names.map(() => 'unchanged'));
});

test('deviations from strip-nondeterminism, each on purpose (docs/normalize.md)', async (t) => {
  if (!requireTool(t, 'strip-nondeterminism', 'zip', 'zipinfo', 'python3', 'gzip')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'target'), 'x\n');
  symlinkSync('target', join(src, 'link'));
  const inputs = join(dir, 'in');
  mkdirSync(inputs);
  run('sh', ['-c', `zip -qy ${inputs}/symlink.zip link target`], { cwd: src });
  run('python3', ['-c', `import gzip; open('${inputs}/python.gz','wb').write(gzip.compress(b'data', mtime=1800000000))`]);
  run('sh', ['-c', `gzip -c target > ${inputs}/multi.gz && gzip -c target >> ${inputs}/multi.gz`], { cwd: src });
  writeFileSync(join(src, 'mimetype'), 'application/epub+zip');
  mkdirSync(join(src, 'META-INF'));
  writeFileSync(join(src, 'META-INF', 'container.xml'), '<container/>');
  run('sh', ['-c', `zip -q0X ${inputs}/book.epub mimetype && zip -qrX ${inputs}/book.epub META-INF`], { cwd: src });
  const { sn, us, names } = await bothWays(dir, readdirSync(inputs).sort().map((n) => join(inputs, n)));
  const [epub, multi, python, symlink] = names;
  // 1. symbolic links in zips stay links (strip-nondeterminism turns them into 0755 files)
  assert.match(run('zipinfo', [join(us, symlink!), 'link']).stdout.toString(), /^lrwxrwxrwx/);
  assert.match(run('zipinfo', [join(sn, symlink!), 'link']).stdout.toString(), /^-rwxr-xr-x/);
  // 2. the gzip OS byte becomes 3 (Unix); strip-nondeterminism keeps Python's 255
  assert.equal(readFileSync(join(us, python!))[9], 3);
  assert.equal(readFileSync(join(sn, python!))[9], 255);
  // 3. every gzip member is normalized; strip-nondeterminism only the first
  const usMulti = readFileSync(join(us, multi!));
  const snMulti = readFileSync(join(sn, multi!));
  const second = (b: Buffer) => b.indexOf(Buffer.from([0x1f, 0x8b, 8]), 10);
  assert.equal(usMulti[second(usMulti) + 3]! & 0x08, 0, 'second member has no name');
  assert.equal(snMulti[second(snMulti) + 3]! & 0x08, 0x08, 'strip-nondeterminism keeps its name');
  run('gzip', ['-t', join(us, multi!)]);
  // 4. an epub's (or OpenDocument's) leading `mimetype` stays first
  assert.match(run('zipinfo', ['-1', join(us, epub!)]).stdout.toString(), /^mimetype\n/);
  assert.doesNotMatch(run('zipinfo', ['-1', join(sn, epub!)]).stdout.toString(), /^mimetype\n/);
});

test('pom.properties inside jars: our one addition to strip-nondeterminism\'s jar handler', async (t) => {
  if (!requireTool(t, 'strip-nondeterminism', 'jar', 'unzip')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'META-INF', 'maven', 'g', 'a'), { recursive: true });
  writeFileSync(join(src, 'META-INF', 'maven', 'g', 'a', 'pom.properties'), '#Generated by Maven\n#Tue Feb 14 12:34:56 UTC 2017\nversion=1\n');
  writeFileSync(join(src, 'A.class'), 'x');
  run('jar', ['cf', join(dir, 'a.jar'), '-C', src, '.']);
  const { sn, us, names } = await bothWays(dir, [join(dir, 'a.jar')]);
  const jar = names[0]!;
  assert.equal(run('unzip', ['-p', join(us, jar), 'META-INF/maven/g/a/pom.properties']).stdout.toString(), '#Generated by Maven\nversion=1\n');
  assert.match(run('unzip', ['-p', join(sn, jar), 'META-INF/maven/g/a/pom.properties']).stdout.toString(), /2017/);
  // everything else agrees: normalizing strip-nondeterminism's output gives our output
  await normalizePaths([join(sn, jar)], { buildTime: T, clamp: false, workers: 1 });
  assert.ok(same(join(sn, jar), join(us, jar)));
});

/** Up to `n` files from `dirs` (recursively) whose names match, spread over the sorted list. */
function sample(dirs: string[], pattern: RegExp, n: number, maxSize = 2 << 20): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 6 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && pattern.test(e.name)) found.push(p);
    }
  };
  for (const d of dirs) walk(d, 0);
  const small = found.filter((f) => readFileSync(f).length <= maxSize);
  const step = Math.max(1, Math.floor(small.length / n));
  return small.filter((_, i) => i % step === 0).slice(0, n);
}

test('real files from Debian packages: same bytes as strip-nondeterminism, valid, idempotent', async (t) => {
  if (!requireTool(t, 'strip-nondeterminism', 'unzip', 'gzip', 'pngcheck', 'msgunfmt')) return;
  const dir = tempDir(t);
  const jars = sample(['/usr/share/java', '/usr/share/maven-repo'], /\.jar$/, 12);
  const mos = sample(['/usr/share/locale/de', '/usr/share/locale/fr'], /\.mo$/, 12);
  const pngs = sample(['/usr/share/icons', '/usr/share/pixmaps', '/usr/share/doc', '/usr/lib/python3'], /\.png$/, 12);
  const gzs = sample(['/usr/share/doc', '/usr/share/man/man1'], /\.gz$/, 12);
  const files = [...jars, ...mos, ...pngs, ...gzs];
  if (files.length < 20) {
    skipOrFailInCi(t, `only ${files.length} real files found on this machine`);
    return;
  }
  const { sn, us, names } = await bothWays(dir, files);
  const differing = names.filter((n) => !same(join(sn, n), join(us, n)));
  // the only allowed difference: Maven's pom.properties date inside jars (see the test above)
  for (const n of differing) {
    assert.ok(n.endsWith('.jar'), `${n} differs from strip-nondeterminism`);
    const listing = run('unzip', ['-Z1', join(us, n)]).stdout.toString();
    assert.match(listing, /pom\.properties/, `${n} differs but has no pom.properties`);
    await normalizeFile(join(sn, n), { buildTime: T, clamp: false });
    assert.ok(same(join(sn, n), join(us, n)), `${n}: normalizing strip-nondeterminism's output gives ours`);
  }
  for (const n of names) {
    const p = join(us, n);
    if (n.endsWith('.jar')) run('unzip', ['-tq', p]);
    else if (n.endsWith('.gz')) run('gzip', ['-t', p]);
    else if (n.endsWith('.png')) run('pngcheck', ['-q', p]);
    else if (n.endsWith('.mo')) run('msgunfmt', [p]);
  }
  const again = await normalizePaths([us], { buildTime: T, clamp: false, workers: 2 });
  assert.deepEqual(again.results.filter((r) => r.status !== 'unchanged').map((r) => r.path), []);
});

test('a clamped .pyc is still used by Python when its source is clamped too', async (t) => {
  if (!requireTool(t, 'python3')) return;
  const dir = tempDir(t);
  const source = join(dir, 'mod_r.py');
  writeFileSync(source, 'VALUE = 42\n');
  utimesSync(source, 2000000000, 2000000000);
  run('python3', ['-c', 'import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)', source]);
  const cache = join(dir, '__pycache__');
  const pyc = join(cache, readdirSync(cache)[0]!);
  assert.equal((await normalizeFile(pyc, { buildTime: T, clamp: true })).status, 'changed');
  utimesSync(source, T, T); // what a clamped image does to the source
  const r = spawnSync('python3', ['-v', '-B', '-c', 'import mod_r; print(mod_r.VALUE)'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.stdout, '42\n');
  assert.match(r.stderr, /code object from '.*mod_r\..*\.pyc'/);
  assert.doesNotMatch(r.stderr, /bytecode is stale for 'mod_r'/);
});

/** The built CLI when main.ts registers `normalize`, else a small stand-in with main.ts's error handling. */
function cli(dir: string): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const main = join(here, '..', '..', 'src', 'cli', 'main.js');
  const probe = spawnSync(process.execPath, [main, 'normalize', '--help'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.includes('reprimage normalize')) return [main];
  const stand = join(dir, 'cli.mjs');
  const mod = (name: string) => JSON.stringify(join(here, '..', '..', 'src', 'cli', name));
  writeFileSync(
    stand,
    `const { Command } = await import(${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('commander')).href)});
const { normalizeCommand } = await import(${mod('normalize.js')});
const { poChangedCommand } = await import(${mod('po-changed.js')});
const { stderrReporter } = await import(${mod('reporter.js')});
const program = new Command('reprimage').exitOverride();
for (const c of [normalizeCommand(stderrReporter(false)), poChangedCommand(stderrReporter(false))]) program.addCommand(c.exitOverride());
try { await program.parseAsync(process.argv); } catch (e) {
  if (e && e.name === 'ReprimageError') { process.stderr.write('reprimage: ' + e.message + '\\n'); process.exitCode = 2; }
  else if (e && String(e.code).startsWith('commander.')) process.exitCode = 2; else throw e;
}
`,
  );
  return [stand];
}

test('CLI: --check exits 1, a broken file exits 2 naming it and stays untouched, po-changed', (t) => {
  if (!requireTool(t, 'gzip')) return;
  const dir = tempDir(t);
  const base = cli(dir);
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  run('sh', ['-c', `echo data > f && gzip -c f > ${tree}/a.gz`], { cwd: dir });
  const call = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [...base, ...args], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '', ...env }, cwd: dir });
  let r = call(['normalize', tree]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /SOURCE_DATE_EPOCH/);
  r = call(['normalize', '--check', tree], { SOURCE_DATE_EPOCH: String(T) });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, `would change: ${join(tree, 'a.gz')} (gzip)\n`);
  r = call(['normalize', '--json', tree], { SOURCE_DATE_EPOCH: String(T) });
  assert.equal(r.status, 0);
  assert.deepEqual(JSON.parse(r.stdout).summary, { changed: 1 });
  const broken = join(tree, 'b.gz');
  writeFileSync(broken, readFileSync(join(tree, 'a.gz')).subarray(0, 15));
  const before = readFileSync(broken);
  r = call(['normalize', '--timestamp', String(T), tree]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated gzip`));
  assert.deepEqual(readFileSync(broken), before);
  const po = (date: string, line: number) => `#: a.c:${line}\nmsgid ""\nmsgstr ""\n"POT-Creation-Date: ${date}\\n"\n\nmsgid "x"\nmsgstr ""\n`;
  writeFileSync(join(dir, 'old.pot'), po('2020-01-01 00:00+0000', 1));
  writeFileSync(join(dir, 'new.pot'), po('2024-01-01 00:00+0000', 9));
  assert.equal(call(['po-changed', 'old.pot', 'new.pot']).status, 0);
  writeFileSync(join(dir, 'new.pot'), po('2024-01-01 00:00+0000', 9).replace('"x"', '"y"'));
  r = call(['po-changed', 'old.pot', 'new.pot']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, 'changed: old.pot:6 differs from new.pot:6\n');
});
