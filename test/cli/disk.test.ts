// The `disk` command and disk images in `ls`/`diff`/`pack` end to end: bad disk images (truncated,
// bad header CRC, entry array past the end, overlapping partitions, absurd entry counts, each in both GPT copies) and bad
// --partition specs are one line on stderr naming the file or option, exit 2, and no output left
// behind; `diff` of two disks names the changed file inside a partition; a shuffled directory
// listing (disorderfs) gives the same disk bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { crc32 } from '../../src/compress/crc32.js';
import { runCli, sha256 } from '../helpers/cli.js';
import { hasTool, tempDir } from '../helpers/tools.js';

const EPOCH = '1700000000';

function makeSources(dir: string): { esp: string; root: string } {
  const esp = join(dir, 'esp');
  const root = join(dir, 'root');
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(esp, 'EFI/BOOT/BOOTX64.EFI'), 'loader');
  for (let i = 0; i < 40; i++) writeFileSync(join(root, 'etc', `file-${i}`), `content ${i}\n`);
  writeFileSync(join(root, 'etc/hostname'), 'box\n');
  return { esp, root };
}

function makeDisk(out: string, esp: string, root: string): void {
  const r = runCli(['disk', '-o', out, '--source-date-epoch', EPOCH, '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${root}`, '-p', 'swap:size=1M']);
  assert.equal(r.status, 0, r.stderr);
}

/**
 * Sets a 32-bit field of both GPT headers (primary at sector 1, backup in the last sector) and
 * fixes their CRCs, as a hostile tool would: damaging one copy only is repaired from the other.
 */
function patchHeaders(bytes: Buffer, field: number, value: number | ((header: number) => number), fixCrc = true): Buffer {
  const copy = Buffer.from(bytes);
  for (const header of [512, bytes.length - 512]) {
    copy.writeUInt32LE(typeof value === 'number' ? value : value(header), header + field);
    if (fixCrc) {
      copy.writeUInt32LE(0, header + 16);
      copy.writeUInt32LE(crc32(copy.subarray(header, header + 92)), header + 16);
    }
  }
  return copy;
}

test('bad disk images: one line naming the file, exit 2', (t) => {
  const dir = tempDir(t);
  const { esp, root } = makeSources(dir);
  const good = join(dir, 'good.img');
  makeDisk(good, esp, root);
  const bytes = readFileSync(good);
  const entriesCrcOf = (b: Buffer) => b.readUInt32LE(512 + 88);
  // overlapping partitions with consistent CRCs: entry 2 starts inside entry 1 (both copies)
  const overlap = Buffer.from(bytes);
  const backupEntries = (bytes.length >> 9) - 33;
  for (const lba of [2, backupEntries]) overlap.writeBigUInt64LE(2048n + 100n, lba * 512 + 128 + 32);
  const sum = crc32(overlap.subarray(1024, 1024 + 128 * 128));
  for (const hdr of [512, bytes.length - 512]) {
    overlap.writeUInt32LE(sum, hdr + 88);
    overlap.writeUInt32LE(0, hdr + 16);
    overlap.writeUInt32LE(crc32(overlap.subarray(hdr, hdr + 92)), hdr + 16);
  }
  assert.notEqual(entriesCrcOf(overlap), entriesCrcOf(bytes));
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', bytes.subarray(0, bytes.length >> 1), /truncated disk image: GPT partition \d \(sectors \d+\.\.\d+\) reaches past the end of the image/],
    ['bad-header-crc', patchHeaders(bytes, 56, 0x12345678, false), /both copies of the GPT are damaged: .*header CRC/],
    ['entries-past-end', patchHeaders(bytes, 72, (bytes.length >> 9) + 4), /both copies of the GPT are damaged: .*entry array at sector \d+ \(16384 bytes\) lies outside the image/],
    ['absurd-count', patchHeaders(bytes, 80, 100_000_000), /both copies of the GPT are damaged: .*declares 100000000 entries of 128 bytes/],
    ['overlap', overlap, /partitions 1 \(sectors 2048\.\.\d+\) and 2 \(sectors 2148\.\.\d+\) overlap/],
  ];
  for (const [name, data, pattern] of cases) {
    const path = join(dir, `${name}.img`);
    writeFileSync(path, data);
    for (const args of [['ls', path], ['pack', path, '-o', join(dir, `${name}.tar`)], ['diff', good, path]]) {
      const r = runCli(args, { env: { SOURCE_DATE_EPOCH: EPOCH } });
      if (args[0] === 'diff') {
        // diff reports an unreadable side as a difference (exit 1) with the reason, never a crash
        assert.equal(r.status, 1, `${name} diff: ${r.stderr}`);
        assert.match(r.stdout + r.stderr, pattern, `${name} diff`);
        continue;
      }
      assert.equal(r.status, 2, `${name} ${args[0]}: ${r.stderr}`);
      // one error line (a warning about the missing backup may come first)
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('reprimage: warning: '));
      assert.equal(lines.length, 1, `${name} ${args[0]}: ${r.stderr}`);
      assert.ok(lines[0]!.startsWith(`reprimage: ${path}`), lines[0]);
      assert.match(lines[0]!, pattern);
    }
    assert.equal(existsSync(join(dir, `${name}.tar`)), false);
  }
  // one damaged copy is a warning: the other copy is read, as sgdisk and the kernel do
  const primaryOnly = Buffer.from(bytes);
  primaryOnly.fill(0, 512, 1024);
  writeFileSync(join(dir, 'primary-zeroed.img'), primaryOnly);
  const listed = runCli(['ls', join(dir, 'primary-zeroed.img')]);
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stderr, /^reprimage: warning: .*primary-zeroed\.img: the primary GPT is damaged .*; using the backup GPT at sector \d+\n$/);
  assert.equal(listed.stdout, runCli(['ls', good]).stdout);
  // diff reads it the same way, and names the damage as the difference
  const diffed = runCli(['diff', good, join(dir, 'primary-zeroed.img')]);
  assert.equal(diffed.status, 1, diffed.stderr);
  assert.match(diffed.stdout, /^│ \+problem: the primary GPT is damaged .*; using the backup GPT at sector \d+$/m);
});

test('bad --partition specs and options: one line naming what is wrong, exit 2, no output', (t) => {
  const dir = tempDir(t);
  const { esp, root } = makeSources(dir);
  const out = join(dir, 'out.img');
  const big = join(dir, 'big.bin');
  writeFileSync(big, Buffer.alloc(5000, 1));
  const bigDir = join(dir, 'big-esp');
  mkdirSync(bigDir);
  writeFileSync(join(bigDir, 'big.bin'), Buffer.alloc(200_000, 1));
  const cases: Array<[string[], RegExp]> = [
    [['-p', `rooot=${root}`], /--partition|partition 1 type: unknown partition type "rooot"/],
    [['-p', `esp:zip=${esp}`], /--partition esp:zip=.*: unknown field "zip"/],
    [['-p', 'swap'], /partition 1: an empty partition needs a size/],
    [['-p', `linux-generic:size=1K=${big}`], /big\.bin: 5000 bytes do not fit the partition size of 1024 bytes/],
    [['-p', `esp:size=64K=${bigDir}`], /out\.img partition 1: fat: the tree needs 98 clusters of 2048 bytes, but a 65536-byte FAT12 volume has 23/],
    [['-p', `esp:size=12x=${esp}`], /expected a size such as 4096, 64M or 2G, got '12x'/],
    [['-p', `esp:attrs=sticky=${esp}`], /unknown attribute "sticky"/],
    [['-p', `esp:name=${'n'.repeat(40)}=${esp}`], /longer than 36 UTF-16 units/],
    [['-p', `esp=${join(dir, 'missing')}`], /missing: no such file or directory/],
    [['--table', 'apm', '-p', `esp=${esp}`], /--table: expected gpt or mbr/],
    [['--table', 'mbr', '-p', `esp:name=x=${esp}`], /names, UUIDs and attributes need a GPT/],
    [['--table', 'mbr', ...Array.from({ length: 5 }, () => ['-p', 'swap:size=1M']).flat()], /at most 4 primary partitions/],
    [['--size', '1M', '-p', `esp=${esp}`], /--size: the disk needs at least \d+ bytes/],
    [['--disk-guid', 'nope', '-p', `esp=${esp}`], /--disk-guid: "nope" is not a GUID/],
    [['-p', `esp:uuid=x=${esp}`], /partition 1 uuid: "x" is not a GUID/],
  ];
  for (const [args, pattern] of cases) {
    const r = runCli(['disk', '-o', out, '--source-date-epoch', EPOCH, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^reprimage: /);
    assert.match(lines[0]!, pattern);
    assert.equal(existsSync(out), false, `${args.join(' ')} left an output`);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  }
});

test('diff names the changed file inside a partition and the changed partition table', (t) => {
  const dir = tempDir(t);
  const { esp, root } = makeSources(dir);
  const a = join(dir, 'a.img');
  makeDisk(a, esp, root);
  writeFileSync(join(root, 'etc/hostname'), 'other\n');
  const b = join(dir, 'b.img');
  makeDisk(b, esp, root);
  const r = runCli(['diff', a, b]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /p2-root-x86-64 ▸ etc\/hostname/);
  assert.match(r.stdout, /-box\n.*\+other/s);
  assert.doesNotMatch(r.stdout, /p1-esp|p3-swap/);
  const c = join(dir, 'c.img');
  const seeded = runCli(['disk', '-o', c, '--seed', 'other', '--source-date-epoch', EPOCH, '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${root}`, '-p', 'swap:size=1M']);
  assert.equal(seeded.status, 0, seeded.stderr);
  const d = runCli(['diff', b, c]);
  assert.equal(d.status, 1);
  assert.match(d.stdout, /partition table/);
  assert.match(d.stdout, /-disk-guid: [0-9a-f-]{36}\n.*\+disk-guid: /s);
  assert.equal(runCli(['diff', a, a]).status, 0);
});

test('a shuffled directory listing (disorderfs) gives the same disk bytes', (t) => {
  if (!hasTool('disorderfs') || !existsSync('/dev/fuse')) {
    if (process.env.CI === 'true') throw new Error('disorderfs and /dev/fuse are needed in CI');
    t.skip('needs disorderfs and /dev/fuse');
    return;
  }
  const dir = tempDir(t);
  const { esp, root } = makeSources(dir);
  const a = join(dir, 'a.img');
  makeDisk(a, esp, root);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const mount = spawnSync('disorderfs', ['--shuffle-dirents=yes', '--reverse-dirents=no', dir, mnt], { encoding: 'utf8' });
  if (mount.status !== 0) {
    if (process.env.CI === 'true') throw new Error(`disorderfs failed: ${mount.stderr}`);
    t.skip(`disorderfs cannot mount here: ${mount.stderr.trim()}`);
    return;
  }
  try {
    const b = join(dir, 'b.img');
    makeDisk(b, join(mnt, 'esp'), join(mnt, 'root'));
    assert.equal(sha256(b), sha256(a));
  } finally {
    spawnSync('fusermount', ['-u', mnt]);
  }
});
