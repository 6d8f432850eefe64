// What `npm pack` ships and what a user installs: the generated man pages and completions are
// those of the current command definitions; the tarball carries LICENSE, CHANGELOG, man pages
// and completions, no tests, and no source map without its sources; the completions load in
// bash, zsh and fish; `npm install -g --engine-strict` of the tarball works on this Node.js, the
// installed command writes the bytes the repository's does, and `man reprimage` then finds the
// page; no dependency that npm checks leaves out a Node.js major we support (the one that does,
// libdeflate, ships inside the tarball: ENGINE_GAPS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from '../helpers/cli.js';
import { requireTool, skipOrFailInCi, tempDir } from '../helpers/tools.js';

const { generatedFiles } = (await import(new URL('../../scripts/generate-man-completions.js', import.meta.url).href)) as { generatedFiles: () => Promise<Map<string, string>> };

test('man pages and completions in the repository are the ones the command definitions give', async () => {
  const files = await generatedFiles();
  assert.ok(files.size >= 12 + 3);
  for (const [path, text] of files) assert.equal(readFileSync(join(REPO, path), 'utf8'), text, `${path} is stale: npm run build writes it`);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { man: string[] };
  assert.deepEqual([...pkg.man].sort(), [...files.keys()].filter((p) => p.startsWith('man/')).map((p) => `./${p}`).sort(), 'package.json lists every man page');
});

test('npm pack: LICENSE, CHANGELOG, man pages and completions; no tests; every source map carries its sources', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  for (const needed of ['LICENSE', 'CHANGELOG.md', 'README.md', 'man/reprimage.1', 'man/reprimage-pack.1', 'completions/reprimage.bash', 'completions/reprimage.zsh', 'completions/reprimage.fish', 'dist/src/cli/main.js']) {
    assert.ok(files.includes(needed), `the package has ${needed}`);
  }
  assert.deepEqual(files.filter((f) => /(^|\/)(test|tests|fuzz|bench|scripts)\//.test(f) || /\.test\.js$/.test(f)), [], 'no tests, fuzzers, benchmarks or build scripts');
  for (const js of files.filter((f) => f.endsWith('.js'))) {
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(REPO, js), 'utf8'))?.[1];
    if (ref === undefined) continue;
    const map = join(js, '..', ref);
    assert.ok(files.includes(map), `${js} points at ${map}, which is shipped`);
    const parsed = JSON.parse(readFileSync(join(REPO, map), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
    assert.equal(parsed.sourcesContent?.length, parsed.sources.length, `${map} carries its sources`);
    assert.ok(parsed.sourcesContent!.every((s) => typeof s === 'string' && s.length > 0), `${map}: no empty source`);
  }
});

test('completions: bash completes commands, options and option values; zsh registers its function; fish completes', (t) => {
  if (!requireTool(t, 'bash', 'zsh', 'fish')) return;
  const dir = join(REPO, 'completions');
  const bash = (words: string[]) => {
    const script = `source ${dir}/reprimage.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _reprimage; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(bash(['reprimage', 'iu']), ['iuk', 'iuk-apply']);
  assert.deepEqual(bash(['reprimage', 'pack', '--com']), ['--comp']);
  assert.deepEqual(bash(['reprimage', 'pack', 'x', '--comp', '']), ['gzip', 'xz', 'zstd', 'lz4']);
  assert.deepEqual(bash(['reprimage', 'diff', '--color', 'al']), ['always']);
  const zsh = spawnSync('zsh', ['-fc', `autoload -Uz compinit && compinit -u -D; source ${dir}/reprimage.zsh; print -r -- $_comps[reprimage]`], { encoding: 'utf8' });
  assert.equal(zsh.status, 0, zsh.stderr);
  assert.equal(zsh.stdout, '_reprimage\n');
  assert.equal(spawnSync('zsh', ['-n', join(dir, 'reprimage.zsh')]).status, 0, 'zsh parses it');
  const fish = spawnSync('fish', ['--no-config', '-c', `source ${dir}/reprimage.fish; complete -C'reprimage iuk-a'; complete -C'reprimage pack --comp '`], { encoding: 'utf8' });
  assert.equal(fish.status, 0, fish.stderr);
  assert.match(fish.stdout, /^iuk-apply\t/m);
  assert.match(fish.stdout, /^zstd\t/m);
});

/**
 * Dependencies whose declared engines leave out a Node.js major reprimage supports. libdeflate
 * 0.1.0 (the gzip SquashFS codec) declares node >= 24 and has no other release; replacing it
 * changes the bytes of every default SquashFS image, and its WebAssembly runs on Node 20, 22 and
 * 24 (the unit and CLI tiers run on all three). So it is shipped inside reprimage's tarball
 * (package.json `bundleDependencies`), where npm does not check engines, and
 * `npm install --engine-strict` passes (docs/testing.md). Every gap must be bundled; a new gap,
 * or libdeflate's declaration changing (then it need not be bundled), fails this test.
 */
const ENGINE_GAPS = ['libdeflate'];

/** Whether a package's `engines.node` range leaves out Node.js `major` (the forms npm packages use). */
function excludesMajor(range: string, major: number): boolean {
  const floor = /^\s*>=?\s*v?(\d+)/.exec(range);
  return floor !== null && Number(floor[1]) > major;
}

test('npm install -g --engine-strict of the packed tarball, then reprimage --version, the same SquashFS bytes, and man reprimage; every dependency that excludes a supported Node.js is bundled', (t) => {
  if (!requireTool(t, 'npm', 'man')) return;
  const dir = tempDir(t, 'reprimage-install-');
  const packed = spawnSync('npm', ['pack', '--pack-destination', dir, '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  const tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
  const prefix = join(dir, 'prefix');
  const install = spawnSync('npm', ['install', '-g', '--engine-strict', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], { encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
  if (install.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED/.test(install.stderr)) {
    skipOrFailInCi(t, `npm install -g could not reach the registry: ${install.stderr.split('\n').find((l) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED/.test(l))}`);
    return;
  }
  assert.equal(install.status, 0, install.stderr);
  // npm runs on the `node` first on PATH: the engines it checked are those of this Node.js
  t.diagnostic(`npm install -g --engine-strict passed under Node.js ${spawnSync('node', ['--version'], { encoding: 'utf8' }).stdout.trim()}`);
  const bin = join(prefix, 'bin', 'reprimage');
  assert.ok(existsSync(bin));
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^reprimage \d+\.\d+\.\d+/);
  // the bundled libdeflate is the one that writes: the default SquashFS gzip image is the same
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc', 'motd'), 'hello from a bundled codec\n'.repeat(200));
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
  const [installed, ours] = [join(dir, 'installed.sqfs'), join(dir, 'ours.sqfs')];
  assert.equal(spawnSync(bin, ['pack', tree, '-o', installed, '-q'], { encoding: 'utf8', env }).status, 0);
  assert.equal(runCli(['pack', tree, '-o', ours, '-q'], { env }).status, 0);
  assert.ok(readFileSync(installed).equals(readFileSync(ours)), 'the installed command writes the bytes of the repository build');
  const man = spawnSync('man', ['-P', 'cat', 'reprimage'], { encoding: 'utf8', env: { ...process.env, MANPATH: join(prefix, 'share', 'man'), MANWIDTH: '80' } });
  assert.equal(man.status, 0, man.stderr);
  assert.match(man.stdout, /reprimage\s+-\s+Build Linux system images/);
  const pack = spawnSync('man', ['-P', 'cat', 'reprimage-pack'], { encoding: 'utf8', env: { ...process.env, MANPATH: join(prefix, 'share', 'man'), MANWIDTH: '80' } });
  assert.match(pack.stdout, /--block-size/);
  const modules = join(prefix, 'lib', 'node_modules', 'reprimage', 'node_modules');
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bundleDependencies?: string[] };
  assert.deepEqual(pkg.bundleDependencies, ENGINE_GAPS, 'the gaps are exactly the bundled dependencies');
  const gaps = readdirSync(modules)
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`) : [name]))
    .filter((name) => existsSync(join(modules, name, 'package.json')))
    .filter((name) => {
      const engines = (JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines;
      return engines?.node !== undefined && [20, 22].some((major) => excludesMajor(engines.node!, major));
    })
    .sort();
  assert.deepEqual(gaps, ENGINE_GAPS);
});
