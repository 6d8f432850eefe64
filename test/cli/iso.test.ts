// `reprimage pack … -o OUT.iso` with the boot options and `reprimage ls OUT.iso` end to end:
// the listing shows the El Torito entries and the MBR/GPT partitions; the bytes do not depend
// on TZ, LANG, umask or the order the source directory was created in; damaged images are one
// line on stderr and exit 2, quickly. Boot files are stand-ins: only their placement is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, sha256 } from '../helpers/cli.js';
import { hasTool, run, tempDir } from '../helpers/tools.js';

const EPOCH = '1700000000';

/** A source tree with stand-in boot files, created in the given file order. */
function bootSource(dir: string, order: 'forward' | 'reverse'): string {
  const src = join(dir, `src-${order}`);
  const files: Array<[string, Uint8Array]> = [
    ['isolinux/isolinux.bin', new Uint8Array(6000).map((_, i) => (i * 13) & 0xff)],
    ['isolinux/isolinux.cfg', Buffer.from('default linux\n')],
    ['boot/efi.img', new Uint8Array(64 * 1024).fill(0xe5)],
    ['boot/vmlinuz', new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff)],
    ['etc/hostname', Buffer.from('box\n')],
    ['etc/a/b/c/d/e/f/g/h/i/deep.txt', Buffer.from('deep\n')],
  ];
  if (order === 'reverse') files.reverse();
  for (const [path, bytes] of files) {
    mkdirSync(join(src, path, '..'), { recursive: true });
    writeFileSync(join(src, path), bytes);
    utimesSync(join(src, path), 1600000000, 1600000000);
  }
  // Extended attributes (AAIP entries in the ISO), set in a different order each time.
  if (hasTool('setfattr')) {
    const attrs: Array<[string, string]> = [['user.b', 'second'], ['user.a', 'first'], ['user.long', 'x'.repeat(400)]];
    if (order === 'reverse') attrs.reverse();
    for (const [name, value] of attrs) run('setfattr', ['-n', name, '-v', value, join(src, 'etc/hostname')]);
    utimesSync(join(src, 'etc/hostname'), 1600000000, 1600000000);
  }
  return src;
}

function mbrTemplate(dir: string): string {
  const path = join(dir, 'isohdpfx.bin');
  writeFileSync(path, new Uint8Array(432).map((_, i) => (i * 3 + 1) & 0xff));
  return path;
}

const BOOT_ARGS = ['--volid', 'LIVE', '--bios-boot', 'isolinux/isolinux.bin', '--efi-boot', 'boot/efi.img'];

test('ls shows the El Torito boot entries and the MBR/GPT partitions of a hybrid ISO', (t) => {
  const dir = tempDir(t);
  const src = bootSource(dir, 'forward');
  const iso = join(dir, 'live.iso');
  const packed = runCli(['pack', src, '-o', iso, ...BOOT_ARGS, '--hybrid-mbr', mbrTemplate(dir), '--mbr-id', '0x5EED1234', '--gpt'], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  assert.equal(packed.status, 0, packed.stderr);

  const ls = runCli(['ls', iso]);
  assert.equal(ls.status, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  assert.ok(lines.some((l) => l.endsWith(' ./boot/vmlinuz')), 'files are still listed');
  const boot = lines.filter((l) => l.startsWith('#'));
  assert.match(boot[0]!, /^# El Torito boot catalog at sector \d+$/);
  assert.match(boot[1]!, /^# boot 1: bios bootable emulation none, load 12 x 512 bytes, sector \d+ \/isolinux\/isolinux\.bin$/);
  assert.match(boot[2]!, /^# boot 2: efi bootable emulation none, load 128 x 512 bytes, sector \d+ \/boot\/efi\.img$/);
  assert.equal(boot[3], '# MBR disk signature 0x5eed1234');
  assert.match(boot[4]!, /^# MBR partition 1: type 0x00 active, start 0, \d+ sectors$/);
  assert.match(boot[5]!, /^# MBR partition 2: type 0xef, start \d+, 128 sectors$/);
  assert.match(boot[6]!, /^# GPT disk GUID [0-9A-F-]{36}$/i);
  assert.ok(boot.some((l) => /^# GPT partition \d: \d+-\d+, type C12A7328-F81F-11D2-BA4B-00A0C93EC93B, GUID .*, name "ISOHybrid\d*"$/i.test(l)), boot.join('\n'));

  const json = JSON.parse(runCli(['ls', '--json', iso]).stdout) as { boot: { bootCatalog: { entries: Array<{ platform: string; path?: string }> }; mbr: { diskSignature: string }; gpt: { partitions: unknown[] } } };
  assert.deepEqual(json.boot.bootCatalog.entries.map((e) => [e.platform, e.path]), [['bios', '/isolinux/isolinux.bin'], ['efi', '/boot/efi.img']]);
  assert.equal(json.boot.mbr.diskSignature, '0x5eed1234');
  assert.ok(json.boot.gpt.partitions.length >= 2);

  // A plain ISO has no boot lines at all.
  const plain = join(dir, 'plain.iso');
  assert.equal(runCli(['pack', src, '-o', plain], { env: { SOURCE_DATE_EPOCH: EPOCH } }).status, 0);
  assert.ok(!runCli(['ls', plain]).stdout.includes('#'));
});

test('hybrid ISO bytes are the same under other TZ, LANG, umask and directory creation order', (t) => {
  const dir = tempDir(t);
  const mbr = mbrTemplate(dir);
  const hashes = new Set<string>();
  const runs = [
    { order: 'forward', TZ: 'UTC', LANG: 'C', umask: 0o022 },
    { order: 'reverse', TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', umask: 0o077 },
    { order: 'reverse', TZ: 'America/St_Johns', LANG: 'de_DE.UTF-8', umask: 0o002 },
  ] as const;
  for (const [i, r] of runs.entries()) {
    const src = i === 0 || r.order === 'forward' ? bootSource(dir, 'forward') : bootSource(join(dir, String(i)), 'reverse');
    const iso = join(dir, `${i}.iso`);
    const packed = runCli(['pack', src, '-o', iso, ...BOOT_ARGS, '--hybrid-mbr', mbr, '--gpt', '--seed', 'determinism'], {
      env: { SOURCE_DATE_EPOCH: EPOCH, TZ: r.TZ, LANG: r.LANG, LC_ALL: undefined },
      umask: r.umask,
    });
    assert.equal(packed.status, 0, packed.stderr);
    hashes.add(sha256(iso));
  }
  assert.equal(hashes.size, 1, [...hashes].join(' '));
  if (hasTool('setfattr')) {
    const json = JSON.parse(runCli(['ls', '--json', join(dir, '0.iso')]).stdout) as { entries: Array<{ path: string; xattrs?: Record<string, string> }> };
    const hostname = json.entries.find((e) => e.path === 'etc/hostname');
    assert.ok(hostname?.xattrs && Object.keys(hostname.xattrs).length === 3, `xattrs carried into the ISO: ${JSON.stringify(hostname)}`);
  }
});

/** Offset of the directory record whose identifier is `id` (not a path table entry). */
function findRecord(bytes: Buffer, id: string): number {
  for (let at = bytes.indexOf(id, 0, 'latin1'); at >= 0; at = bytes.indexOf(id, at + 1, 'latin1')) {
    if (at > 33 && bytes[at - 1] === id.length && bytes[at - 33]! >= 34 + id.length) return at - 33;
  }
  throw new Error(`no record ${id}`);
}

function putBoth32(bytes: Buffer, at: number, value: number): void {
  bytes.writeUInt32LE(value, at);
  bytes.writeUInt32BE(value, at + 4);
}

test('damaged ISOs: one line on stderr naming the file, exit 2, no hang', (t) => {
  const dir = tempDir(t);
  const src = bootSource(dir, 'forward');
  const iso = join(dir, 'good.iso');
  assert.equal(runCli(['pack', src, '-o', iso, ...BOOT_ARGS], { env: { SOURCE_DATE_EPOCH: EPOCH } }).status, 0);
  const good = readFileSync(iso);
  const catalog = (JSON.parse(runCli(['ls', '--json', iso]).stdout) as { boot: { bootCatalog: { sector: number } } }).boot.bootCatalog.sector;
  const root = good.readUInt32LE(16 * 2048 + 156 + 2);

  const cases: Array<[string, (b: Buffer) => Buffer, RegExp]> = [
    ['truncated', (b) => b.subarray(0, 17 * 2048), /truncat|too short|past the end|out of/i],
    ['loop', (b) => (putBoth32(b, findRecord(b, 'ISOLINUX') + 2, root), b), /loop|twice|contains itself/i],
    ['past-end', (b) => (putBoth32(b, findRecord(b, 'HOSTNAME.;1') + 2, 0x7fffff), b), /past the end|out of bounds|beyond/i],
    ['catalog', (b) => ((b[catalog * 2048 + 28] = b[catalog * 2048 + 28]! ^ 0xff), b), /catalog|checksum/i],
    ['catalog-validation', (b) => ((b[catalog * 2048] = 0x33), b), /catalog|validation/i],
  ];
  for (const [name, damage, message] of cases) {
    const bad = join(dir, `${name}.iso`);
    writeFileSync(bad, damage(Buffer.from(good)));
    // a hang guard only, far above any normal run (tests never assert speed): a reader that
    // loops forever on the damage is killed and fails here instead of stalling the suite
    const r = runCli(['ls', bad], { hangGuardMs: 120_000 });
    assert.notEqual(r.signal, 'SIGKILL', `${name}: still running after 120 s, a hang`);
    assert.equal(r.status, 2, `${name}: exit ${r.status}\n${r.stderr}`);
    const errLines = r.stderr.trim().split('\n');
    assert.equal(errLines.length, 1, `${name}: ${r.stderr}`);
    assert.ok(errLines[0]!.includes(bad), `${name}: names the file: ${r.stderr}`);
    assert.match(errLines[0]!, message, name);
  }
});
