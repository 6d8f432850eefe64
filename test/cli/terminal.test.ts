// Every command under a pseudo-terminal (`script`) and without one: bars on the terminal only,
// no escape code without a terminal or with NO_COLOR, the stages of `build` in both, and the
// same exit status either way (`rebuild` compares with an image rebuilt before, `--rebuilt`). `build` runs on a signed archive made in the test (no network);
// its packages are stand-ins that mmdebstrap cannot install, so the build fails after its
// verify and prepare stages, which are the ones checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, runCli } from '../helpers/cli.js';
import { requireTool, tempDir } from '../helpers/tools.js';
import { generateSigningKey, writeArchive, writeKeyring, type TestPackage } from '../helpers/apt-archive.js';
import { writeImage, writeRelease } from '../helpers/rebuild-release.js';

const ESC = '\u001b';
const EPOCH = '1700000000';

interface Outcome {
  status: number;
  /** stdout and stderr as the terminal showed them (script merges them). */
  text: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command under a pseudo-terminal: `script` gives it one for stdin, stdout and stderr. */
function onTerminal(args: string[], env: Record<string, string> = {}, cwd?: string): Outcome {
  const line = [process.execPath, CLI, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', line, '/dev/null'], { env: { ...process.env, NO_COLOR: '', TERM: 'xterm', ...env }, cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, text: r.stdout };
}

function offTerminal(args: string[], cwd?: string): Outcome & { stderr: string } {
  const r = runCli(args, { cwd, env: { NO_COLOR: undefined } });
  return { status: r.status, text: r.stdout + r.stderr, stderr: r.stderr };
}

/** A bar line of `label` as the reporter draws it: after a carriage return, with a count. */
const barOf = (label: string) => new RegExp(`\\r(${ESC}\\[K)?${label}  .*\\d+(/\\d+)? entries`);

function fixtures(dir: string) {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc/hostname'), 'box\n');
  writeFileSync(join(tree, 'data'), Buffer.alloc(300_000, 7));
  const a = join(dir, 'a.tar');
  const b = join(dir, 'b.tar');
  assert.equal(runCli(['pack', tree, '-o', a, '--source-date-epoch', EPOCH]).status, 0);
  writeFileSync(join(tree, 'etc/hostname'), 'other\n');
  assert.equal(runCli(['pack', tree, '-o', b, '--source-date-epoch', EPOCH]).status, 0);
  const gz = join(dir, 'norm');
  mkdirSync(gz);
  for (const n of ['x', 'y']) {
    const bytes = gzipSync(Buffer.from(n));
    bytes.writeUInt32LE(2_000_000_000, 4); // an mtime after the timestamp: normalize --check finds it
    writeFileSync(join(gz, `${n}.gz`), bytes);
  }
  const po = (date: string) => `msgid ""\nmsgstr ""\n"POT-Creation-Date: ${date}\\n"\n\nmsgid "x"\nmsgstr ""\n`;
  writeFileSync(join(dir, 'old.pot'), po('2024-01-01'));
  writeFileSync(join(dir, 'new.pot'), po('2025-01-01'));
  return { tree, a, b, gz };
}

test('every command: a bar on a terminal only, no escape codes without one or with NO_COLOR, same exit status', async (t) => {
  if (!requireTool(t, 'script')) return;
  const dir = tempDir(t, 'reprimage-terminal-');
  const f = fixtures(dir);
  const kit = join(dir, 'kit.iuk');
  // a published image and the same image "rebuilt" before: rebuild compares without building
  const { image } = await writeRelease(join(dir, 'release'));
  const rebuilt = join(dir, 'rebuilt.tar');
  await writeImage(rebuilt);
  // [arguments, the bar's label or undefined for a command that draws none, expected status]
  const cases: Array<[string[], string | undefined, number]> = [
    [['pack', f.tree, '-o', join(dir, 'out.sqfs'), '--source-date-epoch', EPOCH], 'pack', 0],
    [['disk', '-o', join(dir, 'disk.img'), '-p', `root-x86-64:ext4=${f.tree}`, '--source-date-epoch', EPOCH], 'disk', 0],
    [['verify-disk', join(dir, 'disk.img'), join(dir, 'disk.img')], 'verify-disk', 0],
    [['ls', f.a], undefined, 0],
    [['diff', f.a, f.b], 'diff', 1],
    [['normalize', '--timestamp', EPOCH, '--check', f.gz], 'normalize', 1],
    [['po-changed', join(dir, 'old.pot'), join(dir, 'new.pot')], undefined, 0],
    [['iuk', f.a, f.b, '-o', kit, '--comp', 'gzip', '--source-date-epoch', EPOCH], 'iuk', 0],
    [['iuk-apply', f.a, kit, '--expect', f.b], undefined, 0],
    [['check', '--only', 'umask,environment', '--artifact', 'out.txt', '--', 'sh', '-c', 'echo same > out.txt'], 'reprimage: check: build', 0],
    [['rebuild', image, '-o', join(dir, 'rebuild-work'), '--rebuilt', rebuilt], undefined, 0],
  ];
  // lock and build run in the next test, on an archive made there
  for (const [args, label, status] of cases) {
    const name = args[0]!;
    const tty = onTerminal(args);
    assert.equal(tty.status, status, `${name} on a terminal: ${tty.text}`);
    if (label === 'reprimage: check: build') assert.match(tty.text, /reprimage: check: build 2: experiment/, `${name}: which build runs, on a terminal`);
    else if (label !== undefined) assert.match(tty.text, barOf(label), `${name}: a bar on a terminal`);
    const plain = offTerminal(args);
    assert.equal(plain.status, status, `${name} without a terminal: ${plain.text}`);
    assert.ok(!plain.text.includes(ESC) && !plain.stderr.includes('\r'), `${name}: nothing drawn without a terminal: ${JSON.stringify(plain.stderr)}`);
    const noColor = onTerminal(args, { NO_COLOR: '1' });
    assert.equal(noColor.status, status);
    assert.ok(!noColor.text.includes(ESC), `${name}: no escape code with NO_COLOR: ${JSON.stringify(noColor.text.slice(0, 300))}`);
    if (label !== undefined && label !== 'reprimage: check: build') assert.match(noColor.text, barOf(label), `${name}: the bar is still drawn with NO_COLOR, without colour`);
    for (const off of ['--no-progress', '--quiet']) {
      const silent = onTerminal([...args, off]);
      assert.equal(silent.status, status);
      assert.ok(!silent.text.includes('\r\u001b[K') && !/\r[^\n]/.test(silent.text), `${name} ${off}: no bar: ${JSON.stringify(silent.text.slice(0, 300))}`);
    }
  }
});

const PACKAGES: TestPackage[] = [
  { name: 'base-files', version: '12.4', architecture: 'amd64', essential: true, body: Buffer.from('base-files') },
  { name: 'less', version: '590-2', architecture: 'amd64', body: Buffer.from('less') },
];

test('build prints its stages with their time and what they made, on a terminal and off it; --quiet silences them', async (t) => {
  if (!requireTool(t, 'script', 'apt-get')) return;
  const dir = tempDir(t, 'reprimage-terminal-build-');
  const key = await generateSigningKey('ed25519', 'archive');
  const uri = await writeArchive(join(dir, 'archive'), 'testing', PACKAGES, key);
  writeKeyring(join(dir, 'keyring.gpg'), [key]);
  const recipe = join(dir, 'recipe.yaml');
  writeFileSync(recipe, `name: t\narchitecture: amd64\nsources:\n  - uri: ${uri}\n    suite: testing\n    components: [main]\n    keyring: keyring.gpg\npackages: [less]\nsource_date_epoch: 1783764997\n`);
  const cache = join(dir, 'cache');
  const lock = offTerminal(['lock', recipe, '--cache', cache]);
  assert.equal(lock.status, 0, lock.text);
  assert.ok(!lock.text.includes(ESC) && !lock.stderr.includes('\r'), `lock: nothing drawn without a terminal: ${JSON.stringify(lock.stderr)}`);
  for (const env of [{}, { NO_COLOR: '1' }] as Array<Record<string, string>>) {
    const lockTty = onTerminal(['lock', recipe, '--cache', cache], env);
    assert.equal(lockTty.status, 0, `lock on a terminal: ${lockTty.text}`);
    if (env.NO_COLOR) assert.ok(!lockTty.text.includes(ESC), `lock: no escape code with NO_COLOR: ${JSON.stringify(lockTty.text)}`);
  }
  const args = ['build', recipe, '-o', join(dir, 'out'), '--cache', cache];
  const stages = /^reprimage: verify +\d+\.\d s {2}2 packages, 1 source\r?\nreprimage: prepare +\d+\.\d s\r?$/m;
  const plain = offTerminal(args);
  assert.equal(plain.status, 2, 'the stand-in packages cannot be installed');
  assert.match(plain.stderr, stages);
  assert.ok(!plain.stderr.includes(ESC));
  const tty = onTerminal(args, { NO_COLOR: '1' });
  assert.match(tty.text, stages);
  const colored = onTerminal(args);
  assert.match(colored.text, new RegExp(`reprimage: ${ESC}\\[1mverify +${ESC}\\[0m +\\d+\\.\\d s`), 'stage names in bold on a colour terminal');
  const quiet = offTerminal([...args, '--quiet']);
  assert.doesNotMatch(quiet.stderr, /verify|prepare/);
});

test('no command: the usage on stderr and exit 2; an unknown command and --color with a bad value: one line, exit 2', () => {
  const none = runCli([]);
  assert.equal(none.status, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^Usage: reprimage \[options\] COMMAND/);
  const unknown = runCli(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.equal(unknown.stderr, "reprimage: unknown command 'frobnicate'\n");
  const color = runCli(['ls', '.', '--color', 'sometimes']);
  assert.equal(color.status, 2);
  assert.equal(color.stderr, "reprimage: --color: expected auto, always or never, got 'sometimes'\n");
});
