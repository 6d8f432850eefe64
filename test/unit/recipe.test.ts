// Recipe loading (schema errors with file, line and key), lock files, deb822 parsing and apt's
// simulation output. No network, no external tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecipe } from '../../src/recipe/recipe.js';
import { parseLock, recipeInputsHash, serializeLock, type Lock } from '../../src/recipe/lock.js';
import { field, parseStanzas, releaseChecksums, scanStanzas } from '../../src/recipe/deb822.js';
import { layOutRepository } from '../../src/recipe/local-repo.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePackages } from '../../src/recipe/apt-index.js';
import { parseSimulation } from '../../src/recipe/resolve.js';
import { clockShiftFromEnvironment, mmdebstrapArguments } from '../../src/recipe/rootfs.js';
import { ReprimageError } from '../../src/errors.js';

const GOOD = `name: demo
architecture: amd64
sources:
  - uri: http://deb.debian.org/debian
    suite: bookworm
    components: [main]
    keyring: /usr/share/keyrings/debian-archive-keyring.gpg
packages: [less]
`;

/** The error parseRecipe throws for `text`. */
function recipeError(text: string): ReprimageError {
  try {
    parseRecipe(text, 'r.yaml');
  } catch (e) {
    assert.ok(e instanceof ReprimageError, `not a ReprimageError: ${String(e)}`);
    return e;
  }
  assert.fail('the recipe was accepted');
}

test('a valid recipe gets its defaults', () => {
  const r = parseRecipe(GOOD, 'r.yaml');
  assert.equal(r.variant, 'essential');
  assert.equal(r.recommends, false);
  assert.deepEqual(r.outputs, [{ type: 'rootfs' }]);
  assert.deepEqual(r.packages, ['less']);
  assert.equal(r.source_date_epoch, undefined);
});

test('an unknown key is named with its line', () => {
  const e = recipeError(`${GOOD}pakages: [vim]\n`);
  assert.equal(e.code, 'USAGE');
  assert.equal(e.message, 'r.yaml:9: pakages: unknown key');
});

test('a nested unknown key names the path and the line of the key', () => {
  const e = recipeError(GOOD.replace('    suite: bookworm\n', '    suite: bookworm\n    sute: x\n'));
  assert.equal(e.message, 'r.yaml:6: sources[0].sute: unknown key');
});

test('a wrong type names the key, the line, what was expected and what was found', () => {
  const e = recipeError(GOOD.replace('    components: [main]', '    components: main'));
  assert.equal(e.message, 'r.yaml:6: sources[0].components: expected array, got string');
  const n = recipeError(`${GOOD}source_date_epoch: yesterday\n`);
  assert.equal(n.message, 'r.yaml:9: source_date_epoch: expected number, got string');
});

test('a missing required key points at the mapping that lacks it', () => {
  const e = recipeError(GOOD.replace('    keyring: /usr/share/keyrings/debian-archive-keyring.gpg\n', ''));
  assert.equal(e.message, 'r.yaml:4: sources[0].keyring: required (expected string)');
  const top = recipeError(GOOD.replace('architecture: amd64\n', ''));
  assert.match(top.message, /^r\.yaml:1: architecture: required/);
});

test('enum and pattern violations say what is allowed', () => {
  assert.equal(recipeError(`${GOOD}variant: minbase\n`).message, 'r.yaml:9: variant: expected one of "essential", "custom"');
  assert.equal(recipeError(GOOD.replace('packages: [less]', 'packages: [less, "Bad Name"]')).message, 'r.yaml:8: packages[1]: a Debian package name');
  assert.equal(recipeError(GOOD.replace('http://deb.debian.org/debian', 'ftp://x')).message, 'r.yaml:4: sources[0].uri: an http://, https:// or file:// URI');
});

test('invalid YAML and duplicate keys are errors with a line', () => {
  assert.match(recipeError(`${GOOD}packages: [vim]\n`).message, /^r\.yaml:9: invalid YAML: .*unique/i);
  assert.match(recipeError('name: [unclosed\n').message, /^r\.yaml:\d+: invalid YAML/);
  assert.match(recipeError('- a list\n').message, /^r\.yaml:1: \(top level\): expected object, got a list/);
});

const LOCK: Lock = {
  lock_version: 1,
  recipe_inputs: 'a'.repeat(64),
  architecture: 'amd64',
  sources: [{ uri: 'http://x/debian', suite: 'bookworm', in_release: { sha256: 'b'.repeat(64), size: 10 }, date: 'Sat, 11 Jul 2026 10:16:37 UTC', indices: [{ path: 'main/binary-amd64/Packages.gz', sha256: 'c'.repeat(64), size: 5 }] }],
  packages: [
    { name: 'zlib1g', version: '1:1.2.13', architecture: 'amd64', source: 0, filename: 'pool/main/z/zlib/zlib1g_1.2.13_amd64.deb', size: 3, sha256: 'd'.repeat(64) },
    { name: 'base-files', version: '12.4', architecture: 'amd64', source: 0, filename: 'pool/main/b/base-files/base-files_12.4_amd64.deb', size: 4, sha256: 'e'.repeat(64) },
  ],
};

test('a lock serializes to sorted, stable JSON with one package per line, and parses back', () => {
  const text = serializeLock(LOCK);
  assert.equal(serializeLock(parseLock(text, 'x.lock')), text);
  const lines = text.split('\n');
  assert.ok(lines.findIndex((l) => l.includes('"base-files"')) < lines.findIndex((l) => l.includes('"zlib1g"')), 'packages sorted by name');
  assert.equal(lines.filter((l) => l.startsWith('    {"name":')).length, 2);
  assert.deepEqual(parseLock(text, 'x.lock').packages.map((p) => p.name), ['base-files', 'zlib1g']);
});

test('a corrupt lock is refused naming the file and the field', () => {
  const bad = JSON.parse(serializeLock(LOCK)) as Lock;
  bad.packages[1]!.sha256 = 'xyz';
  assert.throws(() => parseLock(JSON.stringify(bad), 'x.lock'), /^ReprimageError: x\.lock: packages\[1\]\.sha256: a SHA-256 in hex$/);
  const escape = JSON.parse(serializeLock(LOCK)) as Lock;
  escape.packages[0]!.filename = 'pool/../../etc/passwd.deb';
  assert.throws(() => parseLock(JSON.stringify(escape), 'x.lock'), /packages\[0\]\.filename: no "\.\." components/);
  const twice = JSON.parse(serializeLock(LOCK)) as Lock;
  twice.packages[1] = { ...twice.packages[0]! };
  assert.throws(() => parseLock(JSON.stringify(twice), 'x.lock'), /locked twice/);
  const orphan = JSON.parse(serializeLock(LOCK)) as Lock;
  orphan.packages[0]!.source = 3;
  assert.throws(() => parseLock(JSON.stringify(orphan), 'x.lock'), /source 3 does not exist/);
  assert.throws(() => parseLock('{', 'x.lock'), /x\.lock: not JSON/);
});

test('the recipe-inputs hash changes with the package set, not with hooks or overlays', () => {
  const r = parseRecipe(GOOD, 'r.yaml');
  const h = recipeInputsHash(r);
  assert.equal(recipeInputsHash({ ...r, hooks: ['a.sh'], overlays: ['o'], exclude: ['x'] }), h);
  assert.equal(recipeInputsHash({ ...r, packages: [...r.packages].reverse() }), h);
  assert.notEqual(recipeInputsHash({ ...r, packages: ['less', 'vim'] }), h);
  assert.notEqual(recipeInputsHash({ ...r, variant: 'custom' }), h);
});

test('deb822: stanzas, continuation lines, case-insensitive fields, Release checksums', () => {
  const release = 'Origin: Debian\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nSHA256:\n ' + 'f'.repeat(64) + ' 12 main/binary-amd64/Packages\n ' + '0'.repeat(64) + '  7 main/binary-amd64/Packages.gz\n';
  const [stanza] = parseStanzas(release, 'Release');
  assert.equal(field(stanza!, 'origin'), 'Debian');
  const sums = releaseChecksums(stanza!, 'Release');
  assert.deepEqual(sums.get('main/binary-amd64/Packages.gz'), { sha256: '0'.repeat(64), size: 7 });
  assert.equal(sums.size, 2);
  assert.throws(() => parseStanzas(' lonely continuation\n', 'P'), /P:1: continuation line without a field/);
  assert.throws(() => releaseChecksums(parseStanzas('SHA256:\n nothex 1 x\n', 'R')[0]!, 'R'), /bad SHA256 line/);
});

test('Packages stanzas keep their exact text and parse the fields the lock needs', () => {
  const text = `Package: a\nVersion: 1.0\nArchitecture: all\nEssential: yes\nFilename: pool/a.deb\nSize: 3\nSHA256: ${'1'.repeat(64)}\nDescription: x\n more\n\nPackage: b\nVersion: 2\nArchitecture: amd64\nFilename: pool/b.deb\nSize: 4\nSHA256: ${'2'.repeat(64)}\n`;
  const pkgs = parsePackages(text, 'Packages');
  assert.deepEqual(pkgs.map((p) => [p.name, p.version, p.architecture, p.essential, p.size]), [['a', '1.0', 'all', true, 3], ['b', '2', 'amd64', false, 4]]);
  assert.equal(pkgs[0]!.stanza, text.split('\n\n')[0] + '\n');
  assert.throws(() => parsePackages('Package: c\nVersion: 1\n', 'Packages'), /package c has no (SHA256|Architecture|Filename|Size) field/);
});

test('scanStanzas gives the stanzas, texts, fields and errors parseStanzas gives (blank lines of spaces, CRLF, continuations, no final newline)', () => {
  const wanted = new Set(['package', 'description', 'sha256']);
  const texts = [
    'Package: a\nDescription: one\n two\n .\n three\nOther: x\n\n\nPackage: b\nSHA256: f\n   \npackage: c\n\tcontinued\nDescription: Zoë — naïve ✓\n',
    'Package: d\r\nDescription: e\r\n f\r\n\r\nPackage: g\r\n',
    '\n\nPackage: h\nDescription: no final newline',
  ];
  for (const text of texts) {
    const seen: Array<[Record<string, string>, string]> = [];
    scanStanzas(text, 'P', wanted, (fields, stanza) => seen.push([Object.fromEntries(fields), stanza]));
    const want = parseStanzas(text, 'P').map((s) => {
      const picked: Record<string, string> = {};
      for (const [k, v] of s.fields) if (wanted.has(k.toLowerCase())) picked[k.toLowerCase()] = v;
      return [picked, s.text] as [Record<string, string>, string];
    });
    assert.deepEqual(seen, want, JSON.stringify(text));
  }
  for (const bad of [' lonely continuation\n', 'Package: a\nno colon here\n', ': empty name\n']) {
    const old = (() => { try { parseStanzas(bad, 'P'); } catch (e) { return (e as Error).message; } return 'none'; })();
    assert.throws(() => scanStanzas(bad, 'P', wanted, () => undefined), (e: Error) => e.message === old);
  }
});

test("a local repository's Packages file is the stanzas joined by blank lines, written in pieces, with its hash in Release", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-repo-'));
  try {
    // more than one 1 Mi-character piece, with characters outside Latin-1
    const packages = Array.from({ length: 3000 }, (_, i) => ({ stanza: `Package: p${i}\nDescription: ${'Zoë ✓ '.repeat(60)}\n`, filename: `pool/p${i}.deb` }));
    await layOutRepository(dir, packages, '');
    const bytes = readFileSync(join(dir, 'Packages'));
    assert.equal(bytes.toString('utf8'), packages.map((p) => p.stanza).join('\n'));
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.match(readFileSync(join(dir, 'Release'), 'utf8'), new RegExp(`\\n ${sha} ${bytes.length} Packages\\n$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("apt's simulation lines give name, version and architecture", () => {
  const out = 'NOTE: This is only a simulation!\nInst libc6 (2.36-9+deb12u10 Debian:12.12/oldstable [amd64])\nInst base-files [12.3] (12.4+deb12u15 localhost [amd64])\nInst tzdata (2025b-0+deb12u1 . [all])\nConf libc6 (2.36-9+deb12u10 [amd64])\n';
  assert.deepEqual(parseSimulation(out), [
    { name: 'libc6', version: '2.36-9+deb12u10', architecture: 'amd64' },
    { name: 'base-files', version: '12.4+deb12u15', architecture: 'amd64' },
    { name: 'tzdata', version: '2025b-0+deb12u1', architecture: 'all' },
  ]);
});

test('mmdebstrap gets exactly the locked packages, the host files removed first, then overlays and hooks', () => {
  const args = mmdebstrapArguments({ suite: 'bookworm', architecture: 'amd64', sourcesLine: 'deb [trusted=yes] copy:/r ./', packages: ['a', 'b'], buildTime: 1, overlayTar: '/w/o.tar', hooks: ['/h/1.sh'], workDir: '/w' });
  assert.ok(args.includes('--variant=custom'));
  assert.ok(args.includes('--include=a,b'));
  const hooks = args.filter((a) => a.startsWith('--customize-hook='));
  assert.deepEqual(hooks, [
    '--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"',
    '--customize-hook=tar-in /w/o.tar /',
    '--customize-hook=upload /h/1.sh /tmp/reprimage-hook-0',
    '--customize-hook=chroot "$1" /bin/sh /tmp/reprimage-hook-0',
    '--customize-hook=rm -f "$1/tmp/reprimage-hook-0"',
  ]);
  assert.deepEqual(args.slice(-3), ['bookworm', '-', 'deb [trusted=yes] copy:/r ./']);
  assert.throws(() => mmdebstrapArguments({ suite: 's', architecture: 'amd64', sourcesLine: 'x', packages: ['a'], buildTime: 1, hooks: ['/h/with space.sh'], workDir: '/w' }), /may not contain spaces/);
});

test('a shifted clock (faketime) reaches the chroot: the library is copied in first and removed last, only under faketime', () => {
  const lib = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
  assert.deepEqual(clockShiftFromEnvironment({ FAKETIME: '+398d', LD_PRELOAD: `${lib}:/other/libx.so` }), [lib]);
  assert.deepEqual(clockShiftFromEnvironment({ LD_PRELOAD: lib }), [], 'LD_PRELOAD without FAKETIME is not a clock shift');
  assert.deepEqual(clockShiftFromEnvironment({ FAKETIME: '+1d', LD_PRELOAD: 'libfaketime.so.1' }), [], 'only absolute paths can be copied in');
  // Debian's faketime wrapper preloads /usr/$LIB/faketime/…: the path the loader found
  const found = (p: string) => p === '/usr/lib64/faketime/libfaketime.so.1' || (process.arch === 'x64' && p === lib);
  const expanded = clockShiftFromEnvironment({ FAKETIME: '+1d', LD_PRELOAD: '/usr/$LIB/faketime/libfaketime.so.1' }, found);
  assert.deepEqual(expanded, [process.arch === 'x64' ? lib : '/usr/lib64/faketime/libfaketime.so.1']);
  assert.deepEqual(clockShiftFromEnvironment({ FAKETIME: '+1d', LD_PRELOAD: '/usr/$LIB/faketime/libfaketime.so.1' }, () => false), []);
  const base = { suite: 'bookworm', architecture: 'amd64', sourcesLine: 'x', packages: ['a'], buildTime: 1, hooks: ['/h/1.sh'], workDir: '/w' };
  assert.ok(!mmdebstrapArguments(base).some((a) => a.includes('faketime')));
  const args = mmdebstrapArguments({ ...base, faketimeLibraries: [lib] });
  const setup = args.filter((a) => a.startsWith('--setup-hook='));
  assert.deepEqual(setup, [`--setup-hook=mkdir -p "$1/usr/lib/x86_64-linux-gnu/faketime" && cp ${lib} "$1${lib}"`]);
  const last = args.filter((a) => a.startsWith('--customize-hook=')).pop()!;
  assert.match(last, /dpkg -S \/usr\/lib\/x86_64-linux-gnu\/faketime\/libfaketime\.so\.1 .*\|\| \{ rm -f "\$1\/usr\/lib\/x86_64-linux-gnu\/faketime\/libfaketime\.so\.1"; rmdir/);
});

test('the check plan builds the recipe in a copy of its directory and compares its outputs, not the manifest (kept beside them, with the inputs bundle)', async () => {
  const { recipeCheckPlan } = await import('../../src/recipe/check-plan.js');
  const { REPO } = await import('../helpers/cli.js');
  const { join } = await import('node:path');
  const recipe = join(REPO, 'examples/bookworm-minimal/recipe.yaml');
  const plan = recipeCheckPlan(recipe, '/var/cache/x');
  assert.deepEqual(plan.artifacts, ['out/rootfs.tar']);
  assert.deepEqual(plan.kept, ['out/manifest.json', 'out/recipe-inputs.tar']);
  assert.equal(plan.source, join(REPO, 'examples/bookworm-minimal'));
  assert.deepEqual(plan.command.slice(2), ['build', 'recipe.yaml', '-o', 'out', '--workers', '{workers}', '--cache', '/var/cache/x', '--quiet']);
  assert.throws(() => recipeCheckPlan(join(REPO, 'no-such.yaml'), '/var/cache/x'), /no such file/);
  // an iso output without a path is compared where build writes it
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const isoRecipe = join(mkdtempSync(join(tmpdir(), 'reprimage-plan-')), 'recipe.yaml');
  writeFileSync(isoRecipe, readFileSync(join(REPO, 'examples/live-minimal/recipe.yaml'), 'utf8').replace(/\n {4}path: live\.iso\n/, '\n'));
  assert.deepEqual(recipeCheckPlan(isoRecipe, '/c').artifacts, ['out/live.iso']);
});
