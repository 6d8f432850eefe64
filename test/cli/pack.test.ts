// The `pack` and `ls` commands end to end: determinism across build conditions, the bundled
// example's published hashes, and bad input turned into one line on stderr with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync, utimesSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, sha256, REPO } from '../helpers/cli.js';
import { requireTool, tempDir } from '../helpers/tools.js';

const EPOCH = '1700000000';
const FORMATS = ['tar', 'tar.gz', 'cpio', 'cpio.gz', 'sqfs', 'iso'];

interface Item {
  path: string;
  dir?: boolean;
  text?: string;
  mode: number;
  symlink?: string;
  hardlinkOf?: string;
}

const ITEMS: Item[] = [
  { path: 'etc', dir: true, mode: 0o755 },
  { path: 'etc/hostname', text: 'box\n', mode: 0o644 },
  { path: 'etc/shadow', text: 'root:*:19000:0:99999:7:::\n', mode: 0o640 },
  { path: 'a', dir: true, mode: 0o700 },
  { path: 'a/x', text: 'x', mode: 0o600 },
  { path: 'a.b', text: 'sorts before a/x by whole path, after a by component', mode: 0o644 },
  { path: 'bin', dir: true, mode: 0o755 },
  { path: 'bin/tool', text: '#!/bin/sh\necho tool\n'.repeat(100), mode: 0o755 },
  { path: 'bin/tool-again', hardlinkOf: 'bin/tool', mode: 0o755 },
  { path: 'bin/sh', symlink: 'tool', mode: 0o777 },
  { path: 'usr', dir: true, mode: 0o755 },
  { path: 'usr/share', dir: true, mode: 0o755 },
  { path: 'usr/share/' + 'long-name-'.repeat(12), text: 'a name longer than 100 bytes', mode: 0o644 },
  { path: 'usr/share/empty', text: '', mode: 0o644 },
  { path: 'usr/share/caf\u00e9', text: 'utf-8 name', mode: 0o644 },
];

/** Makes the sample tree; `reverse` creates entries in the opposite order (other listing order). */
function makeTree(root: string, reverse: boolean, mtime: number): void {
  mkdirSync(root, { recursive: true });
  const dirs = ITEMS.filter((i) => i.dir);
  for (const d of dirs) mkdirSync(join(root, d.path), { recursive: true });
  const rest = ITEMS.filter((i) => !i.dir && !i.hardlinkOf);
  for (const item of reverse ? [...rest].reverse() : rest) {
    const p = join(root, item.path);
    if (item.symlink) symlinkSync(item.symlink, p);
    else {
      writeFileSync(p, item.text ?? '');
      chmodSync(p, item.mode);
    }
  }
  for (const item of ITEMS.filter((i) => i.hardlinkOf)) linkSync(join(root, item.hardlinkOf!), join(root, item.path));
  for (const item of [...ITEMS].reverse()) {
    const p = join(root, item.path);
    if (item.dir) chmodSync(p, item.mode);
    if (!item.symlink) utimesSync(p, mtime, mtime);
  }
  utimesSync(root, mtime, mtime);
}

test('pack gives identical bytes under different TZ, LANG, umask, listing order, path and workers', (t) => {
  const dir = tempDir(t);
  const now = Math.floor(Date.now() / 1000);
  makeTree(join(dir, 'one/src'), false, now);
  makeTree(join(dir, 'two/elsewhere/src'), true, now - 1000);
  const conditions = [
    { src: join(dir, 'one/src'), out: join(dir, 'out1'), env: { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' }, umask: 0o022, workers: '1' },
    { src: join(dir, 'two/elsewhere/src'), out: join(dir, 'out2'), env: { TZ: 'Pacific/Kiritimati', LANG: 'fr_FR.UTF-8', LC_ALL: 'tr_TR.UTF-8' }, umask: 0o077, workers: '8' },
  ];
  const hashes: string[][] = [];
  for (const c of conditions) {
    mkdirSync(c.out);
    const row: string[] = [];
    for (const format of FORMATS) {
      const out = join(c.out, `image.${format}`);
      const r = runCli(['pack', c.src, '-o', out, '--source-date-epoch', EPOCH, '--owner', 'root', '--workers', c.workers], { env: c.env, umask: c.umask });
      assert.equal(r.status, 0, r.stderr);
      row.push(sha256(out));
    }
    hashes.push(row);
  }
  assert.deepEqual(hashes[1], hashes[0]);
});

test('SOURCE_DATE_EPOCH from the environment equals the option; unset, the fallback is announced', (t) => {
  const dir = tempDir(t);
  makeTree(join(dir, 'src'), false, 1_600_000_000);
  const a = runCli(['pack', join(dir, 'src'), '-o', join(dir, 'a.tar'), '--source-date-epoch', '1650000000']);
  const b = runCli(['pack', join(dir, 'src'), '-o', join(dir, 'b.tar')], { env: { SOURCE_DATE_EPOCH: '1650000000' } });
  const c = runCli(['pack', join(dir, 'src'), '-o', join(dir, 'c.tar')], { env: { SOURCE_DATE_EPOCH: undefined } });
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(sha256(join(dir, 'b.tar')), sha256(join(dir, 'a.tar')));
  assert.equal(a.stderr, '');
  assert.match(c.stderr, /SOURCE_DATE_EPOCH is not set/);
});

test('the quick example (examples/pack-hello.sh) gives the SHA-256 sums README.md publishes, in any time zone', (t) => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const published = [...readme.matchAll(/^([0-9a-f]{64}) {2}(hello\.[a-z.]+)$/gm)].map((m) => [m[2]!, m[1]!] as const);
  assert.equal(published.length, 4, 'README.md lists the four example hashes');
  const out = join(tempDir(t), 'example');
  // examples/pack-hello.sh is what `npm run example:pack` runs after building
  const r = spawnSync('bash', ['examples/pack-hello.sh', out], { cwd: REPO, env: { ...process.env, TZ: 'America/St_Johns' } });
  assert.equal(r.status, 0, String(r.stderr));
  for (const [name, hash] of published) assert.equal(sha256(join(out, name)), hash, name);
});

test('ls lists entries like tar -tv, in UTC, and as JSON', (t) => {
  const dir = tempDir(t);
  makeTree(join(dir, 'src'), false, 1_600_000_000);
  const tar = join(dir, 'x.tar');
  assert.equal(runCli(['pack', join(dir, 'src'), '-o', tar, '--source-date-epoch', EPOCH, '--owner', 'root']).status, 0);
  const r = runCli(['ls', tar], { env: { TZ: 'Asia/Kolkata' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'drwxr-xr-x 0/0         0 2020-09-13 12:26 .');
  // the symlink's own mtime was not set by makeTree: it is "now", clamped to the epoch
  assert.ok(lines.includes('lrwxrwxrwx 0/0         0 2023-11-14 22:13 ./bin/sh -> tool'), r.stdout);
  assert.ok(lines.includes('-rwxr-xr-x 0/0      2000 2020-09-13 12:26 ./bin/tool-again link to ./bin/tool'), r.stdout);
  assert.ok(lines.indexOf('drwx------ 0/0         0 2020-09-13 12:26 ./a/') < lines.findIndex((l) => l.endsWith(' ./a.b')));
  const json = JSON.parse(runCli(['ls', '--json', tar]).stdout) as { format: string; entries: unknown[] };
  assert.equal(json.format, 'tar');
  assert.equal(json.entries.length, lines.length);
});

// ---- bad input -------------------------------------------------------------------------------

/** A ustar header built by hand, independent of our writer. */
function ustarHeader(fields: { name: string; size?: number; type?: string; sizeField?: Buffer; mode?: number }): Buffer {
  const h = Buffer.alloc(512);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(`${(fields.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (fields.sizeField) fields.sizeField.copy(h, 124);
  else h.write(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  h.write('14500000000\0', 136);
  h.write(fields.type ?? '0', 156);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function tarOf(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

const BAD_INPUTS: Array<{ name: string; bytes: () => Buffer; expect: RegExp }> = [
  { name: 'truncated.tar', bytes: () => tarOf(ustarHeader({ name: 'f', size: 5000 }), Buffer.alloc(100)).subarray(0, 700), expect: /truncat/i },
  {
    name: 'bad-checksum.tar',
    bytes: () => {
      const h = ustarHeader({ name: 'file', size: 0 });
      h[0] = 0x67; // 'g': the stored checksum no longer matches
      return tarOf(h);
    },
    expect: /checksum/i,
  },
  { name: 'huge-size.tar', bytes: () => tarOf(ustarHeader({ name: 'f', size: 0o77777777777 })), expect: /truncat|size|end/i },
  {
    name: 'negative-size.tar',
    bytes: () => tarOf(ustarHeader({ name: 'f', sizeField: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0]) })),
    expect: /negative|size/i,
  },
  { name: 'dotdot.tar', bytes: () => tarOf(ustarHeader({ name: '../evil', size: 0 })), expect: /\.\./ },
  // absolute names and unknown types are refused by default (an image builder must not guess);
  // the library's `lenient` option reads them as GNU tar does
  { name: 'absolute-dotdot.tar', bytes: () => tarOf(ustarHeader({ name: '/../etc/evil', size: 0 })), expect: /\.\./ },
  { name: 'absolute.tar', bytes: () => tarOf(ustarHeader({ name: '/etc/evil', size: 0 })), expect: /absolute/i },
  { name: 'unknown-type.tar', bytes: () => tarOf(ustarHeader({ name: 'odd', size: 0, type: 'Z' })), expect: /type/i },
  { name: 'multivolume.tar', bytes: () => tarOf(ustarHeader({ name: 'odd', size: 0, type: 'M' })), expect: /volume/i },
  { name: 'garbage.bin', bytes: () => Buffer.from('this is not an archive of any kind\n'.repeat(40)), expect: /not a format/i },
  { name: 'truncated.cpio', bytes: () => Buffer.from('070701000000010000'), expect: /truncat/i },
  {
    name: 'bad-deflate.tar.gz',
    bytes: () => Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34]),
    expect: /gzip|corrupt|truncat/i,
  },
];

for (const bad of BAD_INPUTS) {
  test(`bad input ${bad.name}: one line naming the file, exit 2, no output left behind`, (t) => {
    const dir = tempDir(t);
    const input = join(dir, bad.name);
    writeFileSync(input, bad.bytes());
    const outDir = join(dir, 'out');
    mkdirSync(outDir);
    for (const args of [['pack', input, '-o', join(outDir, 'x.cpio'), '--source-date-epoch', EPOCH], ['ls', input]]) {
      const r = runCli(args);
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.includes(bad.name), r.stderr);
      assert.match(lines[0]!, bad.expect);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.deepEqual(readdirSync(outDir), []);
  });
}

test('a symlink loop as the source is one line and exit 2', (t) => {
  const dir = tempDir(t);
  symlinkSync('loop', join(dir, 'loop'));
  const r = runCli(['pack', join(dir, 'loop'), '-o', join(dir, 'x.tar')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^reprimage: .*loop: too many levels of symbolic links\n$/);
  assert.equal(existsSync(join(dir, 'x.tar')), false);
});

test('a failure while writing leaves neither the output nor a temporary file', (t) => {
  const dir = tempDir(t);
  makeTree(join(dir, 'src'), false, 1_600_000_000);
  // the file list names a host file that vanishes before the write streams it
  writeFileSync(join(dir, 'doomed'), 'soon gone');
  writeFileSync(join(dir, 'list'), 'file /extra doomed-not-there 0644 0 0\n');
  const r = runCli(['pack', join(dir, 'src'), '-o', join(dir, 'out', 'x.tar'), '--file-list', join(dir, 'list'), '--source-date-epoch', EPOCH]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /doomed-not-there/);
});

test('usage errors: unknown option, unknown format, missing argument', (t) => {
  const dir = tempDir(t);
  for (const args of [['pack', '--bogus'], ['pack', 'examples/hello-rootfs', '-o', join(dir, 'x.zip')], ['pack', 'examples/hello-rootfs'], ['frobnicate']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^reprimage/);
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('--version names the codec implementations', () => {
  const r = runCli(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^reprimage \d+\.\d+\.\d+/);
  assert.match(r.stdout, /gzip: pako 2\.1\.0/);
});

test('any input converts to any output: directory → SquashFS → ISO → tar keep the same listing', (t) => {
  const dir = tempDir(t);
  makeTree(join(dir, 'src'), false, 1_600_000_000);
  const steps = [
    ['pack', join(dir, 'src'), '-o', join(dir, 'a.sqfs'), '--comp', 'xz', '--block-size', '64K'],
    ['pack', join(dir, 'a.sqfs'), '-o', join(dir, 'b.iso'), '--volid', 'TEST'],
    ['pack', join(dir, 'b.iso'), '-o', join(dir, 'c.cpio.gz')],
    ['pack', join(dir, 'c.cpio.gz'), '-o', join(dir, 'd.tar')],
  ];
  for (const args of steps) {
    const r = runCli([...args, '--source-date-epoch', EPOCH]);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const listings = ['a.sqfs', 'b.iso', 'c.cpio.gz', 'd.tar'].map((f) => runCli(['ls', join(dir, f)]).stdout);
  assert.ok(listings[0]!.includes('./bin/tool-again link to ./bin/tool'), listings[0]);
  for (const l of listings.slice(1)) assert.equal(l, listings[0]);
});

test('an EFI system partition as FAT: same bytes in any time zone, accepted by fsck.fat, listed back', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'esp/EFI/BOOT'), { recursive: true });
  writeFileSync(join(dir, 'esp/EFI/BOOT/BOOTX64.EFI'), Buffer.alloc(200_000, 0x4d));
  writeFileSync(join(dir, 'esp/EFI/BOOT/grub.cfg'), 'set timeout=0\n');
  const hashes = ['UTC', 'Pacific/Kiritimati'].map((tz, i) => {
    const out = join(dir, `esp${i}.fat`);
    const r = runCli(['pack', join(dir, 'esp'), '-o', out, '--label', 'EFISYS', '--source-date-epoch', EPOCH], { env: { TZ: tz }, umask: i === 0 ? 0o022 : 0o077 });
    assert.equal(r.status, 0, r.stderr);
    return sha256(out);
  });
  assert.equal(hashes[1], hashes[0]);
  const listing = runCli(['ls', join(dir, 'esp0.fat')]).stdout;
  assert.match(listing, /-rw-r--r-- 0\/0 {4}200000 2023-11-14 22:13 \.\/EFI\/BOOT\/BOOTX64\.EFI/);
  if (!requireTool(t, 'fsck.fat')) return;
  const fsck = spawnSync('fsck.fat', ['-n', join(dir, 'esp0.fat')]);
  assert.equal(fsck.status, 0, String(fsck.stdout) + String(fsck.stderr));
});
