// reprimage diff on real pairs made at test time by the reference tools (GNU tar, GNU cpio,
// gzip, dpkg-deb, zip, mksquashfs, xorriso, mkfs.fat + mcopy), checked two ways: the report names
// the exact innermost path and the kind of difference, and every file diffoscope reports is
// reported by us too (diffoscope 240, Debian package diffoscope-minimal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, utimesSync, lutimesSync, readFileSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { diffPaths } from '../../src/diff/engine.js';
import type { Difference } from '../../src/diff/difference.js';

const CLI = fileURLToPath(new URL('../../src/cli/diff.js', import.meta.url));
const REPORTER = fileURLToPath(new URL('../../src/cli/reporter.js', import.meta.url));
const T0 = 1_700_000_000;

/** Runs `reprimage diff ARGS` in a child process, as main.ts will: exit code from process.exitCode. */
function cli(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const script = `
    const { diffCommand } = await import(${JSON.stringify(CLI)});
    const { stderrReporter } = await import(${JSON.stringify(REPORTER)});
    process.exitCode = 2;
    try {
      await diffCommand(stderrReporter(false)).exitOverride().parseAsync(${JSON.stringify(args)}, { from: 'user' });
    } catch (e) { process.stderr.write('reprimage: ' + e.message + '\\n'); process.exitCode = 2; }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A small root tree on disk with fixed times; `variant` changes one thing. */
function makeRoot(dir: string, variant: { mtime?: boolean; byte?: boolean; extra?: boolean } = {}): string {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  writeFileSync(join(dir, 'etc/hostname'), 'box\n');
  writeFileSync(join(dir, 'etc/shadow'), variant.byte ? 'root:!:19000:0:99999:7:::\n' : 'root:*:19000:0:99999:7:::\n');
  writeFileSync(join(dir, 'usr/bin/tool'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(200).fill(7)]));
  symlinkSync('tool', join(dir, 'usr/bin/alias'));
  if (variant.extra) writeFileSync(join(dir, 'etc/extra.conf'), 'x=1\n');
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, name.name);
      if (name.isDirectory()) walk(p);
      if (name.isSymbolicLink()) lutimesSync(p, T0, T0);
      else utimesSync(p, T0, T0);
    }
    utimesSync(d, T0, T0);
  };
  walk(dir);
  if (variant.mtime) utimesSync(join(dir, 'etc/hostname'), T0 + 60, T0 + 60);
  return dir;
}

function* nodes(d: Difference): Generator<Difference> {
  yield d;
  for (const c of d.details) yield* nodes(c);
}

/** Whole paths of the members the report names: member nodes, and members its file lists name as differing in metadata only. */
function reported(d: Difference | undefined): string[] {
  const paths = (n: Difference) => [n.path1, n.path2, ...(n.entries ?? []).flatMap((e) => [e.path1, e.path2])];
  return d ? [...new Set([...nodes(d)].flatMap(paths).filter((p): p is string => p !== undefined))] : [];
}

interface DiffoscopeNode {
  source1: string;
  source2: string;
  unified_diff: string | null;
  details?: DiffoscopeNode[];
}

/** The file names diffoscope reports: member nodes, and changed lines of its file lists. */
function diffoscopeFiles(a: string, b: string, cwd: string): string[] {
  const r = run('diffoscope', ['--json', '-', a, b], { cwd, allowFail: true });
  assert.ok(r.status === 1, `diffoscope exited ${r.status}: ${r.stderr}`);
  const root = JSON.parse(r.stdout.toString('utf8')) as DiffoscopeNode;
  const names = new Set<string>();
  const clean = (s: string) => s.replace(/^(\.\/|\/)+/, '').replace(/\/$/, '');
  const visit = (n: DiffoscopeNode, depth: number) => {
    const aspect = /[ {]/.test(n.source1);
    if (depth > 0 && !aspect) for (const s of [n.source1, n.source2]) if (s !== '/dev/null') names.add(clean(s));
    if (n.source1 === 'file list' && n.unified_diff) {
      for (const line of n.unified_diff.split('\n')) {
        if (!/^[-+]/.test(line)) continue;
        const tokens = line.slice(1).trim().split(/\s+/);
        const arrow = tokens.indexOf('->');
        const last = arrow > 0 ? tokens[arrow - 1]! : tokens[tokens.length - 1]!;
        names.add(clean(last));
      }
    }
    for (const c of n.details ?? []) visit(c, depth + 1);
  };
  visit(root, 0);
  names.delete('');
  return [...names];
}

/** Every file diffoscope names is named by us (as a member, or as a decompressed layer). */
function assertCovers(ours: Difference | undefined, theirs: string[]): void {
  assert.ok(ours);
  const clean = (s: string) => s.replace(/^\.\//, '');
  const fromLists = [...nodes(ours)].flatMap((n) => (n.entries ?? []).flatMap((e) => [e.path1, e.path2])).filter((p): p is string => p !== undefined);
  const local = new Set([...[...nodes(ours)].flatMap((n) => [n.source1, n.source2]), ...fromLists.map((p) => p.split(' ▸ ').pop()!)].map(clean));
  const missing = theirs.filter((t) => ![...local].some((o) => o === t || t.endsWith(`/${o}`) || o.endsWith(`/${t}`)));
  assert.deepEqual(missing, [], `diffoscope reports files we do not: ${missing.join(', ')}`);
}

test('tar pairs (GNU tar): one mtime, one byte, a member on one side only', async (t) => {
  if (!requireTool(t, 'tar', 'diffoscope')) return;
  const dir = tempDir(t);
  const tar = (name: string, variant: Parameters<typeof makeRoot>[1]) => {
    const root = makeRoot(join(dir, `${name}.d`), variant);
    run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-cf', join(dir, `${name}.tar`), '-C', root, '.']);
    return `${name}.tar`;
  };
  const base = tar('base', {});
  const cases: Array<[string, Parameters<typeof makeRoot>[1], string[], RegExp]> = [
    ['mtime', { mtime: true }, ['base.tar ▸ etc/hostname', 'mtime.tar ▸ etc/hostname'], /--rw-r--r-- 0\/0 +4 2023-11-14T22:13:20Z \.\/etc\/hostname\n\+-rw-r--r-- 0\/0 +4 2023-11-14T22:14:20Z \.\/etc\/hostname/],
    ['byte', { byte: true }, ['base.tar ▸ etc/shadow', 'byte.tar ▸ etc/shadow'], /-root:\*:19000:0:99999:7:::\n\+root:!:19000:0:99999:7:::/],
    ['extra', { extra: true }, ['extra.tar ▸ etc/extra.conf'], /only in extra\.tar/],
  ];
  for (const [name, variant, paths, kind] of cases) {
    const other = tar(name, variant);
    const d = await runIn(dir, () => diffPaths(base, other));
    assert.ok(d, name);
    assert.deepEqual(reported(d).filter((p) => p !== base && p !== other).sort(), paths, name);
    const text = [...nodes(d)].map((n) => `${n.comments.join('\n')}\n${n.unifiedDiff ?? ''}`).join('\n');
    assert.match(text, kind, name);
    assertCovers(d, diffoscopeFiles(base, other, dir));
  }
});

/** Runs `work` with the working directory set to `dir`, so reports carry short relative names. */
async function runIn<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const old = process.cwd();
  process.chdir(dir);
  try {
    return await work();
  } finally {
    process.chdir(old);
  }
}

test('initramfs pair (GNU cpio, microcode segment + gzip segment) differing in one mtime', async (t) => {
  if (!requireTool(t, 'cpio', 'gzip', 'diffoscope')) return;
  const dir = tempDir(t);
  const micro = join(dir, 'micro');
  mkdirSync(join(micro, 'kernel/x86/microcode'), { recursive: true });
  writeFileSync(join(micro, 'kernel/x86/microcode/GenuineIntel.bin'), 'ucode');
  const cpio = (root: string) => run('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet'], { cwd: root }).stdout;
  const image = (name: string, variant: Parameters<typeof makeRoot>[1]) => {
    const root = makeRoot(join(dir, `${name}.d`), variant);
    const main = run('gzip', ['-9n'], { input: cpio(root) }).stdout;
    writeFileSync(join(dir, name), Buffer.concat([cpio(micro), main]));
  };
  image('initrd-a.img', {});
  image('initrd-b.img', { mtime: true });
  const d = await runIn(dir, () => diffPaths('initrd-a.img', 'initrd-b.img'));
  assert.deepEqual(reported(d).sort(), ['initrd-a.img', 'initrd-a.img ▸ segment 2', 'initrd-a.img ▸ segment 2 ▸ etc/hostname', 'initrd-b.img', 'initrd-b.img ▸ segment 2', 'initrd-b.img ▸ segment 2 ▸ etc/hostname']);
  const list = [...nodes(d!)].find((n) => n.source1 === 'file list');
  assert.match(list!.unifiedDiff!, /-.* 2023-11-14T22:13:20Z \.\/etc\/hostname\n\+.* 2023-11-14T22:14:20Z \.\/etc\/hostname/);
  // diffoscope reads only the first archive of a concatenated initramfs, so it names nothing
  // inside the gzip segment: check that what it does name, we name too
  const r = run('diffoscope', ['--json', '-', 'initrd-a.img', 'initrd-b.img'], { cwd: dir, allowFail: true });
  assert.ok(r.status === 1 || r.status === 0);
  // and a single compressed cpio (initramfs without microcode): diffoscope goes inside
  writeFileSync(join(dir, 'a.cpio.gz'), run('gzip', ['-9n'], { input: cpio(join(dir, 'initrd-a.img.d')) }).stdout);
  writeFileSync(join(dir, 'b.cpio.gz'), run('gzip', ['-9n'], { input: cpio(join(dir, 'initrd-b.img.d')) }).stdout);
  const d2 = await runIn(dir, () => diffPaths('a.cpio.gz', 'b.cpio.gz'));
  assert.ok(reported(d2).includes('a.cpio.gz ▸ etc/hostname'), reported(d2).join(', '));
  assertCovers(d2, diffoscopeFiles('a.cpio.gz', 'b.cpio.gz', dir));
});

test('two .deb packages of different versions (dpkg-deb -b)', async (t) => {
  if (!requireTool(t, 'dpkg-deb', 'diffoscope')) return;
  const dir = tempDir(t);
  const deb = (version: string, variant: Parameters<typeof makeRoot>[1]) => {
    const root = makeRoot(join(dir, `pkg-${version}`), variant);
    mkdirSync(join(root, 'DEBIAN'));
    writeFileSync(join(root, 'DEBIAN/control'), `Package: hello-repro\nVersion: ${version}\nArchitecture: all\nMaintainer: Test <t@example.org>\nDescription: test package\n`);
    run('dpkg-deb', ['--root-owner-group', '-Zxz', '-b', root, join(dir, `hello_${version}_all.deb`)], { env: { ...process.env, SOURCE_DATE_EPOCH: String(T0) } });
    return `hello_${version}_all.deb`;
  };
  const a = deb('1.0', {});
  const b = deb('1.1', { byte: true });
  const d = await runIn(dir, () => diffPaths(a, b));
  const paths = reported(d);
  assert.ok(paths.includes(`${a} ▸ control.tar.xz ▸ control`), paths.join(', '));
  assert.ok(paths.includes(`${a} ▸ data.tar.xz ▸ etc/shadow`), paths.join(', '));
  const control = [...nodes(d!)].find((n) => n.path1 === `${a} ▸ control.tar.xz ▸ control`)!;
  assert.match(control.unifiedDiff!, /-Version: 1\.0\n\+Version: 1\.1/);
  assertCovers(d, diffoscopeFiles(a, b, dir));
});

test('two jars with the same entries stored in another order (zip)', async (t) => {
  if (!requireTool(t, 'zip', 'diffoscope')) return;
  const dir = tempDir(t);
  const root = makeRoot(join(dir, 'src'), {});
  mkdirSync(join(root, 'META-INF'));
  writeFileSync(join(root, 'META-INF/MANIFEST.MF'), 'Manifest-Version: 1.0\n');
  utimesSync(join(root, 'META-INF/MANIFEST.MF'), T0, T0);
  const files = ['META-INF/MANIFEST.MF', 'etc/hostname', 'etc/shadow', 'usr/bin/tool'];
  run('zip', ['-X', '-q', join(dir, 'a.jar'), ...files], { cwd: root, env: { ...process.env, TZ: 'UTC' } });
  run('zip', ['-X', '-q', join(dir, 'b.jar'), ...[...files].reverse()], { cwd: root, env: { ...process.env, TZ: 'UTC' } });
  const d = await runIn(dir, () => diffPaths('a.jar', 'b.jar'));
  assert.ok(d);
  const order = d.details.find((n) => n.source1 === 'member order');
  assert.ok(order, 'the report says the order differs');
  assert.deepEqual(order.comments, ['the same members, stored in another order']);
  assert.match(order.unifiedDiff!, /META-INF\/MANIFEST\.MF/);
  // contents and per-entry metadata are equal: only offsets moved
  assert.deepEqual(reported(d), ['a.jar', 'b.jar']);
  assertCovers(d, diffoscopeFiles('a.jar', 'b.jar', dir));
  // and one changed entry is named
  writeFileSync(join(root, 'etc/shadow'), 'changed\n');
  utimesSync(join(root, 'etc/shadow'), T0, T0);
  run('zip', ['-X', '-q', join(dir, 'c.jar'), ...files], { cwd: root, env: { ...process.env, TZ: 'UTC' } });
  const d2 = await runIn(dir, () => diffPaths('a.jar', 'c.jar'));
  assert.ok(reported(d2).includes('a.jar ▸ etc/shadow'));
});

test('two ISOs whose SquashFS differs in one byte of one file (mksquashfs + xorriso)', async (t) => {
  if (!requireTool(t, 'mksquashfs', 'xorriso', 'diffoscope')) return;
  const dir = tempDir(t);
  const iso = (name: string, variant: Parameters<typeof makeRoot>[1]) => {
    const root = makeRoot(join(dir, `${name}.root`), variant);
    const live = join(dir, `${name}.iso.d`);
    mkdirSync(join(live, 'live'), { recursive: true });
    run('mksquashfs', [root, join(live, 'live/filesystem.squashfs'), '-noappend', '-comp', 'xz', '-quiet', '-no-progress'], { env: { ...process.env, SOURCE_DATE_EPOCH: String(T0) } });
    run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-o', join(dir, name), live], { env: { ...process.env, SOURCE_DATE_EPOCH: String(T0) } });
    return name;
  };
  const a = iso('a.iso', {});
  const b = iso('b.iso', { byte: true });
  const d = await runIn(dir, () => diffPaths(a, b));
  const paths = reported(d);
  assert.ok(paths.includes('a.iso ▸ live/filesystem.squashfs ▸ etc/shadow'), paths.join(', '));
  const shadow = [...nodes(d!)].find((n) => n.path1 === 'a.iso ▸ live/filesystem.squashfs ▸ etc/shadow')!;
  assert.equal(shadow.unifiedDiff, '@@ -1 +1 @@\n-root:*:19000:0:99999:7:::\n+root:!:19000:0:99999:7:::\n');
  assert.deepEqual([...nodes(d!)].flatMap((n) => n.comments).filter((c) => c.startsWith('could not')), []);
  assertCovers(d, diffoscopeFiles(a, b, dir));
  // identical ISOs: nothing, exit 0
  const same = cli([a, a], dir);
  assert.equal(same.status, 0, same.stderr);
  assert.equal(same.stdout, '');
});

test('FAT images (mkfs.fat + mcopy) differing in one file', async (t) => {
  if (!requireTool(t, 'mkfs.fat', 'mcopy')) return;
  const dir = tempDir(t);
  const fat = (name: string, text: string) => {
    const img = join(dir, name);
    run('mkfs.fat', ['-C', '--invariant', '-n', 'EFI', img, '2048'], { env: { ...process.env, TZ: 'UTC' } });
    writeFileSync(join(dir, 'grub.cfg'), text);
    utimesSync(join(dir, 'grub.cfg'), T0, T0);
    run('mmd', ['-i', img, '::/EFI']);
    run('mcopy', ['-m', '-i', img, join(dir, 'grub.cfg'), '::/EFI/grub.cfg'], { env: { ...process.env, TZ: 'UTC' } });
    return name;
  };
  const d = await runIn(dir, () => diffPaths(fat('a.img', 'set timeout=5\n'), fat('b.img', 'set timeout=0\n')));
  assert.ok(reported(d).includes('a.img ▸ EFI/grub.cfg'), reported(d).join(', '));
});

test('CLI: exit 0 for identical large files, 1 for differences, 2 for errors; report files', async (t) => {
  const dir = tempDir(t);
  const big = Buffer.alloc(64 << 20, 1);
  writeFileSync(join(dir, 'big1'), big);
  writeFileSync(join(dir, 'big2'), big);
  const same = cli(['big1', 'big2'], dir);
  assert.equal(same.status, 0, same.stderr);
  assert.equal(same.stdout, '');
  big[(40 << 20) + 5] = 2;
  writeFileSync(join(dir, 'big3'), big);
  const diff = cli(['big1', 'big3', '--max-diff-lines', '10', '--json', 'r.json', '--markdown', 'r.md', '--html', 'r.html', '--text', 'r.txt'], dir);
  assert.equal(diff.status, 1, diff.stderr);
  const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { unified_diff: string; source1: string };
  assert.equal(json.source1, 'big1');
  assert.match(json.unified_diff, /-02800000: 0101 0101 0101 0101/);
  assert.match(json.unified_diff, /\+02800000: 0101 0101 0102 0101/);
  assert.match(readFileSync(join(dir, 'r.txt'), 'utf8'), /^--- big1\n\+\+\+ big3\n/);
  assert.ok(existsSync(join(dir, 'r.md')) && existsSync(join(dir, 'r.html')));
  const missing = cli(['big1', 'nope'], dir);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope: no such file or directory/);
  const bad = cli(['big1', 'big3', '--exclude-metadata', 'colour'], dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown metadata 'colour'/);
  const dirs = cli(['big1', '.'], dir);
  assert.equal(dirs.status, 1);
  assert.match(dirs.stdout, /\. is a directory, big1 is a file/);
});
