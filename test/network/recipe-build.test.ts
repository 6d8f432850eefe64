/**
 * The slow end-to-end test of docs/recipe.md: `reprimage lock` and `reprimage build` of the bundled
 * example (examples/bookworm-minimal) from deb.debian.org with mmdebstrap, twice. The second
 * build runs with another TZ, LANG, umask, build directory, host name (a private UTS namespace)
 * and worker count, from the cache. The rootfs tars must be byte-identical and the manifests
 * identical except for `run` (timings and download counts, outside the hashed part); the second
 * build must download nothing. Needs the network and root (mmdebstrap's root mode).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO, runCli, sha256 } from '../helpers/cli.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { tempDir } from '../helpers/tools.js';
import { openFileSource } from '../../src/io/source.js';
import { loadTar } from '../../src/formats/tar/index.js';
import { readContent } from '../../src/tree/content.js';
import type { BuildManifest } from '../../src/recipe/manifest.js';

const EXAMPLE = join(REPO, 'examples/bookworm-minimal');


test('the example builds twice under different environments to a byte-identical rootfs and the same manifest', { timeout: 30 * 60_000 }, async (t) => {
  if (!requireRecipeBuild(t)) return;
  const dir = tempDir(t, 'reprimage-recipe-net-');
  const cache = join(dir, 'cache');
  const a = join(dir, 'a');
  const b = join(dir, 'elsewhere', 'deeper', 'b');
  cpSync(EXAMPLE, a, { recursive: true });
  // one more hook, to show that SOURCE_DATE_EPOCH reaches the chroot (hooks do not enter the lock)
  writeFileSync(join(a, 'hooks/99-epoch.sh'), 'printf "%s\\n" "$SOURCE_DATE_EPOCH" > /etc/reprimage-build-epoch\n');
  writeFileSync(join(a, 'recipe.yaml'), readFileSync(join(a, 'recipe.yaml'), 'utf8').replace('  - hooks/10-hostname.sh\n', '  - hooks/10-hostname.sh\n  - hooks/99-epoch.sh\n'));

  // lock now: the committed lock may name versions the mirror has dropped since
  const lock = runCli(['lock', join(a, 'recipe.yaml'), '--cache', cache, '--json']);
  assert.equal(lock.status, 0, lock.stderr);
  const locked = JSON.parse(lock.stdout) as { packages: number };
  assert.ok(locked.packages > 50, `the essential set plus the example's packages: ${locked.packages}`);
  mkdirSync(join(dir, 'elsewhere', 'deeper'), { recursive: true });
  cpSync(a, b, { recursive: true });

  const t0 = Date.now();
  const first = runCli(['build', join(a, 'recipe.yaml'), '-o', join(a, 'out'), '--cache', cache, '--workers', '1', '--provenance'], { env: { TZ: 'UTC', LANG: 'C.UTF-8' }, umask: 0o022 });
  assert.equal(first.status, 0, first.stderr);
  const firstSeconds = (Date.now() - t0) / 1000;

  const t1 = Date.now();
  const env = { ...process.env, TZ: 'Pacific/Kiritimati', LANG: 'fr_FR.UTF-8', LC_ALL: 'fr_FR.UTF-8' };
  const second = spawnSync('unshare', ['--uts', 'sh', '-c', 'hostname other-build-host && umask 077 && exec "$0" "$@"', process.execPath, CLI, 'build', join(b, 'recipe.yaml'), '-o', join(b, 'out'), '--cache', cache, '--workers', '4', '--provenance'], { cwd: b, env, encoding: 'utf8' });
  assert.equal(second.status, 0, second.stderr);
  const secondSeconds = (Date.now() - t1) / 1000;

  const tarA = join(a, 'out', 'rootfs.tar');
  const tarB = join(b, 'out', 'rootfs.tar');
  const ma = JSON.parse(readFileSync(join(a, 'out', 'manifest.json'), 'utf8')) as BuildManifest;
  const mb = JSON.parse(readFileSync(join(b, 'out', 'manifest.json'), 'utf8')) as BuildManifest;
  t.diagnostic(`build 1: ${firstSeconds.toFixed(1)} s, build 2: ${secondSeconds.toFixed(1)} s; rootfs.tar ${ma.reproducible.outputs[0]!.size} bytes, sha256 ${ma.reproducible.outputs[0]!.sha256}; ${ma.reproducible.packages.length} packages; timings ${JSON.stringify(ma.run.timings_ms)} / ${JSON.stringify(mb.run.timings_ms)}`);

  assert.equal(sha256(tarB), sha256(tarA), 'rootfs.tar differs between the two builds');
  assert.deepEqual(mb.reproducible, ma.reproducible);
  assert.equal(mb.reproducible_sha256, ma.reproducible_sha256);
  assert.equal(ma.reproducible.outputs[0]!.sha256, sha256(tarA));
  assert.equal(readFileSync(join(b, 'out', 'provenance.intoto.json'), 'utf8'), readFileSync(join(a, 'out', 'provenance.intoto.json'), 'utf8'));
  assert.equal(mb.run.downloads.files, 0, 'the second build must take everything from the cache');
  assert.ok(ma.run.downloads.files > 0);

  // what the tree holds: owners, devices and capabilities as installed; the overlay and hook
  // applied; nothing of the host; no time after SOURCE_DATE_EPOCH
  const source = await openFileSource(tarA);
  try {
    const tree = await loadTar(source);
    const get = (p: string) => tree.get(p);
    const ping = get('usr/bin/ping');
    assert.ok(ping?.kind === 'file' && ping.xattrs.has('security.capability'), 'ping keeps its file capability');
    const nul = get('dev/null');
    assert.ok(nul?.kind === 'char' && nul.major === 1 && nul.minor === 3 && nul.mode === 0o666);
    const chkpwd = get('usr/sbin/unix_chkpwd');
    assert.ok(chkpwd && chkpwd.uid === 0 && chkpwd.gid === 42 && chkpwd.mode === 0o2755, 'unix_chkpwd is root:shadow, setgid');
    const text = async (p: string) => {
      const n = get(p);
      assert.ok(n?.kind === 'file', `${p} is a file`);
      return Buffer.from(await readContent(n.content)).toString('utf8');
    };
    assert.equal(await text('etc/hostname'), 'bookworm-minimal\n');
    assert.equal(await text('etc/reprimage-build-epoch'), `${ma.reproducible.source_date_epoch}\n`);
    assert.equal(await text('etc/motd'), readFileSync(join(EXAMPLE, 'overlay/etc/motd'), 'utf8'));
    assert.equal(await text('etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    assert.equal(get('etc/resolv.conf'), undefined, "the host's resolv.conf must not leak in");
    // GNU tar reads our writer's output entry for entry (the oracle for the tar itself)
    const listed = spawnSync('tar', ['--xattrs', '-tf', tarA], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, [...tree.walk()].length);
    const epoch = ma.reproducible.source_date_epoch;
    for (const { path, node } of tree.walk()) assert.ok(node.mtime.sec <= epoch, `${path} is newer than SOURCE_DATE_EPOCH`);
  } finally {
    await source.close();
  }
  assert.ok(!existsSync(join(a, 'out', 'rootfs.tar.tmp')));
});
