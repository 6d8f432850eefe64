/**
 * The package as a user gets it: `npm pack`, the tarball unpacked into a scratch project under
 * /tmp as `node_modules/reprimage`, its runtime dependencies linked from the repository's
 * node_modules (no network, and nothing that `npm ci` may not have cached: an offline
 * `npm install` of the tarball also needs the registry's metadata of every dependency), then a
 * program of that project (test/fixtures/npm-consumer/consumer.mts) type-checked with strict +
 * NodeNext against the published declarations, and run: it imports every entry point of
 * package.json's `exports`, writes SquashFS, FAT, ext4 and a GPT disk from a directory, reads them
 * back and diffs two of them, and calls every module: a format's writer with the policy, each diff
 * presenter, normalize, recipe parse/lock/build (aborted), a check of a small build and an
 * upgrade kit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tools.js';

function run(command: string, args: string[], cwd: string): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${command} ${args.join(' ')} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('a scratch project with the packed tarball type-checks against its declarations and writes and diffs images with it', { timeout: 600_000 }, (t) => {
  const dir = tempDir(t);
  run('npm', ['pack', '--silent', '--pack-destination', dir], REPO);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  const project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`);
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'reprimage'), { recursive: true });
  run('tar', ['-xzf', join(dir, tarball), '-C', join(modules, 'reprimage'), '--strip-components=1'], project);
  // what npm would install: the dependencies the packed package.json declares (theirs resolve from their real paths)
  const packed = JSON.parse(readFileSync(join(modules, 'reprimage', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: unknown };
  for (const dep of Object.keys(packed.dependencies)) {
    mkdirSync(join(modules, dep, '..'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', dep), join(modules, dep), 'dir');
  }
  assert.ok(!readdirSync(modules).includes('typescript') && !readdirSync(modules).includes('@types'), 'no development dependency is visible');
  for (const f of ['consumer.mts', 'tsconfig.json']) copyFileSync(join(REPO, 'test/fixtures/npm-consumer', f), join(project, f));
  // the compiler and Node's own types come from the repository; everything else from the install
  run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.', '--typeRoots', join(REPO, 'node_modules/@types'), '--types', 'node'], project);
  const result = JSON.parse(run(process.execPath, ['out/consumer.mjs'], project)) as Record<string, unknown>;
  assert.deepEqual(result.modules, [], 'every imported name is defined');
  assert.ok((result.formats as string[]).includes('squashfs') && (result.formats as string[]).includes('ext4'));
  assert.deepEqual(result.sniffed, { 'root.sqfs': 'squashfs', 'esp.img': 'fat', 'root.ext4': 'ext4', 'disk.img': 'disk', 'disk.qcow2': 'qcow2', 'registry.fat': 'fat' });
  assert.deepEqual(result.vmDiff, ['image'], 'a raw disk and its qcow2 differ only in the qcow2 header');
  assert.equal(result.qcow2Size, true, 'the qcow2 holds a disk of the raw image size');
  assert.match(result.registryFat as string, /^[0-9A-F]{4}-[0-9A-F]{4}$/, 'writeFormat wrote a FAT with a volume id from the seed');
  assert.equal(result.squashfsNewest, 1_700_000_000, 'times clamped to the build time by default');
  assert.deepEqual(result.ext4Entries, ['.', 'README', 'etc', 'etc/hostname', 'lost+found']);
  assert.equal(result.partitions, 2);
  assert.equal(result.diskPartitions, 2);
  assert.equal(result.same, true, 'the same tree written twice gives the same image');
  assert.equal(result.different, true, 'SquashFS and ext4 images of one tree differ');
  assert.equal(result.usage, 'USAGE');
  assert.deepEqual(result.tarEntry, { mtime: 1_700_000_000, uid: 0, mode: 0o644 }, 'the policy applied by the caller, the time clamped by the tar writer');
  for (const [presenter, size] of Object.entries(result.presenters as Record<string, number>)) assert.ok(size > 0, `the ${presenter} presenter rendered the difference`);
  assert.equal(result.normalized, 'changed');
  assert.equal(result.recipeName, 'consumer');
  assert.deepEqual(result.recipeCalls, ['ABORTED', 'ABORTED'], 'lock and build stop on an aborted signal');
  assert.deepEqual(result.check, { reproducible: true, text: true });
  assert.deepEqual(result.kit, { layout: 'rootfs', changed: 1, buildTime: 1_700_000_000 });
  assert.equal(result.aborted, 'ABORTED');
  assert.equal(result.leftBehind, 0, 'an aborted write leaves no file');
});
