// Oracle tests of GPT/MBR disk images: disks written by `reprimage disk` are accepted by
// `sfdisk --dump`, `sgdisk -v` and `fdisk -l`, which show the expected types, names, GUIDs and
// attributes; the file systems inside pass fsck.fat / e2fsck / unsquashfs; our reader reads
// disks made by sfdisk and sgdisk exactly as sfdisk reports them; the same trees under another
// TZ, umask, listing order and as a `cp -a` copy give identical bytes, another seed other GUIDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFileSource } from '../../src/io/source.js';
import { describeAttributes, partitionTypeGuid, readPartitionTable, type PartitionTable } from '../../src/formats/gpt/index.js';
import { openTree } from '../../src/image/open-tree.js';
import { readContent } from '../../src/tree/content.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { runCli, sha256 } from '../helpers/cli.js';
import { makeSampleTree, SAMPLE_MTIME } from '../helpers/disk-tree.js';

const EPOCH = '1700000000';

/** An ESP-like tree (FAT can hold it): files created in forward or reverse order. */
function makeEsp(root: string, reverse = false): void {
  const files: Array<[string, string]> = [
    ['EFI/BOOT/BOOTX64.EFI', 'not really a loader\n'.repeat(300)],
    ['loader/loader.conf', 'timeout 0\n'],
    ['loader/entries/debian.conf', 'title Debian\nlinux /vmlinuz\n'],
    ['vmlinuz', 'kernel'.repeat(5000)],
  ];
  for (const [path, text] of reverse ? [...files].reverse() : files) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  for (const p of run('find', [root]).stdout.toString().trim().split('\n')) utimesSync(p, SAMPLE_MTIME, SAMPLE_MTIME);
}

interface SfdiskDump {
  partitiontable: {
    label: string; id: string; device: string; unit: string; firstlba?: number; lastlba?: number; sectorsize?: number;
    partitions: Array<{ node: string; start: number; size: number; type: string; uuid?: string; name?: string; attrs?: string; bootable?: boolean }>;
  };
}

function sfdiskJson(image: string): SfdiskDump['partitiontable'] {
  return (JSON.parse(run('sfdisk', ['--json', image]).stdout.toString()) as SfdiskDump).partitiontable;
}

/** Makes the standard test disk with the CLI; returns its path. */
function makeDisk(dir: string, out: string, options: { reverse?: boolean; seed?: string; env?: Record<string, string>; umask?: number; sources?: string; workers?: number } = {}): string {
  const src = options.sources ?? join(dir, options.reverse ? 'src-rev' : 'src');
  if (options.sources === undefined) {
    mkdirSync(join(src, 'esp'), { recursive: true });
    mkdirSync(join(src, 'root'), { recursive: true });
    mkdirSync(join(src, 'usr'), { recursive: true });
    makeEsp(join(src, 'esp'), options.reverse);
    makeSampleTree(join(src, 'root'), { reverse: options.reverse, devices: false });
    makeSampleTree(join(src, 'usr'), { reverse: !options.reverse, devices: false });
    writeFileSync(join(src, 'raw.bin'), Buffer.concat([Buffer.alloc(5000, 0xab), Buffer.alloc(70_000), Buffer.from('end')]));
  }
  const args = [
    'disk', '-o', out, '--source-date-epoch', EPOCH, '--seed', options.seed ?? 'gpt-oracle', '--workers', String(options.workers ?? 2),
    '-p', `esp:attrs=required+legacy-bios-bootable=${join(src, 'esp')}`,
    '-p', `root-x86-64:ext4:name=root \u00e9t\u00e9:label=root=${join(src, 'root')}`,
    '-p', `usr-x86-64:squashfs:attrs=read-only+no-auto+48=${join(src, 'usr')}`,
    '-p', 'swap:size=3M',
    '-p', `linux-generic:raw:uuid=01234567-89ab-4cde-8f01-23456789abcd=${join(src, 'raw.bin')}`,
  ];
  const r = runCli(args, { env: options.env, umask: options.umask });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

test('sfdisk, sgdisk and fdisk accept a GPT disk and show its types, names, GUIDs and attributes', async (t) => {
  if (!requireTool(t, 'sfdisk', 'sgdisk', 'fdisk', 'fsck.fat', 'e2fsck', 'unsquashfs')) return;
  const dir = tempDir(t);
  const disk = makeDisk(dir, join(dir, 'disk.img'));
  const dump = sfdiskJson(disk);
  assert.equal(dump.label, 'gpt');
  assert.equal(dump.firstlba, 34);
  const size = statSync(disk).size;
  assert.equal(size % (1 << 20), 0, 'disk size is a whole number of MiB');
  assert.equal(dump.lastlba, size / 512 - 34);
  const p = dump.partitions;
  assert.deepEqual(p.map((x) => x.type.toLowerCase()), ['esp', 'root-x86-64', 'usr-x86-64', 'swap', 'linux-generic'].map((n) => partitionTypeGuid(n)));
  assert.deepEqual(p.map((x) => x.name), ['esp', 'root \u00e9t\u00e9', 'usr-x86-64', 'swap', 'linux-generic']);
  assert.deepEqual(p.map((x) => x.attrs), ['RequiredPartition LegacyBIOSBootable', undefined, 'GUID:48,60,63', undefined, undefined]);
  assert.equal(p[4]!.uuid, '01234567-89AB-4CDE-8F01-23456789ABCD');
  for (const x of p) assert.equal(x.start % 2048, 0, `partition ${x.node} starts on a MiB`);
  assert.equal(p[3]!.size, 3 * 2048);
  assert.equal(new Set(p.map((x) => x.uuid)).size, 5, 'five different partition UUIDs');

  // the text form too: sfdisk --dump prints what sfdisk would recreate the table from
  const text = run('sfdisk', ['--dump', disk]).stdout.toString();
  assert.match(text, new RegExp(`^label: gpt\nlabel-id: ${dump.id}\n`));
  assert.match(text, /disk\.img2 : start=\s+\d+, size=\s+\d+, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=[0-9A-F-]{36}, name="root \\xc3\\xa9t\\xc3\\xa9"\n/); // sfdisk escapes non-ASCII bytes
  assert.match(text, /disk\.img3 : .*type=8484680C-9521-48C6-9C11-B0720656F69E, uuid=[0-9A-F-]{36}, name="usr-x86-64", attrs="GUID:48,60,63"\n/);
  assert.match(text, /disk\.img1 : .*name="esp", attrs="RequiredPartition LegacyBIOSBootable"\n/);

  const v = run('sgdisk', ['-v', disk]).stdout.toString();
  assert.match(v, /No problems found/);
  const info = run('sgdisk', ['-i', '3', disk]).stdout.toString();
  assert.match(info, /Partition GUID code: 8484680C-9521-48C6-9C11-B0720656F69E \(Linux x86-64 \/usr\)/);
  assert.match(info, /Attribute flags: 9001000000000000/);
  const fdisk = run('fdisk', ['-l', disk], { env: { ...process.env, LC_ALL: 'C' } }).stdout.toString();
  assert.match(fdisk, /Disklabel type: gpt/);
  for (const type of ['EFI System', 'Linux root \\(x86-64\\)', 'Linux /usr \\(x86-64\\)', 'Linux swap', 'Linux filesystem']) assert.match(fdisk, new RegExp(type));
  assert.doesNotMatch(fdisk, /does not start on physical sector boundary|not aligned/i);

  // the file systems inside, checked by their own tools on extracted partitions
  const part = (i: number) => {
    const out = join(dir, `p${i + 1}`);
    run('dd', [`if=${disk}`, `of=${out}`, 'bs=512', `skip=${p[i]!.start}`, `count=${p[i]!.size}`, 'status=none']);
    return out;
  };
  run('fsck.fat', ['-n', part(0)]);
  const e2 = run('e2fsck', ['-fn', part(1)], { allowFail: true });
  assert.equal(e2.status, 0, e2.stdout.toString() + e2.stderr);
  assert.match(run('unsquashfs', ['-s', part(2)]).stdout.toString(), /Filesystem size/);
  const raw = readFileSync(part(4));
  assert.equal(raw.subarray(5000 + 70_000, 5000 + 70_003).toString(), 'end');
  assert.equal(raw.length, 1 << 20);

  // sparse: the 3 MiB swap and the zeros of raw.bin are holes
  const { blocks } = statSync(disk);
  assert.ok(blocks * 512 < size - 3 * (1 << 20), `${blocks * 512} bytes allocated of ${size}`);

  // our reader agrees with sfdisk
  const table = await readTable(disk);
  assertSameAsSfdisk(table, dump);
});

test('our reader opens the disk as a Tree: one directory per partition, raw ones as files', async (t) => {
  if (!requireTool(t, 'sfdisk')) return;
  const dir = tempDir(t);
  const disk = makeDisk(dir, join(dir, 'disk.img'));
  const opened = await openTree(disk, { warn: () => undefined });
  try {
    assert.match(opened.format, /^gpt \(p1-esp: fat, p2-root \u00e9t\u00e9: ext4, p3-usr-x86-64: squashfs, p4-swap: raw, p5-linux-generic: raw\)$/);
    const names = [...opened.tree.root.children.keys()].sort();
    assert.deepEqual(names, ['p1-esp', 'p2-root \u00e9t\u00e9', 'p3-usr-x86-64', 'p4-swap', 'p5-linux-generic', 'partition-table.txt']);
    const text = (n: string) => {
      const node = opened.tree.get(n);
      assert.ok(node?.kind === 'file', n);
      return readContent(node.content);
    };
    assert.equal(Buffer.from(await text('p1-esp/loader/loader.conf')).toString(), 'timeout 0\n');
    assert.equal(Buffer.from(await text('p2-root \u00e9t\u00e9/etc/hostname')).toString(), 'box\n');
    assert.equal(Buffer.from(await text('p3-usr-x86-64/usr/bin/tool')).length, 70_000);
    assert.equal((await text('p4-swap')).length, 3 << 20);
    const table = Buffer.from(await text('partition-table.txt')).toString();
    assert.match(table, /^label: gpt\ndisk-guid: [0-9a-f-]{36}\n/);
    assert.match(table, /3: start=\d+, size=\d+, type=usr-x86-64, uuid=[0-9a-f-]{36}, name="usr-x86-64", attrs=48\+read-only\+no-auto/);
    // the CLI lists into partitions too
    const ls = runCli(['ls', disk]);
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /\.\/p2-root \u00e9t\u00e9\/usr\/bin\/sh -> tool/);
  } finally {
    await opened.close();
  }
});

test('an MBR disk: sfdisk and fdisk show the types, the active flag and the disk signature', async (t) => {
  if (!requireTool(t, 'sfdisk', 'fdisk', 'fsck.fat')) return;
  const dir = tempDir(t);
  mkdirSync(join(dir, 'esp'));
  makeEsp(join(dir, 'esp'));
  const disk = join(dir, 'mbr.img');
  const r = runCli(['disk', '--table', 'mbr', '-o', disk, '--source-date-epoch', EPOCH, '--disk-signature', '0x1234abcd',
    '-p', `esp:bootable=yes=${join(dir, 'esp')}`, '-p', '0x83:size=2M', '-p', 'swap:size=1M']);
  assert.equal(r.status, 0, r.stderr);
  const dump = sfdiskJson(disk);
  assert.equal(dump.label, 'dos');
  assert.equal(dump.id, '0x1234abcd');
  assert.deepEqual(dump.partitions.map((x) => [x.start, x.size, x.type, x.bootable ?? false]), [
    [2048, 2048, 'ef', true], [4096, 4096, '83', false], [8192, 2048, '82', false],
  ]);
  assert.match(run('sfdisk', ['--dump', disk]).stdout.toString(), /^label: dos\nlabel-id: 0x1234abcd\n(.*\n)*.*mbr\.img1 : start=\s+2048, size=\s+2048, type=ef, bootable\n/);
  const fdisk = run('fdisk', ['-l', disk], { env: { ...process.env, LC_ALL: 'C' } }).stdout.toString();
  assert.match(fdisk, /Disklabel type: dos/);
  assert.match(fdisk, /Disk identifier: 0x1234abcd/);
  assert.match(fdisk, /EFI \(FAT-12\/16\/32\)/);
  assert.doesNotMatch(fdisk, /Partition \d+ does not (start|end) on cylinder boundary/);
  const table = await readTable(disk);
  assertSameAsSfdisk(table, dump);
  // the FAT knows where it sits (BPB_HiddSec = 2048)
  assert.equal(readFileSync(disk).readUInt32LE(2048 * 512 + 28), 2048);
});

test('we read GPT disks made by sgdisk (names, attributes, disk GUID) as sfdisk does', async (t) => {
  if (!requireTool(t, 'sgdisk', 'sfdisk')) return;
  const dir = tempDir(t);
  const disk = join(dir, 'sgdisk.img');
  run('truncate', ['-s', '40M', disk]);
  run('sgdisk', [
    '-o', '-U', 'A1B2C3D4-0000-4000-8000-000000000001',
    '-n', '1:2048:+8M', '-t', '1:EF00', '-c', '1:EFI system', '-u', '1:11111111-2222-4333-8444-555555555555', '-A', '1:set:0',
    '-n', '2:0:+16M', '-t', '2:8304', '-c', '2:root \u00fcber', '-A', '2:set:60', '-A', '2:set:63',
    '-n', '3:0:0', '-t', '3:8200', '-A', '3:set:2',
    disk,
  ]);
  const table = await readTable(disk);
  const dump = sfdiskJson(disk);
  assertSameAsSfdisk(table, dump);
  assert.equal(table.diskGuid, 'a1b2c3d4-0000-4000-8000-000000000001');
  assert.deepEqual(table.partitions.map((p) => [p.typeName, p.name, describeAttributes(p.attributes!).join('+')]), [
    ['esp', 'EFI system', 'required'], ['root-x86-64', 'root \u00fcber', 'read-only+no-auto'], ['swap', '', 'legacy-bios-bootable'],
  ]);
  assert.equal(table.partitions[0]!.guid, '11111111-2222-4333-8444-555555555555');
});

test('we read GPT and MBR disks made by sfdisk, including logical partitions', async (t) => {
  if (!requireTool(t, 'sfdisk')) return;
  const dir = tempDir(t);
  const gpt = join(dir, 'sfdisk-gpt.img');
  run('truncate', ['-s', '20M', gpt]);
  run('sfdisk', ['--quiet', gpt], {
    input: 'label: gpt\nlabel-id: 0F0F0F0F-1111-4222-8333-444444444444\n' +
      'size=4M, type=uefi, name="ESP", attrs="RequiredPartition,LegacyBIOSBootable"\n' +
      'size=8M, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root", attrs="GUID:59,60"\n' +
      'type=linux\n',
  });
  assertSameAsSfdisk(await readTable(gpt), sfdiskJson(gpt));
  const mbr = join(dir, 'sfdisk-mbr.img');
  run('truncate', ['-s', '30M', mbr]);
  run('sfdisk', ['--quiet', mbr], {
    input: 'label: dos\nlabel-id: 0xdeadbeef\n' +
      'size=4M, type=c, bootable\nsize=4M, type=83\ntype=5\nsize=3M, type=82\nsize=2M, type=83\ntype=83\n',
  });
  const table = await readTable(mbr);
  const dump = sfdiskJson(mbr);
  assert.deepEqual(table.partitions.map((p) => p.number), [1, 2, 5, 6, 7]);
  // sfdisk lists the extended partition itself too; we list what holds data
  dump.partitions = dump.partitions.filter((p) => p.type !== '5');
  assertSameAsSfdisk(table, dump);
});

test('we read GPT disks made by systemd-repart --seed as sfdisk does', async (t) => {
  if (!requireTool(t, 'systemd-repart', 'sfdisk')) return;
  const dir = tempDir(t);
  const defs = join(dir, 'repart.d');
  mkdirSync(defs);
  writeFileSync(join(defs, '10-esp.conf'), '[Partition]\nType=esp\nSizeMinBytes=8M\nSizeMaxBytes=8M\n');
  writeFileSync(join(defs, '20-root.conf'), '[Partition]\nType=root-x86-64\nLabel=my-root\nSizeMinBytes=16M\nSizeMaxBytes=16M\nFlags=0x1000000000000000\n');
  writeFileSync(join(defs, '30-swap.conf'), '[Partition]\nType=swap\nSizeMinBytes=4M\nSizeMaxBytes=4M\n');
  const disk = join(dir, 'repart.img');
  run('systemd-repart', ['--empty=create', '--size=40M', '--seed=0f0e0d0c-0b0a-4908-8706-050403020100', `--definitions=${defs}`, '--dry-run=no', disk]);
  const table = await readTable(disk);
  assertSameAsSfdisk(table, sfdiskJson(disk));
  assert.deepEqual(table.partitions.map((p) => [p.typeName, p.name]), [['esp', 'esp'], ['root-x86-64', 'my-root'], ['swap', 'swap']]);
  assert.ok((table.partitions[1]!.attributes! >> 60n) & 1n, 'read-only flag');
  assert.equal(table.header!.firstUsableLba, 2048, 'systemd-repart starts the usable area at 1 MiB');
});

test('determinism: other TZ, umask, creation order, worker count and a cp -a copy give the same bytes; another seed other GUIDs', async (t) => {
  if (!requireTool(t, 'sfdisk')) return;
  const dir = tempDir(t);
  const a = makeDisk(dir, join(dir, 'a.img'), { env: { TZ: 'UTC' }, umask: 0o022, workers: 1 });
  const b = makeDisk(dir, join(dir, 'b.img'), { reverse: true, env: { TZ: 'Pacific/Kiritimati', LC_ALL: 'C' }, umask: 0o077, workers: 4 });
  run('cp', ['-a', join(dir, 'src'), join(dir, 'cp-a')]);
  const c = makeDisk(dir, join(dir, 'c.img'), { sources: join(dir, 'cp-a'), env: { TZ: 'America/St_Johns' } });
  assert.equal(sha256(b), sha256(a), 'reverse-created trees, TZ, umask or workers changed the disk');
  assert.equal(sha256(c), sha256(a), 'a cp -a copy changed the disk');
  const d = makeDisk(dir, join(dir, 'd.img'), { seed: 'another seed', sources: join(dir, 'src') });
  assert.notEqual(sha256(d), sha256(a));
  const [da, dd] = [sfdiskJson(a), sfdiskJson(d)];
  assert.notEqual(dd.id, da.id);
  for (let i = 0; i < 4; i++) assert.notEqual(dd.partitions[i]!.uuid, da.partitions[i]!.uuid);
  assert.equal(dd.partitions[4]!.uuid, da.partitions[4]!.uuid, 'a given UUID stays');
  assert.deepEqual(dd.partitions.map((p) => [p.start, p.size]), da.partitions.map((p) => [p.start, p.size]));
});

async function readTable(path: string): Promise<PartitionTable> {
  const source = await openFileSource(path);
  try {
    return await readPartitionTable(source);
  } finally {
    await source.close();
  }
}

/** Our table and sfdisk's JSON dump describe the same partitions. */
function assertSameAsSfdisk(table: PartitionTable, dump: SfdiskDump['partitiontable']): void {
  assert.equal(table.scheme, dump.label === 'dos' ? 'mbr' : 'gpt');
  if (table.scheme === 'gpt') assert.equal(table.diskGuid, dump.id.toLowerCase());
  else assert.equal(`0x${table.diskSignature!.toString(16).padStart(8, '0')}`, dump.id);
  const ours = table.partitions.map((p) => ({
    start: p.firstLba,
    size: p.sectors,
    type: p.typeGuid ?? p.mbrType!.toString(16),
    uuid: p.guid,
    name: p.name || undefined,
    attrs: p.attributes ? sfdiskAttrs(p.attributes) : undefined,
    bootable: p.bootable || undefined,
  }));
  const theirs = dump.partitions.map((p) => ({
    start: p.start, size: p.size, type: p.type.toLowerCase(), uuid: p.uuid?.toLowerCase(), name: p.name || undefined, attrs: p.attrs, bootable: p.bootable || undefined,
  }));
  assert.deepEqual(ours, theirs);
}

/** The attribute text sfdisk prints: named bits 0-2, then GUID:n,… for bits 48-63. */
function sfdiskAttrs(flags: bigint): string {
  const names = ['RequiredPartition', 'NoBlockIOProtocol', 'LegacyBIOSBootable'];
  const words: string[] = [];
  for (let b = 0; b < 3; b++) if ((flags >> BigInt(b)) & 1n) words.push(names[b]!);
  const guidBits: number[] = [];
  for (let b = 48; b < 64; b++) if ((flags >> BigInt(b)) & 1n) guidBits.push(b);
  if (guidBits.length) words.push(`GUID:${guidBits.join(',')}`);
  return words.join(' ');
}
