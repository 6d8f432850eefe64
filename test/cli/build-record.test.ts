// A live ISO built with `build_record: true` carries its record, and `reprimage rebuild` of that
// ISO alone, with nothing beside it, rebuilds and reproduces it (docs/rebuild.md). Offline: the
// packages come from a signed archive made in the test, and `mmdebstrap` is a script first in
// PATH that prints a fixed root (test/helpers/live-root.ts) as its tar; everything after it (the
// fix-ups, the live ISO, the record, the bundle, the rebuild) is the real code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { requireTool, tempDir } from '../helpers/tools.js';
import { generateSigningKey, writeArchive, writeKeyring, type TestPackage } from '../helpers/apt-archive.js';
import { fakeBootLoaders, liveRootTree } from '../helpers/live-root.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { writeTar } from '../../src/formats/tar/index.js';
import { openIso } from '../../src/formats/iso9660/index.js';
import { openFileSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { embeddedManifestBytes, embeddedRecordOf, type BuildManifest } from '../../src/recipe/manifest.js';

const PACKAGES: TestPackage[] = [
  { name: 'base-files', version: '12.4', architecture: 'amd64', essential: true, body: Buffer.from('base-files') },
  { name: 'linux-image-amd64', version: '6.1.99', architecture: 'amd64', body: Buffer.from('kernel') },
];
const EPOCH = 1783764997;

test('a live ISO built with build_record carries its record, and the ISO alone is rebuilt and reproduced', async (t) => {
  if (!requireTool(t, 'apt-get')) return;
  const dir = tempDir(t, 'reprimage-build-record-');
  const key = await generateSigningKey('ed25519', 'archive');
  const uri = await writeArchive(join(dir, 'archive'), 'testing', PACKAGES, key);
  const recipeDir = join(dir, 'recipe');
  mkdirSync(recipeDir);
  writeKeyring(join(recipeDir, 'keyring.gpg'), [key]);
  const recipe = join(recipeDir, 'recipe.yaml');
  writeFileSync(
    recipe,
    `name: record\narchitecture: amd64\nsources:\n  - uri: ${uri}\n    suite: testing\n    components: [main]\n    keyring: keyring.gpg\npackages: [linux-image-amd64]\nsource_date_epoch: ${EPOCH}\noutputs:\n  - type: iso\n    path: live.iso\n    squashfs_compressor: gzip\n    build_record: true\n`,
  );
  // mmdebstrap: a fixed root with a kernel, an initramfs and the boot loaders, printed as a tar
  const rootTar = join(dir, 'root.tar');
  await writeAtomically(rootTar, async (sink) => writeTar(await liveRootTree(fakeBootLoaders()), sink, { format: 'pax', buildTime: EPOCH }));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mmdebstrap'), `#!/bin/sh\nexec cat '${rootTar}'\n`, { mode: 0o755 });
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const cache = join(dir, 'cache');

  assert.equal(runCli(['lock', recipe, '--cache', cache], { env }).status, 0);
  const out = join(dir, 'out');
  const built = runCli(['build', recipe, '-o', out, '--cache', cache, '--quiet'], { env });
  assert.equal(built.status, 0, built.stderr);

  // the medium carries the record: the manifest's reproducible part less outputs and host details, and the bundle
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BuildManifest;
  const { outputs: _outputs, ...record } = manifest.reproducible;
  const source = await openFileSource(join(out, 'live.iso'));
  t.after(() => source.close());
  const medium = await (await openIso(source)).tree();
  const carried = medium.get('.reprimage/manifest.json');
  const bundle = medium.get('.reprimage/recipe-inputs.tar');
  assert.ok(carried?.kind === 'file' && bundle?.kind === 'file', 'the medium holds .reprimage/manifest.json and recipe-inputs.tar');
  assert.deepEqual(await readContent(carried.content), embeddedManifestBytes(embeddedRecordOf(record)));
  assert.deepEqual(Buffer.from(await readContent(bundle.content)), readFileSync(join(out, 'recipe-inputs.tar')));
  assert.equal(medium.get('live/filesystem.squashfs')?.kind, 'file');

  // published alone: nothing beside it
  const published = join(dir, 'published');
  mkdirSync(published);
  copyFileSync(join(out, 'live.iso'), join(published, 'live.iso'));
  const rebuilt = runCli(['rebuild', join(published, 'live.iso'), '-o', join(dir, 'verify'), '--cache', cache, '--json'], { env });
  assert.equal(rebuilt.status, 0, `${rebuilt.stdout}\n${rebuilt.stderr}`);
  const report = JSON.parse(rebuilt.stdout) as { verdict: string; manifest: { uri: string }; rebuilt: { sha256: string; reused: boolean } };
  assert.equal(report.verdict, 'reproduced');
  assert.equal(report.manifest.uri, `${join(published, 'live.iso')} ▸ .reprimage/manifest.json`);
  assert.equal(report.rebuilt.reused, false, 'built again from the record and the bundle the medium carries');
  assert.equal(report.rebuilt.sha256, manifest.reproducible.outputs[0]!.sha256);
});
