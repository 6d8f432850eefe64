// `reprimage check` end to end, through the built CLI: a reproducible command passes under every
// variation this machine supports; commands that leak the clock, the time zone, the host name,
// the locale or the directory order fail, and --bisect names the variation responsible. A
// variation that cannot be applied here is reported as skipped, never counted as passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO, runCli } from '../helpers/cli.js';
import { IN_CI, requireTool, skipOrFailInCi, tempDir } from '../helpers/tools.js';
import { runUnprivileged, unprivilegedCli, unprivilegedTempDir } from '../helpers/unprivileged.js';

interface Report {
  reproducible: boolean;
  applied: Array<{ id: string; control: string; experiment: string; note?: string }>;
  skipped: Array<{ id: string; reason: string }>;
  artifacts: Array<{ path: string; identical: boolean; difference: { unified_diff: string | null; details?: unknown[] } | null }>;
  bisect: { differsWithoutVariations: boolean; causes: string[]; combination?: string[]; trials: Array<{ variations: string[]; differs: boolean | string }> } | null;
  builds: number;
}

function check(args: string[], cwd?: string): { status: number; report: Report; stderr: string } {
  const r = runCli(['check', '--json', '--no-progress', ...args], { cwd });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const ids = (r: Report) => r.applied.map((v) => v.id);

test('a deterministic command (reprimage pack of examples/hello-rootfs, {workers} varied) passes under every variation applied', () => {
  const node = process.execPath;
  const pack = `SOURCE_DATE_EPOCH=1700000000 "${node}" "${CLI}" pack hello-rootfs -q --no-xattrs --workers {workers}`;
  const { status, report } = check(['--source', join(REPO, 'examples'), '--artifact', 'hello.sqfs', '--artifact', 'hello.tar.gz', '--', 'sh', '-c', `${pack} -o hello.sqfs && ${pack} -o hello.tar.gz`]);
  assert.equal(status, 0, JSON.stringify(report, null, 1));
  assert.equal(report.reproducible, true);
  assert.deepEqual(report.artifacts.map((a) => [a.path, a.identical]), [['hello.sqfs', true], ['hello.tar.gz', true]]);
  for (const always of ['environment', 'build-path', 'user', 'home', 'umask', 'timezone', 'workers']) assert.ok(ids(report).includes(always), always);
  // every variation is either applied or skipped with a reason, never both
  const all = [...ids(report), ...report.skipped.map((s) => s.id)].sort();
  assert.deepEqual(all, ['build-path', 'clock', 'directory-order', 'environment', 'home', 'hostname', 'locale', 'timezone', 'umask', 'user', 'workers']);
  for (const s of report.skipped) assert.ok(s.reason.length > 10, `${s.id}: ${s.reason}`);
  // in CI (root, faketime, disorderfs, locales-all, unshare from .ci/run) every variation applies
  if (IN_CI) assert.deepEqual(report.skipped, []);
  assert.equal(report.builds, 2);
});

test('the clock: `date -u +%Y` in the artifact fails, and --bisect names faketime\'s shifted clock alone', (t) => {
  if (!requireTool(t, 'faketime')) return;
  const { status, report } = check(['--bisect', '--artifact', 'stamp.txt', '--', 'sh', '-c', 'date -u +%Y > stamp.txt']);
  assert.equal(status, 1);
  assert.ok(ids(report).includes('clock'), `clock not applied: ${JSON.stringify(report.skipped)}`);
  assert.equal(report.bisect?.differsWithoutVariations, false);
  assert.deepEqual(report.bisect?.causes, ['clock']);
  assert.match(report.artifacts[0]!.difference!.unified_diff ?? '', /^-20\d\d\n\+20\d\d$/m);
});

test('the time zone: the local hour of a fixed instant in the artifact; --bisect names TZ', () => {
  const { status, report } = check(['--bisect', '--artifact', 'hour.txt', '--', 'sh', '-c', 'date -d @0 +%H > hour.txt']);
  assert.equal(status, 1);
  assert.deepEqual(report.bisect?.causes, ['timezone']);
  assert.equal(report.bisect?.trials.length, 1 + report.applied.length, 'one build without variations, then one per variation');
});

test('the host name: a UTS namespace gives the second build another name, and --bisect names it', (t) => {
  const { status, report } = check(['--bisect', '--artifact', 'host.txt', '--', 'sh', '-c', 'hostname > host.txt; cat /proc/sys/kernel/domainname >> host.txt']);
  const skipped = report.skipped.find((s) => s.id === 'hostname');
  if (skipped) {
    // cannot vary it here: then it must not be claimed, and nothing else explains the difference
    assert.equal(status, 0);
    assert.ok(!ids(report).includes('hostname'));
    return skipOrFailInCi(t, `hostname not varied here: ${skipped.reason}`);
  }
  assert.equal(status, 1);
  assert.deepEqual(report.bisect?.causes, ['hostname']);
  assert.match(report.artifacts[0]!.difference!.unified_diff ?? '', /\+reprimage-check-other-host\n\+other-domain\.invalid/);
});

test('the locale: `sort` output depends on LC_ALL; --bisect names the locale (only an installed one is used)', (t) => {
  const { status, report } = check(['--bisect', '--artifact', 'sorted.txt', '--', 'sh', '-c', "printf 'b\\nB\\na\\nA\\n' | sort > sorted.txt"]);
  const locale = report.applied.find((v) => v.id === 'locale');
  if (!locale) {
    const skipped = report.skipped.find((s) => s.id === 'locale');
    assert.ok(skipped && /locale/.test(skipped.reason));
    assert.equal(status, 0);
    return skipOrFailInCi(t, `locale not varied here: ${skipped.reason}`);
  }
  assert.equal(status, 1);
  assert.deepEqual(report.bisect?.causes, ['locale']);
});

test('directory order: a listing in readdir order differs under disorderfs (when FUSE works here)', (t) => {
  const src = tempDir(t);
  for (let i = 0; i < 12; i++) writeFileSync(join(src, `f${i}.txt`), String(i));
  const { status, report } = check(['--bisect', '--source', src, '--artifact', 'list.txt', '--', 'sh', '-c', "find . -name '*.txt' > list.txt"]);
  if (!ids(report).includes('directory-order')) {
    assert.ok(report.skipped.some((s) => s.id === 'directory-order'));
    return skipOrFailInCi(t, `disorderfs skipped here: ${report.skipped.find((s) => s.id === 'directory-order')?.reason}`);
  }
  assert.equal(status, 1);
  assert.deepEqual(report.bisect?.causes, ['directory-order']);
});

test('a combination: output that needs two variations at once is narrowed down to exactly those two', () => {
  const { status, report } = check(['--bisect', '--only', 'umask,timezone,user', '--artifact', 'x.txt', '--', 'sh', '-c', 'if [ "$TZ" != UTC ] && [ "$(umask)" = 0002 ]; then echo both; fi > x.txt']);
  assert.equal(status, 1);
  assert.deepEqual(report.bisect?.causes, []);
  assert.deepEqual(report.bisect?.combination, ['umask', 'timezone']);
});

test('randomness: a build that differs with no variation at all is reported as such, not blamed on a variation', () => {
  const { status, report } = check(['--bisect', '--only', 'umask', '--artifact', 'r.txt', '--', 'sh', '-c', 'od -An -N8 -tx1 /dev/urandom > r.txt']);
  assert.equal(status, 1);
  assert.equal(report.bisect?.differsWithoutVariations, true);
  assert.deepEqual(report.bisect?.causes, []);
});

test('the text report lists applied and skipped variations and names the differing artifact', () => {
  const r = runCli(['check', '--no-progress', '--only', 'timezone,umask', '--skip', 'umask', '--artifact', 'hour.txt', '--', 'sh', '-c', 'date -d @0 +%H > hour.txt']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^ {2}timezone +time zone \(TZ\): UTC -> /m);
  assert.match(r.stdout, /^variations skipped \(not tested\):\n {2}umask +umask: left out on request/m);
  assert.match(r.stdout, /^ {2}DIFFERENT {2}hour\.txt$/m);
  assert.match(r.stdout, /^result: NOT reproducible$/m);
  assert.match(r.stdout, /^--- control:hour\.txt$/m);
});

test('errors: no artifact, a failing build, a missing artifact, an unknown variation, a missing recipe: one line, exit 2', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'r'));
  const cases: Array<[string[], RegExp]> = [
    [['check', '--', 'true'], /--artifact: name at least one artifact/],
    [['check', '--artifact', 'x', '--', 'sh', '-c', 'echo broken >&2; exit 3'], /control build exited 3: broken/],
    [['check', '--artifact', 'never-made', '--', 'true'], /never-made: the control build did not make this artifact/],
    [['check', '--only', 'moon-phase', '--artifact', 'x', '--', 'true'], /--only: unknown variation 'moon-phase'/],
    [['check', '--artifact', '../outside', '--', 'true'], /--artifact: \.\.\/outside: a path inside the build directory/],
    [['check', join(dir, 'r')], /\/r: is a directory/],
    [['check', join(dir, 'missing-recipe.yaml')], /missing-recipe\.yaml: no such file or directory/],
  ];
  for (const [args, message] of cases) {
    const r = runCli([...args.slice(0, 1), '--no-progress', ...args.slice(1)]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
  }
});

test('trailing --artifact after the command (the spelling docs/check.md also allows) is taken as check\'s option', () => {
  const r = runCli(['check', '--no-progress', '--only', 'umask', '--', 'sh', '-c', 'echo same > a.txt', '--artifact', 'a.txt']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /identical {2}a\.txt/);
});

test('unprivileged (run as nobody): the host name is varied in a user namespace, or skipped with the reason, never claimed', (t) => {
  // as root the whole check runs as REPRIMAGE_TEST_USER (nobody), in a directory of its own
  const r = runUnprivileged(process.execPath, [unprivilegedCli(),
    'check', '--json', '--no-progress', '--bisect', '--only', 'hostname,umask', '--artifact', 'h.txt', '--', 'sh', '-c', 'hostname > h.txt'], { cwd: unprivilegedTempDir(t) });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Report;
  assert.ok(ids(report).includes('umask'), 'the run did vary something');
  const hostname = report.applied.find((v) => v.id === 'hostname');
  if (!hostname) {
    assert.equal(r.status, 0);
    assert.ok(report.skipped.some((s) => s.id === 'hostname' && s.reason.length > 0));
    return;
  }
  assert.match(hostname.note ?? '', /user namespace/);
  assert.equal(r.status, 1);
  assert.deepEqual(report.bisect?.causes, ['hostname']);
});
