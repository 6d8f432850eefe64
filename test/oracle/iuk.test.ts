// Upgrade kits end to end, through the built CLI: two live-like ISO images made by our ISO and
// SquashFS writers → kit → GNU tar and unsquashfs read it, the kernel's overlayfs stacks the
// delta onto the old root file system and gets the new one, `iuk-apply --expect` agrees, the kit
// is byte-identical when rebuilt under other conditions, and bad input exits 2 with one line.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, truncateSync, writeFileSync, statSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, runCli, sha256 } from '../helpers/cli.js';
import { IN_CI, requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';
import { writeLiveIsos } from '../helpers/live-iso-sample.js';

async function fixture(t: TestContext): Promise<{ dir: string; oldIso: string; newIso: string }> {
  const dir = tempDir(t, 'reprimage-iuk-');
  return { dir, ...(await writeLiveIsos(dir)) };
}

function makeKit(args: string[], options: Parameters<typeof runCli>[1] = {}): void {
  const r = runCli(['iuk', ...args, '-q'], options);
  assert.equal(r.status, 0, r.stderr);
}

/** Extracts one member of a tar archive to a file with GNU tar. */
function untarMember(archive: string, member: string, out: string): void {
  writeFileSync(out, run('tar', ['-xOf', archive, member]).stdout);
}

/** Every entry under `root` with type, mode, owner, size, mtime and link target: what a rebuild must reproduce. */
function findListing(root: string): string[] {
  const r = run('find', [root, '-mindepth', '1', '-printf', '%P %y %m %U:%G %s %T@ %l\\n']);
  return r.stdout.toString('utf8').split('\n').filter((l) => l !== '').map((l) => l.replace(/^(\S+ d \S+ \S+) \d+/, '$1 -')).sort();
}

test('iuk-apply --expect: the kit applied to the old ISO equals the new one (exit 0); against the old one it lists the paths (exit 1)', async (t) => {
  const { dir, oldIso, newIso } = await fixture(t);
  const kit = join(dir, 'kit.iuk');
  makeKit([oldIso, newIso, '-o', kit, '--source-date-epoch', '1700000000']);
  const same = runCli(['iuk-apply', oldIso, kit, '--expect', newIso]);
  assert.equal(same.status, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /equals/);
  const differ = runCli(['iuk-apply', oldIso, kit, '--expect', oldIso, '--json']);
  assert.equal(differ.status, 1, differ.stderr);
  const report = JSON.parse(differ.stdout) as { equal: boolean; differing: string[] };
  assert.equal(report.equal, false);
  for (const p of ['root: etc/added.conf', 'root: etc/os-release', 'root: etc/removed.conf', 'root: opt/app/new.txt', 'medium: live/vmlinuz', 'medium: isolinux/isolinux.cfg', 'medium: boot/old-notes.txt']) {
    assert.ok(report.differing.includes(p), `${p} in ${report.differing.join(', ')}`);
  }
});

test('GNU tar lists the kit (FORMAT, control.yml, system.tar) and its system.tar (changed boot files, module list, delta)', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const { dir, oldIso, newIso } = await fixture(t);
  const kit = join(dir, 'kit.iuk');
  makeKit([oldIso, newIso, '-o', kit, '--source-date-epoch', '1700000000']);
  const outer = run('tar', ['-tvf', kit], { env: { ...process.env, TZ: 'UTC' } }).stdout.toString('utf8');
  assert.deepEqual(outer.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(-1)[0]), ['FORMAT', 'control.yml', 'system.tar']);
  assert.match(outer, /^-rw-r--r-- 0\/0 .* 2023-11-14 22:13 FORMAT$/m);
  assert.equal(run('tar', ['-xOf', kit, 'FORMAT']).stdout.toString(), '1\n');
  const control = run('tar', ['-xOf', kit, 'control.yml']).stdout.toString();
  assert.match(control, /^delete_files:\n {2}- 'boot\/old-notes\.txt'\n$/m);
  untarMember(kit, 'system.tar', join(dir, 'system.tar'));
  const inner = run('tar', ['-tf', join(dir, 'system.tar')]).stdout.toString('utf8').split('\n').filter(Boolean);
  assert.deepEqual(inner, ['./', './isolinux/', './isolinux/isolinux.cfg', './live/', './live/filesystem.module', './live/upgrade.squashfs', './live/vmlinuz']);
  assert.equal(run('tar', ['-xOf', join(dir, 'system.tar'), './live/filesystem.module']).stdout.toString(), 'filesystem.squashfs\nupgrade.squashfs\n');
});

for (const style of ['overlay', 'aufs'] as const) {
  test(`unsquashfs lists the delta with its ${style} whiteouts and opaque directories`, async (t) => {
    if (!requireTool(t, 'tar', 'unsquashfs')) return;
    const { dir, oldIso, newIso } = await fixture(t);
    const kit = join(dir, 'kit.iuk');
    makeKit([oldIso, newIso, '-o', kit, '--whiteouts', style, '--source-date-epoch', '1700000000']);
    untarMember(kit, 'system.tar', join(dir, 'system.tar'));
    untarMember(join(dir, 'system.tar'), './live/upgrade.squashfs', join(dir, 'delta.sqfs'));
    const lines = run('unsquashfs', ['-lln', join(dir, 'delta.sqfs')]).stdout.toString('utf8').split('\n');
    const entry = (path: string) => lines.find((l) => l.endsWith(` squashfs-root/${path}`));
    if (style === 'overlay') {
      assert.match(entry('etc/removed.conf') ?? '', /^c--------- 0\/0\s+0,\s+0 /);
    } else {
      assert.match(entry('etc/.wh.removed.conf') ?? '', /^-r--r--r-- 0\/0\s+0 /);
      assert.ok(entry('opt/app/.wh..wh..opq'), 'aufs opaque marker');
      assert.ok(entry('var/lib/.wh..wh..opq'), 'aufs opaque marker');
    }
    for (const p of ['etc/added.conf', 'etc/os-release', 'opt/app/new.txt', 'opt/app/lib/z.txt', 'srv/www/index.html', 'var/new/deep/file']) assert.ok(entry(p), `${p} in the delta`);
    for (const p of ['etc/hostname', 'usr/bin/tool', 'bin', 'dev/null', 'opt/app/a.txt']) assert.equal(entry(p), undefined, `${p} must not be in the delta`);
    if (style === 'overlay' && process.getuid?.() === 0) {
      const x = join(dir, 'x');
      run('unsquashfs', ['-q', '-d', x, join(dir, 'delta.sqfs')]);
      const attr = spawnSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(x, 'opt/app')]);
      // root extracts trusted.* xattrs where the file system keeps them; in CI it must
      if (attr.status === 0 || IN_CI) assert.equal(String(attr.stdout), 'y', String(attr.stderr));
    }
  });
}

test("the kernel's overlayfs stacks the extracted delta onto the old root file system and shows exactly the new one", async (t) => {
  if (!requireTool(t, 'tar', 'unsquashfs', 'xorriso')) return;
  if (process.getuid?.() !== 0) return t.skip('mounting overlayfs needs root');
  const { dir, oldIso, newIso } = await fixture(t);
  const kit = join(dir, 'kit.iuk');
  makeKit([oldIso, newIso, '-o', kit]);
  const extractSquashfs = (iso: string, name: string) => {
    run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/live/filesystem.squashfs', join(dir, `${name}.sqfs`)], { stdio: 'ignore' });
    run('unsquashfs', ['-q', '-d', join(dir, name), join(dir, `${name}.sqfs`)]);
  };
  extractSquashfs(oldIso, 'old');
  extractSquashfs(newIso, 'new');
  untarMember(kit, 'system.tar', join(dir, 'system.tar'));
  untarMember(join(dir, 'system.tar'), './live/upgrade.squashfs', join(dir, 'delta.sqfs'));
  run('unsquashfs', ['-q', '-d', join(dir, 'delta'), join(dir, 'delta.sqfs')]);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(dir, 'delta')}:${join(dir, 'old')}`, mnt], { encoding: 'utf8' });
  if (mount.status !== 0) return skipOrFailInCi(t, `overlayfs cannot be mounted here: ${mount.stderr.trim()}`);
  try {
    assert.deepEqual(findListing(mnt), findListing(join(dir, 'new')));
    run('diff', ['-r', '--no-dereference', mnt, join(dir, 'new')]);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('the kit is byte-identical when rebuilt under another TZ, umask, locale, worker count and source path', async (t) => {
  const { dir, oldIso, newIso } = await fixture(t);
  const other = join(dir, 'elsewhere');
  mkdirSync(other);
  copyFileSync(oldIso, join(other, 'old.iso'));
  copyFileSync(newIso, join(other, 'new.iso'));
  for (const style of ['overlay', 'aufs']) {
    const a = join(dir, `a-${style}.iuk`);
    const b = join(other, `b-${style}.iuk`);
    makeKit([oldIso, newIso, '-o', a, '--whiteouts', style, '--workers', '1'], { env: { TZ: 'UTC', SOURCE_DATE_EPOCH: '1700000000', LC_ALL: 'C' }, umask: 0o022 });
    makeKit(['old.iso', 'new.iso', '-o', b, '--whiteouts', style, '--workers', '4'], { env: { TZ: 'Pacific/Kiritimati', SOURCE_DATE_EPOCH: '1700000000', LC_ALL: 'C.UTF-8' }, umask: 0o077, cwd: other });
    assert.equal(sha256(b), sha256(a), style);
    assert.equal(statSync(b).mode & 0o777, 0o644, 'the kit mode does not follow the umask');
  }
});

test('plain SquashFS images and directories work as builds too (no medium: the kit holds only the delta)', async (t) => {
  if (!requireTool(t, 'xorriso', 'unsquashfs')) return;
  const { dir, oldIso, newIso } = await fixture(t);
  for (const [iso, name] of [[oldIso, 'old'], [newIso, 'new']] as const) {
    run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/live/filesystem.squashfs', join(dir, `${name}.sqfs`)], { stdio: 'ignore' });
    run('unsquashfs', ['-q', '-d', join(dir, `${name}-dir`), join(dir, `${name}.sqfs`)]);
  }
  const kit = join(dir, 'sqfs.iuk');
  makeKit([join(dir, 'old.sqfs'), join(dir, 'new.sqfs'), '-o', kit, '--comp', 'gzip']);
  assert.equal(runCli(['iuk-apply', join(dir, 'old.sqfs'), kit, '--expect', join(dir, 'new.sqfs')]).status, 0);
  assert.match(run('tar', ['-xOf', kit, 'control.yml']).stdout.toString(), /layout: rootfs\n/);
  const dirKit = join(dir, 'dir.iuk');
  makeKit([join(dir, 'old-dir'), join(dir, 'new-dir'), '-o', dirKit, '--source-date-epoch', '1700000000']);
  const r = runCli(['iuk-apply', join(dir, 'old-dir'), dirKit, '--expect', join(dir, 'new-dir')]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // an ISO and a bare root file system are not two builds of one system
  const mixed = runCli(['iuk', oldIso, join(dir, 'new.sqfs'), '-o', join(dir, 'mixed.iuk')]);
  assert.equal(mixed.status, 2);
});

test('bad input: OLD not an image, a truncated kit, a tar that is no kit, a bad option: one line on stderr, exit 2, no kit left behind', async (t) => {
  const { dir, oldIso, newIso } = await fixture(t);
  const kit = join(dir, 'kit.iuk');
  makeKit([oldIso, newIso, '-o', kit]);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'just some text, not an image\n'.repeat(40));
  const truncated = join(dir, 'truncated.iuk');
  writeFileSync(truncated, readFileSync(kit));
  truncateSync(truncated, Math.floor(statSync(kit).size / 2));
  const notKit = join(dir, 'not-kit.tar');
  run('tar', ['-cf', notKit, '-C', dir, 'notes.txt']);
  const cases: Array<[string[], RegExp]> = [
    [['iuk', text, newIso, '-o', join(dir, 'out.iuk')], /notes\.txt: not a format reprimage reads/],
    [['iuk', oldIso, join(dir, 'missing.iso'), '-o', join(dir, 'out.iuk')], /missing\.iso: no such file/],
    [['iuk', oldIso, newIso, '-o', join(dir, 'out.iuk'), '--whiteouts', 'zfs'], /--whiteouts: expected overlay or aufs/],
    [['iuk', oldIso, newIso, '-o', join(dir, 'out.iuk'), '--name', '../x'], /--name: a plain file name/],
    [['iuk-apply', text, kit], /notes\.txt: not a format reprimage reads/],
    [['iuk-apply', oldIso, truncated], /truncated\.iuk.*(truncated|TRUNCATED|beyond|end)/i],
    [['iuk-apply', oldIso, notKit], /not-kit\.tar: no FORMAT: not an upgrade kit/],
    [['iuk-apply', oldIso, text], /notes\.txt: not an upgrade kit/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^reprimage( [a-z-]+)?: /);
    assert.match(lines[0]!, message, args.join(' '));
  }
  assert.throws(() => statSync(join(dir, 'out.iuk')), 'no partial kit');
});

test('reprimage check proves kit building reproducible under every variation this machine applies (directory builds, so listing order matters)', async (t) => {
  if (!requireTool(t, 'xorriso', 'unsquashfs')) return;
  const { dir, oldIso, newIso } = await fixture(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  for (const [iso, name] of [[oldIso, 'old'], [newIso, 'new']] as const) {
    run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/live/filesystem.squashfs', join(dir, `${name}.sqfs`)], { stdio: 'ignore' });
    run('unsquashfs', ['-q', '-d', join(src, name), join(dir, `${name}.sqfs`)]);
  }
  const iuk = `"${process.execPath}" "${CLI}" iuk old new -o kit.iuk -q --comp gzip --workers {workers} --source-date-epoch 1700000000`;
  const r = runCli(['check', '--json', '--no-progress', '--source', src, '--artifact', 'kit.iuk', '--', 'sh', '-c', iuk]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { reproducible: boolean; applied: Array<{ id: string }> };
  assert.equal(report.reproducible, true);
  assert.ok(report.applied.length >= 7, report.applied.map((v) => v.id).join(','));
});

test('when only the root file system changed, the medium update holds just the kit\'s files, and live/ keeps the new build\'s metadata', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t, 'reprimage-iuk-');
  const { oldIso, newIso } = await writeLiveIsos(dir, { sameBoot: true });
  const kit = join(dir, 'kit.iuk');
  makeKit([oldIso, newIso, '-o', kit, '--source-date-epoch', '1700000000']);
  assert.match(run('tar', ['-xOf', kit, 'control.yml']).stdout.toString(), /^delete_files: \[\]$/m);
  untarMember(kit, 'system.tar', join(dir, 'system.tar'));
  const listing = run('tar', ['-tvf', join(dir, 'system.tar')], { env: { ...process.env, TZ: 'UTC' } }).stdout.toString('utf8');
  assert.deepEqual(listing.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(-1)[0]), ['./', './live/', './live/filesystem.module', './live/upgrade.squashfs']);
  assert.match(listing, /^drwxr-x--- 0\/0 .* 2023-11-14 20:50 \.\/live\/$/m);
  const r = runCli(['iuk-apply', oldIso, kit, '--expect', newIso]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

/** A manifest.json like `reprimage build` writes, listing `outputs` (relative paths) under `dir`. */
function writeManifest(dir: string, outputs: Array<{ path: string; type: string; sha256?: string; size?: number }>): string {
  mkdirSync(dir, { recursive: true });
  const listed = outputs.map((o) => ({ format: o.type, sha256: o.sha256 ?? sha256(join(dir, o.path)), size: o.size ?? statSync(join(dir, o.path)).size, ...o }));
  const file = join(dir, 'manifest.json');
  writeFileSync(file, `${JSON.stringify({ reproducible: { manifest_version: 1, outputs: listed }, reproducible_sha256: '0'.repeat(64), run: {} }, null, 2)}\n`);
  return file;
}

test('builds named by their manifest.json: the same kit as from the ISOs; a manifest that does not match its image is refused', async (t) => {
  const { dir, oldIso, newIso } = await fixture(t);
  const epoch = ['--source-date-epoch', '1700000000'];
  makeKit([oldIso, newIso, '-o', join(dir, 'direct.iuk'), ...epoch]);
  const builds = [['old', oldIso], ['new', newIso]].map(([name, iso]) => {
    mkdirSync(join(dir, name!));
    copyFileSync(iso!, join(dir, name!, 'live.iso'));
    writeFileSync(join(dir, name!, 'rootfs.tar'), 'not compared');
    return writeManifest(join(dir, name!), [{ path: 'rootfs.tar', type: 'rootfs' }, { path: 'live.iso', type: 'iso' }]);
  });
  makeKit([builds[0]!, builds[1]!, '-o', join(dir, 'manifest.iuk'), ...epoch]);
  assert.equal(sha256(join(dir, 'manifest.iuk')), sha256(join(dir, 'direct.iuk')));
  assert.equal(runCli(['iuk-apply', builds[0]!, join(dir, 'manifest.iuk'), '--expect', builds[1]!]).status, 0);

  const refused = (manifest: string, pattern: RegExp) => {
    const r = runCli(['iuk', manifest, builds[1]!, '-o', join(dir, 'bad.iuk'), ...epoch]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  };
  const other = join(dir, 'other');
  mkdirSync(other);
  copyFileSync(newIso, join(other, 'live.iso'));
  refused(writeManifest(other, [{ path: 'live.iso', type: 'iso', sha256: sha256(oldIso), size: statSync(newIso).size }]), /live\.iso: has SHA-256 [0-9a-f]{64}, but .*manifest\.json lists/);
  refused(writeManifest(join(dir, 'escape'), [{ path: '../old/live.iso', type: 'iso', sha256: '0'.repeat(64), size: 1 }]), /leaves the manifest's directory/);
  refused(writeManifest(join(dir, 'missing'), [{ path: 'live.iso', type: 'iso', sha256: '0'.repeat(64), size: 1 }]), /missing\/live\.iso/);
  writeFileSync(join(dir, 'broken.json'), '{"reproducible": {}}');
  refused(join(dir, 'broken.json'), /broken\.json: not a build manifest/);
});
