/**
 * `reprimage rebuild` without a real build: the verdict logic, the published manifest's checks,
 * the version checks, the inputs bundle (same bytes under any umask and file times; checked
 * against its hash) and the whole flow over HTTP on 127.0.0.1 with an image rebuilt beforehand
 * (`rebuilt`), so nothing runs mmdebstrap. The network tier does the real rebuild.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tools.js';
import { EPOCH, MOTD, serveDirectory, writeImage, writeRecipeDir, writeRelease } from '../helpers/rebuild-release.js';
import { ReprimageError } from '../../src/errors.js';
import { hashFile } from '../../src/io/hash-file.js';
import { loadRecipe, parseRecipe } from '../../src/recipe/recipe.js';
import { SAME_BYTES_SINCE, embeddedManifestBytes, embeddedRecordOf, type ReproducibleManifest } from '../../src/recipe/manifest.js';
import { writeInputsBundle } from '../../src/recipe/inputs-bundle.js';
import { canonicalJson } from '../../src/recipe/canonical-json.js';
import { parsePublishedManifest } from '../../src/rebuild/published-manifest.js';
import { checkCompatibility, toolsHere } from '../../src/rebuild/compatibility.js';
import { CannotRebuild, VERDICT_EXIT, verdictOf } from '../../src/rebuild/verdict.js';
import { rebuildPublished } from '../../src/rebuild/rebuild.js';
import { localCopy } from '../../src/rebuild/fetch.js';
import { beside } from '../../src/rebuild/locations.js';
import { REBUILD_PREDICATE_TYPE } from '../../src/rebuild/statement.js';

const A = { sha256: 'a'.repeat(64), size: 10 };
const B = { sha256: 'b'.repeat(64), size: 10 };
const options = (workDir: string) => ({ workDir, cacheDir: join(workDir, 'cache'), warn: () => undefined });

test('verdicts: equal bytes only are reproduced; no rebuild is cannot rebuild; exit 0/1/2', () => {
  assert.equal(verdictOf(A, { ...A }), 'reproduced');
  assert.equal(verdictOf(A, B), 'differs');
  assert.equal(verdictOf(A, { sha256: A.sha256, size: 11 }), 'differs');
  assert.equal(verdictOf(A, undefined), 'cannot rebuild');
  assert.deepEqual(VERDICT_EXIT, { reproduced: 0, differs: 1, 'cannot rebuild': 2 });
});

test('a published manifest is checked: its hash over canonical JSON, its shape, its version', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const { manifest } = await writeRelease(dir);
  const text = readFileSync(manifest, 'utf8');
  const m = parsePublishedManifest(Buffer.from(text), 'm.json');
  assert.equal(m.version, 2);
  assert.equal(m.outputs[0]!.path, 'image.tar');
  assert.equal(m.inputs?.bundle.path, 'recipe-inputs.tar');
  // the hash does not depend on key order or white space: a re-serialized manifest still passes
  const json = JSON.parse(text) as { reproducible: Record<string, unknown> };
  const reordered = { ...json, reproducible: Object.fromEntries(Object.entries(json.reproducible).reverse()) };
  assert.equal(parsePublishedManifest(Buffer.from(JSON.stringify(reordered)), 'm.json').reproducibleSha256, m.reproducibleSha256);

  const oneLine = (e: unknown) => e instanceof ReprimageError && e.message.startsWith('m.json: ') && !e.message.includes('\n');
  assert.throws(() => parsePublishedManifest(Buffer.from(text.replace(`"source_date_epoch": ${EPOCH}`, `"source_date_epoch": ${EPOCH + 1}`)), 'm.json'), (e: unknown) => oneLine(e) && /changed after its build/.test((e as Error).message));
  assert.throws(() => parsePublishedManifest(Buffer.from('{"reproducible": '), 'm.json'), (e: unknown) => oneLine(e) && /not JSON/.test((e as Error).message));
  assert.throws(() => parsePublishedManifest(Buffer.from('{"a": 1}'), 'm.json'), (e: unknown) => oneLine(e) && /not a build manifest/.test((e as Error).message));
  const bad = { ...json, reproducible: { ...json.reproducible, outputs: [{ path: '../x', type: 'rootfs', format: 'tar', sha256: 'a'.repeat(64), size: 1 }] } };
  assert.throws(() => parsePublishedManifest(Buffer.from(JSON.stringify(bad)), 'm.json'), (e: unknown) => oneLine(e) && /reproducible\.outputs\.0\.path: a plain file name/.test((e as Error).message));
  const future = { ...json, reproducible: { ...json.reproducible, manifest_version: 3 } };
  assert.throws(() => parsePublishedManifest(Buffer.from(JSON.stringify(future)), 'm.json'), (e: unknown) => oneLine(e) && /newer/.test((e as Error).message));
  // version 1 hashed JSON.stringify's text: it is read without that check, and has no inputs
  const v1 = { reproducible: { ...json.reproducible, manifest_version: 1, inputs: undefined }, reproducible_sha256: '0'.repeat(64) };
  assert.equal(parsePublishedManifest(Buffer.from(JSON.stringify(v1)), 'm.json').inputs, undefined);
});

test('versions: reprimage inside the recorded range of versions with the same bytes, the recorded codecs; host tools too unless allowed', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const m = parsePublishedManifest(readFileSync((await writeRelease(dir, (r) => (r.tools = { dpkg: '1.0' }))).manifest), 'm.json');
  const here = toolsHere([]);
  assert.throws(() => checkCompatibility(m, { ...here, tools: { dpkg: '2.0' } }, false), (e: unknown) => e instanceof CannotRebuild && /dpkg 1\.0, here it is 2\.0/.test(e.message));
  assert.deepEqual(checkCompatibility(m, { ...here, tools: { dpkg: '2.0' } }, true), ['dpkg 2.0 here, 1.0 in the build (allowed by --allow-tool-versions)']);
  assert.deepEqual(checkCompatibility(m, { ...here, tools: { dpkg: '1.0' } }, false), []);
  assert.throws(() => checkCompatibility(m, { ...here, tools: {} }, true), (e: unknown) => e instanceof CannotRebuild && /not installed here/.test(e.message));
  // a later reprimage that declares the same bytes since this one's may rebuild; one that does not, may not
  assert.deepEqual(checkCompatibility(m, { ...here, reprimage: '9.9.9', sameBytesSince: here.reprimage, tools: { dpkg: '1.0' } }, false), []);
  assert.throws(() => checkCompatibility(m, { ...here, reprimage: '9.9.9', sameBytesSince: '9.0.0', tools: { dpkg: '1.0' } }, false), (e: unknown) => e instanceof CannotRebuild && /built with reprimage [^ ]+ \(the same bytes as [^)]+\); this is reprimage 9\.9\.9 \(the same bytes as 9\.0\.0 to 9\.9\.9\)/.test(e.message));
  const codecs = here.codecs.map((c, i) => (i === 0 ? { ...c, implementation: 'other 1.0' } : c));
  assert.throws(() => checkCompatibility(m, { ...here, codecs, tools: { dpkg: '1.0' } }, false), (e: unknown) => e instanceof CannotRebuild && /codec .* here it is other 1\.0/.test(e.message));
});

test('the inputs bundle: the same bytes for any umask, file times and modes a checkout may have', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const bundles: string[] = [];
  for (const [i, umaskLike] of [0o022, 0o077].entries()) {
    const recipeFile = writeRecipeDir(join(dir, `src${i}`));
    chmodSync(join(dir, `src${i}/overlay/etc/motd`), 0o666 & ~umaskLike);
    chmodSync(join(dir, `src${i}/hooks/10-motd.sh`), 0o777 & ~umaskLike);
    utimesSync(join(dir, `src${i}/overlay/etc/motd`), 1_000_000 * (i + 1), 2_000_000_000 + i);
    const target = join(dir, `bundle${i}.tar`);
    const inputs = await writeInputsBundle(await loadRecipe(recipeFile), `${recipeFile}.lock`, EPOCH, target, () => undefined);
    assert.deepEqual(inputs.files.map((f) => f.path), ['hooks/10-motd.sh', 'keyring.gpg', 'overlay/etc/motd', 'recipe.yaml', 'recipe.yaml.lock']);
    assert.deepEqual(inputs.external, []);
    assert.equal(inputs.bundle.sha256, (await hashFile(target)).sha256);
    bundles.push(inputs.bundle.sha256);
  }
  assert.equal(bundles[1], bundles[0]);
});

test('the inputs bundle: absolute keyrings are host files by hash, inputs outside the recipe directory are listed as external', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const recipeFile = writeRecipeDir(join(dir, 'src'));
  mkdirSync(join(dir, 'shared'));
  writeFileSync(join(dir, 'shared', 'x'), 'x');
  writeFileSync(join(dir, 'host-keyring.gpg'), 'host keyring');
  writeFileSync(recipeFile, readFileSync(recipeFile, 'utf8').replace('keyring: keyring.gpg', `keyring: ${join(dir, 'host-keyring.gpg')}`).replace('overlays: [overlay]', 'overlays: [overlay, ../shared]'));
  const inputs = await writeInputsBundle(await loadRecipe(recipeFile), `${recipeFile}.lock`, EPOCH, join(dir, 'b.tar'), () => undefined);
  assert.deepEqual(inputs.host_files, [{ path: join(dir, 'host-keyring.gpg'), sha256: (await hashFile(join(dir, 'host-keyring.gpg'))).sha256 }]);
  assert.deepEqual(inputs.external, ['../shared']);
  assert.ok(!inputs.files.some((f) => f.path.includes('keyring') || f.path.includes('shared')));
});

test('over HTTP: reproduced, differs naming the member, an image rebuilt before compared without building; the statement and reports are written', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const release = join(dir, 'release');
  await writeRelease(release);
  const server = await serveDirectory(release);
  t.after(() => server.close());

  // an identical image "rebuilt" elsewhere
  const same = join(dir, 'same.tar');
  await writeImage(same);
  const work = join(dir, 'work');
  const good = await rebuildPublished(`${server.url}image.tar`, { ...options(work), rebuilt: same });
  assert.equal(good.verdict, 'reproduced');
  assert.equal(good.published.listed, true);
  assert.ok(server.requests.includes('HEAD /image.tar.manifest.json') && server.requests.includes('GET /manifest.json') && server.requests.includes('GET /image.tar'), server.requests.join(', '));
  const statement = JSON.parse(readFileSync(join(work, 'rebuild.intoto.json'), 'utf8')) as { _type: string; subject: Array<{ name: string; digest: { sha256: string } }>; predicateType: string; predicate: { verdict: string; rebuilt: { digest: { sha256: string } } } };
  assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
  assert.deepEqual(statement.subject, [{ name: 'image.tar', digest: { sha256: good.published.sha256 } }]);
  assert.equal(statement.predicateType, REBUILD_PREDICATE_TYPE);
  assert.equal(statement.predicate.verdict, 'reproduced');
  assert.equal(statement.predicate.rebuilt.digest.sha256, good.published.sha256);
  assert.doesNotMatch(JSON.stringify(statement), /T\d\d:\d\d|seconds/, 'no time in the statement');
  // another rebuilder (another work directory) that agrees writes the same statement
  const elsewhere = join(dir, 'elsewhere', 'work');
  await rebuildPublished(`${server.url}image.tar`, { ...options(elsewhere), rebuilt: same });
  assert.equal(readFileSync(join(elsewhere, 'rebuild.intoto.json'), 'utf8'), readFileSync(join(work, 'rebuild.intoto.json'), 'utf8'));

  // a rebuilt image with one byte changed inside etc/motd
  const other = join(dir, 'other.tar');
  await writeImage(other, MOTD.replace('Built', 'built'));
  const bad = await rebuildPublished(`${server.url}image.tar`, { ...options(work), rebuilt: other });
  assert.equal(bad.verdict, 'differs');
  assert.deepEqual(bad.differences, ['image.tar ▸ etc/motd']);
  assert.match(readFileSync(join(work, 'diff.txt'), 'utf8'), /-Built by reprimage[\s\S]*\+built by reprimage/);
  assert.equal((JSON.parse(readFileSync(join(work, 'diff.json'), 'utf8')) as { 'diffoscope-json-version': number })['diffoscope-json-version'], 1);
  assert.equal((JSON.parse(readFileSync(join(work, 'rebuild.json'), 'utf8')) as { verdict: string }).verdict, 'differs');
});

test('cannot rebuild: inputs outside the recipe, a bundle that does not match its hash, a missing bundle — one line each, no build', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const external = join(dir, 'external');
  await writeRelease(external, (r) => (r.inputs.external = ['../shared-overlay']));
  const r1 = await rebuildPublished(join(external, 'image.tar'), options(join(dir, 'w1')));
  assert.equal(r1.verdict, 'cannot rebuild');
  assert.match(r1.reason!, /manifest\.json: the recipe used inputs outside its directory, which the manifest does not carry: \.\.\/shared-overlay$/);

  const swapped = join(dir, 'swapped');
  const { bundle } = await writeRelease(swapped);
  writeFileSync(bundle, Buffer.concat([readFileSync(bundle).subarray(0, 512 * 3), Buffer.alloc(1024)]));
  const r2 = await rebuildPublished(join(swapped, 'image.tar'), options(join(dir, 'w2')));
  assert.equal(r2.verdict, 'cannot rebuild');
  assert.match(r2.reason!, /recipe-inputs\.tar: SHA-256 mismatch: the manifest records [0-9a-f]{64} \(\d+ bytes\), this is [0-9a-f]{64}/);

  const server = await serveDirectory(swapped);
  t.after(() => server.close());
  const r3 = await rebuildPublished(`${server.url}image.tar`, { ...options(join(dir, 'w3')), inputs: `${server.url}gone.tar` });
  assert.equal(r3.verdict, 'cannot rebuild');
  assert.match(r3.reason!, /gone\.tar: the recipe's inputs cannot be had: the server answered 404/);
  for (const r of [r1, r2, r3]) assert.doesNotMatch(r.reason!, /\n/);
  assert.ok(!existsSync(join(dir, 'w1', 'rebuilt')), 'nothing was built');
});

test('--recipe DIR: its files are checked against the manifest, then built (here the build stops at the lock)', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  const release = join(dir, 'release');
  await writeRelease(release);
  const src = join(release, 'src');
  const r1 = await rebuildPublished(join(release, 'image.tar'), { ...options(join(dir, 'w1')), recipeDir: src });
  assert.equal(r1.verdict, 'cannot rebuild');
  // the inputs matched: what stopped it is the build itself, reading the (fake) lock
  assert.match(r1.reason!, /recipe\.yaml\.lock: /);
  writeFileSync(join(src, 'overlay/etc/motd'), 'changed\n');
  const r2 = await rebuildPublished(join(release, 'image.tar'), { ...options(join(dir, 'w2')), recipeDir: src });
  assert.equal(r2.verdict, 'cannot rebuild');
  assert.match(r2.reason!, /overlay\/etc\/motd: SHA-256 mismatch: the manifest records [0-9a-f]{64}, this is [0-9a-f]{64}$/);
});

test('URLs: downloads land in the work directory; a missing file is one line naming the URL', async (t) => {
  const dir = tempDir(t, 'reprimage-rebuild-');
  writeFileSync(join(dir, 'a file.bin'), 'x'.repeat(100_000));
  const server = await serveDirectory(dir);
  t.after(() => server.close());
  mkdirSync(join(dir, 'dl'));
  const got = await localCopy(beside(`${server.url}sub/../x.iso`, 'a file.bin'), join(dir, 'dl'));
  assert.equal(got, join(dir, 'dl', 'a file.bin'));
  assert.equal(readFileSync(got, 'utf8').length, 100_000);
  await assert.rejects(localCopy(`${server.url}missing.iso`, dir), (e: unknown) => e instanceof ReprimageError && e.message === `${server.url}missing.iso: the server answered 404 Not Found`);
  await assert.rejects(rebuildPublished(`${server.url}missing.iso`, options(join(dir, 'w'))), (e: unknown) => e instanceof ReprimageError && /missing\.iso: no build manifest beside it/.test(e.message));
  assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
});

test('a medium carries the record without outputs and without what describes the build machine, and it reads back', async (t) => {
  const dir = tempDir(t, 'reprimage-embedded-');
  const { manifest } = await writeRelease(join(dir, 'r'), (r) => {
    r.tools = { mmdebstrap: '1.3.5-7', apt: '2.6.1', dpkg: '1.21.22' };
    r.inputs.host_files = [{ path: '/usr/share/keyrings/debian-archive-keyring.gpg', sha256: 'a'.repeat(64) }];
  });
  const full = JSON.parse(readFileSync(manifest, 'utf8')) as { reproducible: ReproducibleManifest };
  const { outputs: _outputs, ...record } = full.reproducible;
  const embedded = embeddedRecordOf(record);
  assert.equal('outputs' in embedded, false);
  assert.equal('tools' in embedded, false);
  assert.deepEqual(embedded.reprimage, { same_bytes_since: SAME_BYTES_SINCE });
  assert.deepEqual(Object.keys(embedded.inputs).sort(), ['bundle', 'external', 'files']);
  // the same record from another machine (other tools, keyring, reprimage release of the same bytes) is the same bytes
  const elsewhere = embeddedRecordOf({ ...record, tools: { mmdebstrap: '1.5.7-1' }, reprimage: { version: '9.9.9', same_bytes_since: SAME_BYTES_SINCE }, inputs: { ...record.inputs, host_files: [] } });
  assert.deepEqual(embeddedManifestBytes(elsewhere), embeddedManifestBytes(embedded));
  const parsed = parsePublishedManifest(embeddedManifestBytes(embedded), 'x.iso ▸ .reprimage/manifest.json', true);
  assert.deepEqual(parsed.outputs, []);
  assert.deepEqual(parsed.tools, {});
  assert.equal(parsed.reprimageVersion, SAME_BYTES_SINCE);
  assert.deepEqual(parsed.inputs?.host_files, []);
  assert.equal(parsed.inputs?.bundle.sha256, record.inputs.bundle.sha256);
  // read as a manifest published beside an image, it lacks its outputs
  assert.throws(() => parsePublishedManifest(embeddedManifestBytes(embedded), 'm.json'), /reproducible\.(outputs|tools|reprimage\.version): /);
});

test('build_record is a key of iso outputs only', () => {
  const head = `name: r\narchitecture: amd64\nsources:\n  - uri: http://deb.debian.org/debian\n    suite: bookworm\n    components: [main]\n    keyring: /usr/share/keyrings/debian-archive-keyring.gpg\noutputs:\n`;
  assert.equal(parseRecipe(`${head}  - type: iso\n    build_record: true\n`, 'r.yaml').outputs[0]!.build_record, true);
  for (const type of ['rootfs', 'disk']) {
    assert.throws(() => parseRecipe(`${head}  - type: ${type}\n    build_record: true\n`, 'r.yaml'), /outputs\[0\]\.build_record: not a key of a (rootfs|disk) output/);
  }
});
