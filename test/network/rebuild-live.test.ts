/**
 * `reprimage rebuild` of the live example's ISO (examples/live-minimal, docs/rebuild.md), published
 * over HTTP on 127.0.0.1 with its manifest and inputs bundle (a node http server in this test):
 * - rebuilt from the URL alone → `reproduced` (exit 0): a whole independent build in this test's
 *   own work directory (only the package download cache, whose files the lock verifies, is shared);
 * - a copy with one byte changed inside a file's data block in the SquashFS, compared with that
 *   rebuild (`--rebuilt`) → `differs` (exit 1), naming `live.iso ▸ live/filesystem.squashfs ▸ FILE`;
 * - a release whose lock names a version of `less` the archive does not serve → `cannot rebuild`
 *   (exit 2), one line.
 * The published release is the control build of live-iso.test.ts's `reprimage check`, kept by
 * test/helpers/rebuild-examples.ts when it ran earlier in the tier with this code; else it is
 * built here first. Needs root, mmdebstrap and deb.debian.org (or a warm package cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, openSync, readFileSync, readSync, symlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli, sha256 } from '../helpers/cli.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { tempDir } from '../helpers/tools.js';
import { runCliAsync, serveDirectory } from '../helpers/rebuild-release.js';
import { UNSERVED_VERSION, publishedRelease, releaseWithUnservedPackage } from '../helpers/rebuild-examples.js';
import { openFileSource, sliceSource, type RandomAccessSource } from '../../src/io/source.js';
import { openIso } from '../../src/formats/iso9660/index.js';
import { openSquashfs } from '../../src/formats/squashfs/index.js';

const EXAMPLE = join(REPO, 'examples/live-minimal');
/** A file of every Debian system, larger than a SquashFS block, so that it has a data block of its own. */
const MEMBER = 'usr/lib/x86_64-linux-gnu/libc.so.6';

/** The offset in `iso` of the first data block of `member` of its live/filesystem.squashfs. */
async function dataBlockOffset(iso: string, member: string): Promise<number> {
  const source = await openFileSource(iso);
  try {
    const squashfsNode = (await (await openIso(source)).tree()).get('live/filesystem.squashfs');
    assert.ok(squashfsNode?.kind === 'file' && squashfsNode.content.range, 'live/filesystem.squashfs is one extent of the ISO');
    const start = squashfsNode.content.range.offset;
    // the SquashFS reader reads a file's stored blocks from its first one on: record where
    const reads: number[] = [];
    const inner = sliceSource(source, start, squashfsNode.content.size);
    const recording: RandomAccessSource = { ...inner, read: (at, n) => (reads.push(at), inner.read(at, n)) };
    const squashfs = await openSquashfs(recording);
    const node = (await squashfs.tree()).get(member);
    assert.ok(node?.kind === 'file' && node.content.stored, `${member} is a file of the SquashFS`);
    assert.ok(node.content.size > squashfs.superblock.blockSize, `${member} has a full block`);
    reads.length = 0;
    for await (const part of node.content.stored.parts()) if (part.length > 0) break;
    assert.ok(reads.length > 0);
    return start + reads[0]!;
  } finally {
    await source.close();
  }
}

test('rebuild of the live ISO over HTTP: reproduced; a byte changed in a file inside the SquashFS differs naming it; a package the archive no longer serves cannot be rebuilt', { timeout: 60 * 60_000 }, async (t) => {
  if (!requireRecipeBuild(t)) return;
  const dir = tempDir(t, 'reprimage-rebuild-live-');
  const t0 = Date.now();
  const release = publishedRelease(EXAMPLE, (out) => {
    const built = runCli(['build', join(EXAMPLE, 'recipe.yaml'), '-o', out, '--quiet']);
    assert.equal(built.status, 0, built.stderr);
  });
  t.diagnostic(release.built ? `no release kept by live-iso.test.ts for this code: built it here in ${((Date.now() - t0) / 1000).toFixed(0)} s` : `the release kept by live-iso.test.ts: ${release.dir}`);
  const published = join(release.dir, 'live.iso');
  const publishedSha256 = sha256(published);
  const readme = /^([0-9a-f]{64}) {2}live\.iso$/m.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  assert.equal(publishedSha256, readme?.[1], 'the release is the example README.md publishes');

  const site = join(dir, 'site');
  mkdirSync(site);
  symlinkSync(release.dir, join(site, 'release'));
  const server = await serveDirectory(site);
  t.after(() => server.close());

  // 1. reproduced: the manifest and the inputs bundle come from beside the URL; the build is new
  const work = join(dir, 'work');
  const t1 = Date.now();
  const good = await runCliAsync(['rebuild', `${server.url}release/live.iso`, '-o', work]);
  const rebuildSeconds = (Date.now() - t1) / 1000;
  assert.equal(good.status, 0, `${good.stdout}${good.stderr}`);
  assert.match(good.stdout, new RegExp(`^reproduced: live\\.iso: sha256 ${publishedSha256}\\n`));
  for (const f of ['live.iso', 'manifest.json', 'recipe-inputs.tar']) assert.ok(server.requests.includes(`GET /release/${f}`), `${f} came from the server`);
  const report = JSON.parse(readFileSync(join(work, 'rebuild.json'), 'utf8')) as { rebuilt: { path: string; reused: boolean; sha256: string } };
  assert.equal(report.rebuilt.reused, false, 'a whole build, not a reuse');
  assert.equal(report.rebuilt.path, join(work, 'rebuilt', 'live.iso'));
  assert.equal(sha256(report.rebuilt.path), publishedSha256);

  // 2. one byte changed in the first data block of a file inside the SquashFS
  const tampered = join(site, 'tampered');
  mkdirSync(tampered);
  const copy = join(tampered, 'live.iso');
  copyFileSync(published, copy);
  const at = (await dataBlockOffset(copy, MEMBER)) + 100;
  const fd = openSync(copy, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x20;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  for (const f of ['manifest.json', 'recipe-inputs.tar']) symlinkSync(join(release.dir, f), join(tampered, f));
  const t2 = Date.now();
  const bad = await runCliAsync(['rebuild', `${server.url}tampered/live.iso`, '-o', join(dir, 'work-tampered'), '--rebuilt', report.rebuilt.path]);
  const compareSeconds = (Date.now() - t2) / 1000;
  assert.equal(bad.status, 1, `${bad.stdout}${bad.stderr}`);
  const first = bad.stdout.split('\n')[0]!;
  assert.match(first, /^differs: live\.iso: sha256 [0-9a-f]{64} published, [0-9a-f]{64} rebuilt; 1 difference: /);
  assert.ok(first.endsWith(`: live.iso ▸ live/filesystem.squashfs ▸ ${MEMBER}`), first);

  // 3. the lock names a version of less the archive does not serve: cannot rebuild, one line
  await releaseWithUnservedPackage(release.dir, join(site, 'unserved'), dir);
  const cannot = await runCliAsync(['rebuild', `${server.url}unserved/live.iso`, '-o', join(dir, 'work-unserved')]);
  assert.equal(cannot.status, 2, `${cannot.stdout}${cannot.stderr}`);
  assert.match(cannot.stdout, new RegExp(`^cannot rebuild: live\\.iso: [^\\n]*less_${UNSERVED_VERSION.replaceAll('.', '\\.')}_amd64\\.deb: less ${UNSERVED_VERSION.replaceAll('.', '\\.')} \\(amd64\\) is not in the verified Packages index of http://deb\\.debian\\.org/debian bookworm\\n$`));
  t.diagnostic(`rebuild of live.iso ${rebuildSeconds.toFixed(1)} s; compare the changed copy with the rebuild ${compareSeconds.toFixed(1)} s`);
});
