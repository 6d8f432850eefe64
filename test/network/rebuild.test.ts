/**
 * `reprimage rebuild` for real (docs/rebuild.md), on the small example (examples/bookworm-minimal, a
 * root tar) to keep CI time down: the example is built and "published" over HTTP on 127.0.0.1
 * (a node http server in this test) with its manifest and inputs bundle, then
 * - rebuilt from the URL → `reproduced` (exit 0), and verified again from the same work
 *   directory without building;
 * - a copy with one byte changed inside etc/motd, compared with the rebuilt image (`--rebuilt`,
 *   no second build) → `differs` (exit 1) naming `rootfs.tar ▸ etc/motd`;
 * - a release whose lock names a version of `less` the archive does not serve → `cannot rebuild`
 *   (exit 2), one line.
 * Needs root, mmdebstrap and deb.debian.org, like the other recipe builds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, cpSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { CLI, REPO, runCli, sha256 } from '../helpers/cli.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { tempDir } from '../helpers/tools.js';
import { flipByteOfTarMember, runAsync, runCliAsync, serveDirectory } from '../helpers/rebuild-release.js';
import { UNSERVED_VERSION, publishedRelease, releaseWithUnservedPackage } from '../helpers/rebuild-examples.js';

const EXAMPLE = join(REPO, 'examples/bookworm-minimal');

test('rebuild over HTTP: reproduced; a changed byte differs naming the file; a package the archive does not serve cannot be rebuilt', { timeout: 20 * 60_000 }, async (t) => {
  if (!requireRecipeBuild(t)) return;
  const dir = tempDir(t, 'reprimage-rebuild-net-');
  const cache = join(dir, 'cache');
  const src = join(dir, 'bookworm-minimal');
  cpSync(EXAMPLE, src, { recursive: true });
  // lock now: the committed lock may name versions the mirror has dropped since
  const tl = Date.now();
  const lock = runCli(['lock', join(src, 'recipe.yaml'), '--cache', cache]);
  assert.equal(lock.status, 0, lock.stderr);
  const lockSeconds = (Date.now() - tl) / 1000;
  // the same release rebuild-rebuilderd.test.ts published (same lock, same code), else built now
  const t0 = Date.now();
  const published = publishedRelease(src, (out) => {
    const built = runCli(['build', join(src, 'recipe.yaml'), '-o', out, '--quiet']);
    assert.equal(built.status, 0, built.stderr);
  });
  const buildSeconds = published.built ? (Date.now() - t0) / 1000 : 0;
  const site = join(dir, 'site');
  mkdirSync(site);
  const release = join(site, 'release');
  symlinkSync(published.dir, release);
  const server = await serveDirectory(site);
  t.after(() => server.close());

  // 1. reproduced, from the URL alone (the manifest and the inputs bundle are found beside it)
  const work = join(dir, 'work');
  const t1 = Date.now();
  const good = await runCliAsync(['rebuild', `${server.url}release/rootfs.tar`, '-o', work, '--cache', cache]);
  const rebuildSeconds = (Date.now() - t1) / 1000;
  assert.equal(good.status, 0, `${good.stdout}${good.stderr}`);
  assert.match(good.stdout, new RegExp(`^reproduced: rootfs\\.tar: sha256 ${sha256(join(release, 'rootfs.tar'))}\\n`));
  assert.ok(server.requests.includes('GET /release/recipe-inputs.tar'), 'the inputs came from the server');
  const statement = JSON.parse(readFileSync(join(work, 'rebuild.intoto.json'), 'utf8')) as { predicate: { verdict: string; inputs: { source_date_epoch: number } } };
  assert.equal(statement.predicate.verdict, 'reproduced');
  assert.equal(statement.predicate.inputs.source_date_epoch, 1783764997);
  // a second verification from the same work directory does not build again
  const again = await runCliAsync(['rebuild', `${server.url}release/rootfs.tar`, '-o', work, '--cache', cache]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /note: reused the rebuild in /);

  // 2. one byte changed inside etc/motd: differs, naming the file, compared with the rebuild made above
  const tampered = join(site, 'tampered');
  mkdirSync(tampered);
  await flipByteOfTarMember(join(release, 'rootfs.tar'), 'etc/motd', join(tampered, 'rootfs.tar'));
  for (const f of ['manifest.json', 'recipe-inputs.tar']) cpSync(join(release, f), join(tampered, f));
  const t2 = Date.now();
  const bad = await runCliAsync(['rebuild', `${server.url}tampered/rootfs.tar`, '-o', join(dir, 'work-tampered'), '--rebuilt', join(work, 'rebuilt', 'rootfs.tar'), '--json']);
  const compareSeconds = (Date.now() - t2) / 1000;
  assert.equal(bad.status, 1, bad.stderr);
  const report = JSON.parse(bad.stdout) as { verdict: string; differences: string[]; published: { listed: boolean }; files: Record<string, string> };
  assert.equal(report.verdict, 'differs');
  assert.deepEqual(report.differences, ['rootfs.tar ▸ etc/motd']);
  assert.equal(report.published.listed, false);
  assert.match(readFileSync(report.files.diff_text!, 'utf8'), /etc\/motd/);

  // 3. rebuilderd's worker protocol, simulated (no rebuilderd daemon runs here): the import's
  // package report for both releases; for each group the worker's downloads (artifacts and input
  // into one directory), the backend with REBUILDERD_OUTDIR, and the worker's byte comparison
  // (GOOD/BAD). The backend keeps rebuilds by manifest hash; seeded with the rebuild above, it
  // builds nothing here.
  const imported = await runAsync(process.execPath, [join(REPO, 'contrib/rebuilderd/reprimage-rebuilderd-import.mjs'), `${server.url}release/manifest.json`, `${server.url}tampered/manifest.json`]);
  assert.equal(imported.status, 0, imported.stderr);
  const packageReport = JSON.parse(imported.stdout) as { distribution: string; architecture: string; packages: Array<{ name: string; version: string; url: string; artifacts: Array<{ name: string; url: string }> }> };
  assert.equal(packageReport.distribution, 'reprimage');
  assert.deepEqual(
    packageReport.packages.map((p) => [p.name, p.version, p.url.slice(server.url.length), p.artifacts.map((a) => a.name)]),
    [
      ['bookworm-minimal', 'release', 'release/manifest.json', ['rootfs.tar', 'recipe-inputs.tar']],
      ['bookworm-minimal', 'tampered', 'tampered/manifest.json', ['rootfs.tar', 'recipe-inputs.tar']],
    ],
  );
  const workRoot = join(dir, 'worker-work');
  mkdirSync(workRoot);
  renameSync(work, join(workRoot, sha256(join(release, 'manifest.json'))));
  const wrapper = join(dir, 'reprimage');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  const statuses: string[][] = [];
  for (const [i, group] of packageReport.packages.entries()) {
    const inputsDir = join(dir, `worker-${i}`, 'inputs');
    const outDir = join(dir, `worker-${i}`, 'out');
    mkdirSync(inputsDir, { recursive: true });
    mkdirSync(outDir);
    for (const url of [...group.artifacts.map((a) => a.url), group.url]) {
      const response = await fetch(url);
      assert.ok(response.ok && response.body, url);
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(join(inputsDir, new URL(url).pathname.split('/').pop()!)));
    }
    const backend = await runAsync('sh', [join(REPO, 'contrib/rebuilderd/rebuilder-reprimage.sh'), join(inputsDir, 'manifest.json')], { ...process.env, REBUILDERD_OUTDIR: outDir, REPRIMAGE: wrapper, REPRIMAGE_WORK_ROOT: workRoot, REPRIMAGE_CACHE: cache });
    assert.equal(backend.status, 0, `${backend.stdout}${backend.stderr}`);
    assert.match(backend.stdout, /note: reused the rebuild in /, 'the backend did not build again');
    if (group.version === 'tampered') assert.match(backend.stdout, /^differs: rootfs\.tar: .*rootfs\.tar ▸ etc\/motd$/m);
    statuses.push(group.artifacts.map((a) => (existsSync(join(outDir, a.name)) && sha256(join(outDir, a.name)) === sha256(join(inputsDir, a.name)) ? 'GOOD' : 'BAD')));
  }
  assert.deepEqual(statuses, [
    ['GOOD', 'GOOD'],
    ['BAD', 'GOOD'],
  ]);

  // 4. the lock names a version of less that the archive does not serve: cannot rebuild, one line
  await releaseWithUnservedPackage(release, join(site, 'missing'), dir);
  const cannot = await runCliAsync(['rebuild', `${server.url}missing/rootfs.tar`, '-o', join(dir, 'work-missing'), '--cache', cache]);
  assert.equal(cannot.status, 2, `${cannot.stdout}${cannot.stderr}`);
  const unserved = UNSERVED_VERSION.replaceAll('.', '\\.');
  assert.match(cannot.stdout, new RegExp(`^cannot rebuild: rootfs\\.tar: [^\\n]*less_${unserved}_amd64\\.deb: less ${unserved} \\(amd64\\) is not in the verified Packages index of http://deb\\.debian\\.org/debian bookworm\\n$`));
  t.diagnostic(`lock ${lockSeconds.toFixed(1)} s; build ${published.built ? `${buildSeconds.toFixed(1)} s` : 'none (the release rebuild-rebuilderd.test.ts published)'}; rebuild and verify ${rebuildSeconds.toFixed(1)} s; compare a tampered copy with the rebuild ${compareSeconds.toFixed(1)} s`);
});
