// The overlay tar and the manifest: bytes that depend only on the inputs, whatever umask,
// creation order or times the overlay directory was made with; the manifest hash covers the
// reproducible part only; the in-toto statement names every output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tools.js';
import { writeOverlayTar } from '../../src/recipe/overlay.js';
import { manifestOf, provenanceStatement, type ReproducibleManifest } from '../../src/recipe/manifest.js';
import { canonicalJson } from '../../src/recipe/canonical-json.js';
import { openFileSource } from '../../src/io/source.js';
import { loadTar } from '../../src/formats/tar/index.js';
import { readContent } from '../../src/tree/content.js';

const SOURCES = [{ uri: 'http://deb.debian.org/debian', suite: 'bookworm', components: ['main', 'contrib'], keyring: 'k.gpg' }];
const EPOCH = 1783764997;

/** An overlay as a checkout might leave it: modes from the umask, times of "now", files in some order. */
function makeOverlay(dir: string, umask: number, reverse: boolean, mtime: number): void {
  const old = process.umask(umask);
  try {
    const files: Array<[string, string, number]> = [
      ['etc/motd', 'hello\n', 0o666],
      ['usr/local/bin/tool', '#!/bin/sh\n', 0o777],
      ['etc/issue', 'Debian\n', 0o666],
    ];
    for (const [path, text, mode] of reverse ? [...files].reverse() : files) {
      mkdirSync(join(dir, path, '..'), { recursive: true, mode: 0o777 });
      writeFileSync(join(dir, path), text, { mode });
    }
    symlinkSync('motd', join(dir, 'etc/motd.link'));
    for (const [path] of files) utimesSync(join(dir, path), mtime, mtime);
  } finally {
    process.umask(old);
  }
}

test('the overlay tar is the same bytes for any umask, creation order and file times, owned by root with normalized modes', async (t) => {
  const dir = tempDir(t);
  makeOverlay(join(dir, 'a', 'overlay'), 0o022, false, EPOCH + 1000);
  makeOverlay(join(dir, 'b', 'overlay'), 0o077, true, EPOCH + 99999);
  chmodSync(join(dir, 'b', 'overlay', 'etc'), 0o700);
  await writeOverlayTar({ overlays: ['overlay'], dir: join(dir, 'a'), sources: SOURCES }, EPOCH, join(dir, 'a.tar'), () => undefined);
  await writeOverlayTar({ overlays: ['overlay'], dir: join(dir, 'b'), sources: SOURCES }, EPOCH, join(dir, 'b.tar'), () => undefined);
  const a = readFileSync(join(dir, 'a.tar'));
  assert.ok(a.equals(readFileSync(join(dir, 'b.tar'))), 'overlay tars differ');
  const source = await openFileSource(join(dir, 'a.tar'));
  try {
    const tree = await loadTar(source);
    const modes = Object.fromEntries([...tree.walk()].map(({ path, node }) => [path, `${node.kind} ${node.mode.toString(8)} ${node.uid}:${node.gid} ${node.mtime.sec}`]));
    assert.deepEqual(modes, {
      '': `dir 755 0:0 ${EPOCH}`,
      etc: `dir 755 0:0 ${EPOCH}`,
      'etc/apt': `dir 755 0:0 ${EPOCH}`,
      'etc/apt/sources.list': `file 644 0:0 ${EPOCH}`,
      'etc/issue': `file 644 0:0 ${EPOCH}`,
      'etc/motd': `file 644 0:0 ${EPOCH}`,
      'etc/motd.link': `symlink 777 0:0 ${modes['etc/motd.link']!.split(' ')[3]}`,
      usr: `dir 755 0:0 ${EPOCH}`,
      'usr/local': `dir 755 0:0 ${EPOCH}`,
      'usr/local/bin': `dir 755 0:0 ${EPOCH}`,
      'usr/local/bin/tool': `file 755 0:0 ${EPOCH}`,
    });
    const list = tree.get('etc/apt/sources.list');
    assert.ok(list?.kind === 'file');
    assert.equal(Buffer.from(await readContent(list.content)).toString(), 'deb http://deb.debian.org/debian bookworm main contrib\n');
  } finally {
    await source.close();
  }
});

const REPRODUCIBLE: ReproducibleManifest = {
  manifest_version: 2,
  name: 'x',
  recipe: { file: 'recipe.yaml', sha256: '1'.repeat(64) },
  lock: { file: 'recipe.yaml.lock', sha256: '2'.repeat(64) },
  source_date_epoch: EPOCH,
  reprimage: { version: '0.1.0' },
  codecs: [{ codec: 'gzip', implementation: 'pako 2.1.0' }],
  tools: { mmdebstrap: '1.3.5-7' },
  sources: [{ uri: 'http://x/debian', suite: 'bookworm', in_release_sha256: '3'.repeat(64), signers: ['ab'] }],
  packages: [{ name: 'less', version: '590-2', architecture: 'amd64', sha256: '4'.repeat(64) }],
  fixups: { 'machine-id': 1 },
  outputs: [{ path: 'rootfs.tar', type: 'rootfs', format: 'tar (pax)', sha256: '5'.repeat(64), size: 10240 }],
  inputs: { bundle: { path: 'recipe-inputs.tar', sha256: '6'.repeat(64), size: 10240 }, files: [{ path: 'recipe.yaml', sha256: '1'.repeat(64), size: 9 }], host_files: [], external: [] },
};

test('the manifest hash covers the reproducible part and not the run', () => {
  const a = manifestOf(REPRODUCIBLE, { timings_ms: { mmdebstrap: 1 }, node: '20.20.2', downloads: { files: 3, bytes: 9, from_cache: 0 } });
  const b = manifestOf(structuredClone(REPRODUCIBLE), { timings_ms: { mmdebstrap: 99999 }, node: '22.1.0', downloads: { files: 0, bytes: 0, from_cache: 3 } });
  assert.equal(a.reproducible_sha256, b.reproducible_sha256);
  // canonical JSON (RFC 8785): members sorted, no white space, whatever order the object was built in
  assert.equal(a.reproducible_sha256, createHash('sha256').update(canonicalJson(REPRODUCIBLE)).digest('hex'));
  const reordered = Object.fromEntries(Object.entries(REPRODUCIBLE).reverse()) as unknown as ReproducibleManifest;
  assert.equal(manifestOf(reordered, a.run).reproducible_sha256, a.reproducible_sha256);
  const c = manifestOf({ ...REPRODUCIBLE, source_date_epoch: EPOCH + 1 }, a.run);
  assert.notEqual(c.reproducible_sha256, a.reproducible_sha256);
});

test('the in-toto statement names every output and every input by digest, and holds no time', () => {
  const s = provenanceStatement(REPRODUCIBLE, ['http://x/debian/dists/bookworm/InRelease'], ['http://x/debian/pool/main/l/less/less_590-2_amd64.deb']) as {
    _type: string;
    subject: Array<{ name: string; digest: { sha256: string } }>;
    predicateType: string;
    predicate: { buildDefinition: { resolvedDependencies: Array<{ uri: string; digest: { sha256: string } }> } };
  };
  assert.equal(s._type, 'https://in-toto.io/Statement/v1');
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(s.subject, [{ name: 'rootfs.tar', digest: { sha256: '5'.repeat(64) } }]);
  assert.deepEqual(s.predicate.buildDefinition.resolvedDependencies.map((d) => [d.uri, d.digest.sha256]), [
    ['http://x/debian/dists/bookworm/InRelease', '3'.repeat(64)],
    ['http://x/debian/pool/main/l/less/less_590-2_amd64.deb', '4'.repeat(64)],
  ]);
  assert.doesNotMatch(JSON.stringify(s), /On"|Time|20\d\d-\d\d-\d\dT/);
});
