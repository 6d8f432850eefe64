// (In the oracle tier, which runs once: each case runs the CLI a dozen times.)
// `reprimage disk -o NAME.{qcow2,vhd,vmdk,ova,tar.gz}` end to end: the same trees under another
// TZ and umask give the same bytes in every format (and the raw image stays what `disk` wrote
// before these formats existed: the .img is the raw bytes); `ls` and `diff` read the images as
// disks, so `diff a.qcow2 b.vhd` names the one file that differs; damaged images, an unknown
// --format, --compress for a format without it and a fixed VHD that is not a whole number of MiB
// are one line on stderr naming the file or option, exit 2, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO, runCli, sha256 } from '../helpers/cli.js';
import { convertDisk } from '../../src/image/convert-disk.js';
import { tempDir } from '../helpers/tools.js';

const EPOCH = '1700000000';

function makeRoot(dir: string, name: string, hostname = 'box\n'): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'etc'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'etc', `file-${i}`), `content ${i}\n`);
  writeFileSync(join(root, 'etc/hostname'), hostname);
  return root;
}

function disk(out: string, root: string, extra: string[] = [], env: Record<string, string> = {}, umask = 0o022) {
  return runCli(['disk', '-o', out, '--source-date-epoch', EPOCH, '--size', '8M', '-p', `root-x86-64:ext4=${root}`, ...extra], { env, umask });
}

/** Runs convertDisk for every format in a child process with the given TZ and umask; returns each output's SHA-256. */
function convertAll(raw: string, outDir: string, env: Record<string, string>, umask: number): Record<string, string> {
  mkdirSync(outDir);
  const script = `
    const { convertDisk } = await import(${JSON.stringify(join(REPO, 'dist/src/image/convert-disk.js'))});
    for (const [f, name, compress] of [['raw', 'd.img'], ['qcow2', 'd.qcow2'], ['qcow2', 'c.qcow2', true], ['vhd', 'd.vhd'], ['vhd-dynamic', 'dyn.vhd'], ['vmdk', 'd.vmdk'], ['ova', 'd.ova'], ['gce', 'd.tar.gz']])
      await convertDisk(process.argv[2], f, { output: process.argv[3] + '/' + name, seed: 'cli', buildTime: ${EPOCH}, compress });`;
  // a script file, not --input-type=module -e: worker threads inherit the flags and refuse that one
  const file = `${outDir}.mjs`;
  writeFileSync(file, script);
  const r = spawnSync('sh', ['-c', `umask ${umask.toString(8)}; exec "$0" "$@"`, process.execPath, file, raw, outDir], { env: { ...process.env, ...env } });
  assert.equal(r.status, 0, String(r.stderr));
  return Object.fromEntries(readdirSync(outDir).map((n) => [n, sha256(join(outDir, n))]));
}

test('every format is the same bytes under another TZ and umask; .img is the raw disk', (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir, 'root');
  const raw = join(dir, 'a.img');
  assert.equal(disk(raw, root).status, 0);
  const plain = join(dir, 'plain');
  assert.equal(disk(plain, root).status, 0); // no known suffix: raw, as before
  assert.equal(sha256(plain), sha256(raw));
  // the CLI path: disk -o NAME.qcow2 is the conversion of the raw disk
  const q = join(dir, 'q.qcow2');
  assert.equal(disk(q, root, [], { TZ: 'Pacific/Kiritimati' }, 0o077).status, 0);
  const a = convertAll(raw, join(dir, 'a'), { TZ: 'UTC' }, 0o022);
  const b = convertAll(raw, join(dir, 'b'), { TZ: 'Pacific/Kiritimati' }, 0o077);
  assert.equal(Object.keys(a).length, 8);
  assert.deepEqual(b, a);
  assert.equal(a['d.img'], sha256(raw));
  assert.equal(sha256(q), a['d.qcow2']);
  // no scratch files left beside the outputs
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
  // the images list as the disk they hold
  for (const image of [join(dir, 'a/c.qcow2'), join(dir, 'a/dyn.vhd')]) {
    const ls = runCli(['ls', image]);
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /\.\/p1-root-x86-64\/etc\/hostname\n/, image);
  }
});

test('diff a.qcow2 b.vhd names the file that differs inside the root partition', (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a.qcow2');
  const b = join(dir, 'b.vhd');
  assert.equal(disk(a, makeRoot(dir, 'ra')).status, 0);
  assert.equal(disk(b, makeRoot(dir, 'rb', 'other\n')).status, 0);
  const r = runCli(['diff', a, b]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /p1-root-x86-64.*etc\/hostname/s);
  assert.match(r.stdout, /-format: qcow2 version 3\n.*\+format: vhd fixed/s);
  assert.doesNotMatch(r.stdout, /file-1[0-9]/);
});

test('damaged images and bad options: one line naming the file or option, exit 2, nothing written', async (t) => {
  const dir = tempDir(t);
  const root = makeRoot(dir, 'root');
  const raw = join(dir, 'raw.img');
  assert.equal(disk(raw, root).status, 0);
  const good = join(dir, 'good.qcow2');
  const vhd = join(dir, 'good.vhd');
  const vmdk = join(dir, 'good.vmdk');
  for (const [f, out] of [['qcow2', good], ['vhd', vhd], ['vmdk', vmdk]] as const) await convertDisk(raw, f, { output: out, seed: 's', buildTime: Number(EPOCH) });
  const bytes = readFileSync(good);
  const damaged: Array<[string, Buffer, RegExp]> = [];
  let b = Buffer.from(bytes);
  b.writeBigUInt64BE(1n << 40n, 40); // L1 table offset
  damaged.push(['bad.qcow2', b, /bad\.qcow2: qcow2 L1 table at byte \d+ lies outside the file/]);
  b = Buffer.from(readFileSync(vhd));
  b[b.length - 512 + 40] = b[b.length - 512 + 40]! ^ 1;
  damaged.push(['bad.vhd', b, /bad\.vhd: corrupt VHD footer at byte \d+: checksum/]);
  const v = readFileSync(vmdk);
  damaged.push(['bad.vmdk', v.subarray(0, v.length - 1024), /bad\.vmdk: corrupt VMDK stream at byte \d+: no footer marker/]);
  for (const [i, [name, data, pattern]] of damaged.entries()) {
    const path = join(dir, name);
    writeFileSync(path, data);
    // ls and diff for each (the damaged one first or second); pack once (every command opens images the same way)
    const commands = [['ls', path], i % 2 === 0 ? ['diff', path, good] : ['diff', good, path]];
    if (i === 1) commands.push(['pack', path, '-o', join(dir, 'out.tar')]);
    for (const args of commands) {
      const r = runCli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
    assert.equal(existsSync(join(dir, 'out.tar')), false);
  }
  const bad: Array<[string[], RegExp]> = [
    [['--format', 'vdi'], /--format: unknown disk format 'vdi'/],
    [['--compress', '--format', 'vmdk'], /--compress: only qcow2 clusters are compressed/],
    [['--size', '8388096', '--format', 'vhd'], /x\.img: a fixed VHD \(as Azure takes it\) holds a whole number of MiB/],
  ];
  for (const [extra, pattern] of bad) {
    const r = disk(join(dir, 'x.img'), root, extra);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(existsSync(join(dir, 'x.img')), false);
  }
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
});

test('a recipe whose disk output names an unknown format, or two outputs at one path: one line with file, line and key, exit 2, nothing written', (t) => {
  const dir = tempDir(t);
  const example = join(REPO, 'examples/cloud-minimal');
  const text = readFileSync(join(example, 'recipe.yaml'), 'utf8');
  const cases: Array<[string, string, RegExp]> = [
    ['vdi.yaml', text.replace('format: vmdk ', 'format: vdi  '), /^reprimage: \S+vdi\.yaml:\d+: outputs\[4\]\.format: expected one of "raw", "qcow2", "vhd", "vhd-dynamic", "vmdk", "ova", "gce"\n$/],
    ['twice.yaml', text.replace('    path: disk-dynamic.vhd\n', ''), /^reprimage: \S+twice\.yaml:\d+: outputs\[3\]\.path: another output is already written to disk\.vhd: give this one its own path\n$/],
  ];
  for (const [name, recipe, pattern] of cases) {
    assert.notEqual(recipe, text, `${name}: the example changed; update this test`);
    writeFileSync(join(dir, name), recipe);
    const out = join(dir, `out-${name}`);
    const r = runCli(['build', join(dir, name), '-o', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(existsSync(out), false);
  }
});
