// Every `reprimage` command line in README.md and docs/ is either run here exactly as written
// (in document order, in one sandbox holding the files the lines name, with `reprimage` on
// PATH) and must succeed, or is listed in EXEMPT with the reason it is not run. A line added to
// the docs and in neither place fails the test. README's command table is checked against the
// parser: every command and option it shows exists, and pack's option table lists pack's options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, REPO, runCli } from '../helpers/cli.js';
import { requireTool, skipOrFailInCi, tempDir } from '../helpers/tools.js';

/** Lines not run, by their exact text (continuations joined with a space), and why. */
const EXEMPT: Record<string, string> = {
  "reprimage pack ROOTFS/ -o - --format tar | ssh host tar -x   # '-' writes to standard output (tar, cpio)": 'needs another host (ssh)',
};

/** Kinds of lines not run, and why; each must match some line. */
const EXEMPT_KINDS: Array<[RegExp, string]> = [
  [/^reprimage (lock|build) /, 'recipes: lock needs deb.debian.org, build needs root (mmdebstrap) too; test/network runs them'],
  [/^reprimage rebuild /, 'rebuilds a published build: root (mmdebstrap), and a URL or the output of a build'],
  [/^reprimage verify-disk /, 'compares a disk with the output of a build (root, deb.debian.org); test/network/installer.test.ts runs it on the installed disk'],
];

/** Synopses: the shape of a command with placeholders, not a command to run. */
const SYNOPSIS = /\[|…|\bPATH\b|\bCMD\b|\bRECIPE\b|\bOLD\b|\bA B\b/;

/** `reprimage …` lines of the code blocks of README.md and docs/, continuations joined. */
function documentedLines(): Array<{ file: string; line: number; text: string }> {
  const files = ['README.md', ...markdownUnder(join(REPO, 'docs'))];
  const out: Array<{ file: string; line: number; text: string }> = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
    let inBlock = false;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.startsWith('```')) {
        inBlock = !inBlock;
        continue;
      }
      if (!inBlock || !/^(\w+=\S+ )*reprimage /.test(lines[i]!)) continue;
      let text = lines[i]!;
      const start = i;
      while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
      out.push({ file, line: start + 1, text });
    }
  }
  return out;
}

function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []))
    .map((p) => relative(REPO, p))
    .sort();
}

/** The files and directories the documented lines name, made small. */
function makeSandbox(dir: string): void {
  const run = (args: string[]) => {
    const r = runCli(args, { cwd: dir, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  cpSync(join(REPO, 'examples/hello-rootfs'), join(dir, 'ROOTFS'), { recursive: true });
  mkdirSync(join(dir, 'examples'));
  cpSync(join(REPO, 'examples/hello-rootfs'), join(dir, 'examples/hello-rootfs'), { recursive: true });
  copyFileSync(join(REPO, 'examples/hello.file-list'), join(dir, 'devices.list'));
  writeFileSync(join(dir, 'excludes.txt'), '*.tmp\n');
  mkdirSync(join(dir, 'boot/EFI/BOOT'), { recursive: true });
  writeFileSync(join(dir, 'boot/EFI/BOOT/BOOTX64.EFI'), 'not a real loader');
  cpSync(join(dir, 'ROOTFS'), join(dir, 'rootfs'), { recursive: true });
  // rootfs.tar.xz for `pack rootfs.tar.xz`
  run(['pack', 'ROOTFS/', '-o', 'seed.tar']);
  const xz = spawnSync('sh', ['-c', 'xz -c seed.tar > rootfs.tar.xz'], { cwd: dir });
  assert.equal(xz.status, 0);
  // live/ for the hybrid ISO line: isolinux.bin and an EFI image inside it
  mkdirSync(join(dir, 'live/isolinux'), { recursive: true });
  mkdirSync(join(dir, 'live/boot'));
  copyFileSync('/usr/lib/ISOLINUX/isolinux.bin', join(dir, 'live/isolinux/isolinux.bin'));
  run(['pack', 'boot/', '-o', 'live/boot/efi.img', '--format', 'fat']);
  run(['pack', 'ROOTFS/', '-o', 'initrd.img', '--format', 'cpio.gz']);
  // two builds that differ, in the forms the diff and iuk lines name
  cpSync(join(dir, 'ROOTFS'), join(dir, 'v2'), { recursive: true });
  writeFileSync(join(dir, 'v2/hello.txt'), 'a newer build\n');
  for (const [tree, name] of [['ROOTFS/', 'a'], ['v2/', 'b']] as const) {
    mkdirSync(join(dir, `${name}-live/live`), { recursive: true });
    run(['pack', tree, '-o', `${name}-live/live/filesystem.squashfs`]);
    run(['pack', `${name}-live/`, '-o', `${name}.iso`]);
    run(['pack', tree, '-o', `${name}.cpio.gz`]);
  }
  mkdirSync(join(dir, 'build1'));
  mkdirSync(join(dir, 'build2'));
  copyFileSync(join(dir, 'a.iso'), join(dir, 'build1/live.iso'));
  copyFileSync(join(dir, 'b.iso'), join(dir, 'build2/live.iso'));
  copyFileSync(join(dir, 'a.iso'), join(dir, 'old.iso'));
  copyFileSync(join(dir, 'b.iso'), join(dir, 'new.iso'));
  // build/ and dist/*.jar for normalize
  mkdirSync(join(dir, 'build'));
  const gz = gzipSync(Buffer.from('log\n'));
  gz.writeUInt32LE(2_000_000_000, 4);
  writeFileSync(join(dir, 'build/changes.gz'), gz);
  mkdirSync(join(dir, 'dist'));
  const jar = spawnSync('python3', ['-c', 'import zipfile; z = zipfile.ZipFile("dist/app.jar", "w"); z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\\n"); z.close()'], { cwd: dir });
  assert.equal(jar.status, 0, String(jar.stderr));
  const po = (date: string) => `msgid ""\nmsgstr ""\n"POT-Creation-Date: ${date}\\n"\n\nmsgid "x"\nmsgstr ""\n`;
  writeFileSync(join(dir, 'old.pot'), po('2024-01-01 10:00+0000'));
  writeFileSync(join(dir, 'new.pot'), po('2025-01-01 10:00+0000'));
  // `reprimage` as the docs call it
  mkdirSync(join(dir, '.bin'));
  writeFileSync(join(dir, '.bin/reprimage'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(dir, '.bin/reprimage'), 0o755);
}

test('every reprimage line of README.md and docs/ runs as written and succeeds, or is exempt with a reason', (t) => {
  if (!requireTool(t, 'xz', 'python3', 'mkfs.fat')) return;
  if (!existsSync('/usr/lib/ISOLINUX/isolinux.bin') || !existsSync('/usr/lib/ISOLINUX/isohdpfx.bin')) {
    skipOrFailInCi(t, 'the README line of the hybrid ISO needs /usr/lib/ISOLINUX (apt-get install isolinux)');
    return;
  }
  const dir = tempDir(t, 'reprimage-doc-lines-');
  makeSandbox(dir);
  const lines = documentedLines();
  assert.ok(lines.length >= 30, `found ${lines.length} documented lines`);
  const used = new Set<string>();
  let ran = 0;
  for (const { file, line, text } of lines) {
    if (EXEMPT[text] !== undefined) {
      used.add(text);
      continue;
    }
    const kind = EXEMPT_KINDS.find(([pattern]) => pattern.test(text));
    if (kind) {
      used.add(String(kind[0]));
      continue;
    }
    if (SYNOPSIS.test(text.replace(/#.*$/, ''))) continue;
    // the documented exit status: 1 means "different", which these lines say they may report
    const mayDiffer = /exit 1|exit 0 same|diff |po-changed|iuk-apply|--check/.test(text);
    const r = spawnSync('sh', ['-c', text], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, '.bin')}:${process.env.PATH}` } });
    ran++;
    assert.ok(r.status === 0 || (mayDiffer && r.status === 1), `${file}:${line}: \`${text}\` exited ${r.status}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error/, `${file}:${line}`);
  }
  assert.deepEqual([...Object.keys(EXEMPT), ...EXEMPT_KINDS.map(([p]) => String(p))].filter((k) => !used.has(k)), [], 'every exemption names a line that is in the docs');
  assert.ok(ran >= 20, `ran ${ran} lines`);
  assert.ok(existsSync(join(dir, 'report.json')) && JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).source1 === 'a.iso', 'diff --json - wrote the report to standard output');
});

test("README's commands and pack option table agree with the parser", async () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const { buildProgram } = await import('../../src/cli/program.js');
  const program = await buildProgram();
  const options = (name: string) => new Set(program.commands.find((c) => c.name() === name)!.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
  for (const { file, line, text } of documentedLines().filter((l) => l.file === 'README.md')) {
    for (const call of text.replace(/#.*$/, '').split(/&&|\|/).map((s) => s.trim().replace(/^(\w+=\S+ )*/, ''))) {
      const m = /^reprimage (\S+)(.*)$/.exec(call);
      if (!m) continue;
      if (m[1] === '--version') continue;
      assert.ok(program.commands.some((c) => c.name() === m[1]), `${file}:${line}: command ${m[1]} exists`);
      // options of the command itself: up to a `--` that starts a nested command line
      const own = m[2]!.split(' -- ')[0]!;
      for (const flag of own.match(/(?<=\s)--?[a-z][\w-]*/g) ?? []) {
        assert.ok(options(m[1]!).has(flag), `${file}:${line}: ${m[1]} has ${flag}`);
      }
    }
  }
  const table = readme.slice(readme.indexOf('| option | meaning |'));
  const listed = new Set((table.slice(0, table.indexOf('\n\n')).match(/`(--?[a-z][\w-]*)/g) ?? []).map((s) => s.slice(1)));
  const pack = options('pack');
  for (const flag of listed) assert.ok(pack.has(flag), `README's pack table lists ${flag}, which pack has`);
  // pack's options the table leaves to docs/formats/*.md and to `--help`
  const elsewhere = ['-o', '--output', '--format', '--fat-type', '--label', '--size', '--inodes', '--reserved-percent', '--uuid', '--hash-seed', '--mount-options', '--skip-unsupported', '-v', '--verbose', '--no-progress', '--color'];
  for (const flag of pack) assert.ok(listed.has(flag!) || elsewhere.includes(flag!), `pack ${flag} is in README's table (or documented elsewhere)`);
});
