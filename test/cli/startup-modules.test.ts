/**
 * Commands load their modules on first use (docs/benchmarks.md, start-up): `--version` loads no codec
 * and no command, and `normalize` of one gzip file loads neither commander nor any other
 * normalizer nor the worker pool. Which modules a process loads is read through module hooks
 * (test/helpers/load-trace-hooks.ts); how fast that makes start-up is measured by
 * bench/startup.ts, never here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI } from '../helpers/cli.js';

const HOOKS = new URL('../helpers/load-trace-hooks.js', import.meta.url).href;
const DIST_SRC = new URL('../../src/', import.meta.url).href;

/** The modules of reprimage (paths under src/) and the packages that `args` loads. */
function loaded(t: { after(fn: () => void): void }, args: string[]): { ours: string[]; packages: string[]; status: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-startup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const trace = join(dir, 'trace');
  writeFileSync(trace, '');
  const register = `import { register } from 'node:module'; register(${JSON.stringify(HOOKS)}, { data: { traceFile: ${JSON.stringify(trace)} } });`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, ...args], { encoding: 'utf8' });
  const urls = readFileSync(trace, 'utf8').split('\n').filter((u) => u !== '');
  assert.ok(urls.some((u) => u.endsWith('/cli/main.js')), `the hooks saw the modules: ${urls.join(' ')}`);
  return {
    ours: [...new Set(urls.filter((u) => u.startsWith(DIST_SRC)).map((u) => u.slice(DIST_SRC.length)))].sort(),
    packages: [...new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))].sort(),
    status: r.status ?? -1,
    stderr: r.stderr,
  };
}

test('--version loads the codec names, no codec, no package and no command', (t) => {
  const { ours, packages, status, stderr } = loaded(t, ['--version']);
  assert.equal(status, 0, stderr);
  assert.deepEqual(packages, []);
  assert.deepEqual(ours, ['cli/commands.js', 'cli/main.js', 'compress/codec-implementations.js', 'compress/registry.js']);
});

test('normalize of one gzip file loads the gzip normalizer only: no commander, no other normalizer, no worker pool', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-startup-gz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gz = gzipSync(Buffer.from('hello\n'));
  gz.writeUInt32LE(2_000_000_000, 4); // an MTIME after the timestamp: the file is rewritten
  const file = join(dir, 'small.gz');
  writeFileSync(file, gz);
  const { ours, packages, status, stderr } = loaded(t, ['normalize', '--timestamp', '1700000000', file]);
  assert.equal(status, 0, stderr);
  assert.equal(readFileSync(file).readUInt32LE(4), 1_700_000_000, 'the file was normalized');
  assert.deepEqual(packages, []);
  const normalizers = ours.filter((m) => m.startsWith('normalize/') && !['normalize/catalog.js', 'normalize/detect.js', 'normalize/handler.js', 'normalize/walk.js', 'normalize/file.js', 'normalize/compare-sink.js'].includes(m));
  assert.deepEqual(normalizers, ['normalize/gzip.js']);
  for (const heavy of ['cli/program.js', 'cli/normalize.js', 'parallel/ordered-pool.js', 'compress/registry.js']) assert.ok(!ours.includes(heavy), `${heavy} is not loaded`);
  assert.ok(ours.every((m) => !m.startsWith('formats/') || /^formats\/(ar|cpio)\/layout\.js$/.test(m)), `no format beyond the detectors' magic numbers: ${ours.join(' ')}`);
});

test('a normalize line with an option the light parser does not know still gets commander and its message', (t) => {
  const { packages, status, stderr } = loaded(t, ['normalize', '--bogus', 'x']);
  assert.equal(status, 2);
  assert.equal(stderr, "reprimage: unknown option '--bogus'\n");
  assert.deepEqual(packages, ['commander']);
});

