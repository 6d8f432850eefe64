// Oracle tests of the FAT writer: fsck.fat finds nothing to say about our FAT12, FAT16 and FAT32
// volumes, mdir lists exactly our names, sizes and times, mcopy extracts byte-equal files with
// our mtimes, and our boot sectors equal mkfs.fat's for the same size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { MemorySink } from '../../src/io/sink.js';
import { writeFat, type FatWriteOptions, type FatWriteReport } from '../../src/formats/fat/index.js';
import { Tree } from '../../src/tree/tree.js';
import { bytesContent } from '../../src/tree/content.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { FAT_EPOCH, expectedFatListing, fatSampleTree, fileNode, noise, parseMdir, treeContents } from '../unit/fat-support.js';

type T = import('node:test').TestContext;
const TOOL_ENV = { ...process.env, TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

async function build(t: T, tree: Tree, options: Partial<FatWriteOptions> = {}): Promise<{ img: string; report: FatWriteReport }> {
  const img = join(tempDir(t), 'esp.img');
  const report = await writeAtomically(img, (sink) => writeFat(tree, sink, { volumeSerial: 0xdeadbeef, buildTime: FAT_EPOCH, label: 'ESP', ...options }));
  return { img, report };
}

/** Runs `fsck.fat -n -v` and returns the lines that are neither the BPB dump nor progress lines. */
function fsckComplaints(img: string): { complaints: string[]; summary: string } {
  const r = run('fsck.fat', ['-n', '-v', img], { allowFail: true, env: TOOL_ENV });
  assert.equal(r.status, 0, `fsck.fat exit ${r.status}: ${r.stdout}${r.stderr}`);
  const known = [
    /^fsck\.fat \d/, /^Checking we can access the last sector of the filesystem$/, /^Boot sector contents:$/,
    /^System ID "mkfs\.fat"$/, /^Media byte 0xf8 \(hard disk\)$/, /^\s*\d+ bytes per logical sector$/, /^\s*\d+ bytes per cluster$/,
    /^\s*\d+ reserved sectors?$/, /^First FAT starts at byte \d+ \(sector \d+\)$/, /^\s*2 FATs, (12|16|32) bit entries$/,
    /^\s*\d+ bytes per FAT \(= \d+ sectors\)$/, /^Root directory starts at byte \d+ \(sector \d+\)$/, /^\s*\d+ root directory entries$/,
    /^Root directory start at cluster 2 \(arbitrary size\)$/, /^Data area starts at byte \d+ \(sector \d+\)$/,
    /^\s*\d+ data clusters \(\d+ bytes\)$/, /^\d+ sectors\/track, \d+ heads$/, /^\s*0 hidden sectors$/, /^\s*\d+ sectors total$/,
    /^Checking for unused clusters\.$/, /^Checking free cluster summary\.$/,
  ];
  const lines = `${r.stdout.toString('utf8')}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const summary = lines.pop() ?? '';
  return { complaints: lines.filter((l) => !known.some((k) => k.test(l))), summary };
}

for (const fatType of [12, 16, 32] as const) {
  test(`FAT${fatType}: fsck.fat -n -v has no complaint and counts our clusters`, async (t) => {
    if (!requireTool(t, 'fsck.fat')) return;
    const { img, report } = await build(t, fatSampleTree({ wide: fatType === 12 ? 40 : 200 }), { fatType });
    assert.equal(report.fatType, fatType);
    const { complaints, summary } = fsckComplaints(img);
    assert.deepEqual(complaints, []);
    assert.match(summary, new RegExp(`: \\d+ files, ${report.usedClusters}/${report.clusterCount} clusters$`));
  });

  test(`FAT${fatType}: mdir lists exactly our long names, case, sizes and times`, async (t) => {
    if (!requireTool(t, 'mdir')) return;
    const tree = fatSampleTree({ wide: 60 });
    const { img } = await build(t, tree, { fatType });
    const out = run('mdir', ['-/', '-a', '-i', img, '::'], { env: TOOL_ENV }).stdout.toString('utf8');
    assert.match(out, /Volume in drive : is ESP/);
    assert.match(out, /Volume Serial Number is DEAD-BEEF/);
    assert.deepEqual(parseMdir(out), expectedFatListing(tree, FAT_EPOCH));
    // 8.3 names in one case are stored without long names, shown through the NT case bits.
    assert.match(out, /^lower {4}txt +20 /m);
    assert.match(out, /^README {6} /m);
    assert.match(out, /^grub {5}cfg +\d+ /m);
    assert.match(out, /^LONGFI~9 TXT .* long file name 08\.txt$/m);
    assert.match(out, /^LONGF~10 TXT .* long file name 09\.txt$/m);
  });

  test(`FAT${fatType}: mcopy -s extracts byte-equal files with the clamped mtimes`, async (t) => {
    if (!requireTool(t, 'mcopy')) return;
    const tree = fatSampleTree();
    const { img } = await build(t, tree, { fatType });
    const dir = join(tempDir(t), 'x');
    run('mkdir', [dir]);
    run('mcopy', ['-s', '-m', '-i', img, '::/', dir], { env: TOOL_ENV });
    const expected = await treeContents(tree);
    const found = new Map<string, Uint8Array>();
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(dir, rel))) {
        const path = rel ? `${rel}/${name}` : name;
        const st = statSync(join(dir, path));
        if (st.isDirectory()) walk(path);
        else {
          found.set(path, new Uint8Array(readFileSync(join(dir, path))));
          const node = tree.get(path)!;
          const clamped = Math.max(315532800, Math.min(node.mtime.sec, FAT_EPOCH));
          const want = clamped - (clamped % 2);
          assert.equal(Math.floor(st.mtimeMs / 1000), want, `mtime of ${path}`);
        }
      }
    };
    walk('');
    assert.deepEqual([...found.keys()].sort(), [...expected.keys()].sort());
    for (const [path, bytes] of expected) assert.ok(Buffer.from(found.get(path)!).equals(Buffer.from(bytes)), `contents of ${path}`);
  });
}

test('an EFI system partition: EFI/BOOT/BOOTX64.EFI of a few hundred KiB, checked by fsck.fat and mcopy', async (t) => {
  if (!requireTool(t, 'fsck.fat', 'mcopy')) return;
  const tree = new Tree();
  const loader = noise(700 * 1024 + 3, 42);
  tree.set('EFI/BOOT/BOOTX64.EFI', fileNode(loader));
  tree.set('EFI/BOOT/grubx64.efi', fileNode(noise(200 * 1024, 9)));
  const { img, report } = await build(t, tree, { label: 'EFIBOOT' });
  assert.equal(report.fatType, 12);
  assert.equal(report.size % (1024 * 1024), 0);
  assert.deepEqual(fsckComplaints(img).complaints, []);
  const out = run('mcopy', ['-i', img, '::/EFI/BOOT/BOOTX64.EFI', '-'], { env: TOOL_ENV }).stdout;
  assert.ok(Buffer.from(out).equals(Buffer.from(loader)));
  const info = run('minfo', ['-i', img, '::'], { env: TOOL_ENV }).stdout.toString('utf8');
  assert.match(info, /disk label="EFIBOOT {4}"/);
  assert.match(info, /disk type="FAT12 {3}"/);
});

/** The first 4 KiB of a volume that may be large, without keeping the rest. */
async function headOf(size: number, fatType?: 12 | 16 | 32): Promise<{ head: Uint8Array; length: number }> {
  const head = new Uint8Array(4096);
  let position = 0;
  const sink = {
    get position() { return position; },
    async write(b: Uint8Array) {
      if (position < head.length) head.set(b.subarray(0, head.length - position), position);
      position += b.length;
    },
    writeAt: () => Promise.resolve(),
    flush: () => Promise.resolve(),
  };
  await writeFat(new Tree(), sink, { size, fatType, volumeSerial: 0x1234abcd, buildTime: 0 });
  return { head, length: position };
}

test('boot sectors equal mkfs.fat 4.2 (--invariant) up to the boot code, over 40 sizes and types', async (t) => {
  if (!requireTool(t, 'mkfs.fat')) return;
  const dir = tempDir(t);
  const kib = [200, 360, 720, 1024, 1200, 1440, 2048, 2880, 4100, 8192, 8200, 16400, 33000, 65536, 100000, 266240, 524288, 600000, 1048576];
  let compared = 0;
  for (const k of kib) {
    for (const fatType of [undefined, 16, 32] as const) {
      const img = join(dir, `${k}-${fatType}.img`);
      const mk = run('mkfs.fat', ['-C', '--invariant', '-i', '1234abcd', ...(fatType ? ['-F', String(fatType)] : []), img, String(k)], { allowFail: true });
      let ours: { head: Uint8Array; length: number } | undefined;
      try {
        ours = await headOf(k * 1024, fatType);
      } catch {
        ours = undefined;
      }
      assert.equal(ours !== undefined, mk.status === 0, `${k} KiB FAT${fatType ?? 'auto'}: mkfs.fat exit ${mk.status}, ours ${ours ? 'ok' : 'refused'}`);
      if (!ours) continue;
      const theirs = Buffer.alloc(4096);
      const fd = openSync(img, 'r');
      readSync(fd, theirs, 0, 4096, 0);
      closeSync(fd);
      const bootCode = ours.head[1]! + 2; // the jump target: everything before it is BPB
      assert.equal(Buffer.from(ours.head.subarray(0, bootCode)).toString('hex'), theirs.subarray(0, bootCode).toString('hex'), `${k} KiB FAT${fatType ?? 'auto'}`);
      assert.equal(ours.length, statSync(img).size);
      compared++;
    }
  }
  assert.ok(compared >= 40, `compared ${compared}`);
});

test('an empty volume equals mkfs.fat byte for byte but for the boot code, label times, FSInfo next-free and the FAT32 root end mark', async (t) => {
  if (!requireTool(t, 'mkfs.fat')) return;
  const dir = tempDir(t);
  for (const [k, fatType] of [[1440, 12], [8192, 12], [20000, 16], [40000, 32]] as const) {
    const img = join(dir, `${k}.img`);
    run('mkfs.fat', ['-C', '--invariant', '-i', '1234abcd', '-n', 'EMPTY', '-F', String(fatType), img, String(k)]);
    const theirs = new Uint8Array(readFileSync(img));
    const sink = new MemorySink();
    const empty = new Tree();
    await writeFat(empty, sink, { size: k * 1024, fatType, volumeSerial: 0x1234abcd, buildTime: 0, label: 'EMPTY' });
    const ours = sink.bytes();
    assert.equal(ours.length, theirs.length);
    const mask = (b: Uint8Array): Uint8Array => {
      const c = b.slice();
      const code = c[1]! + 2;
      for (const sector of fatType === 32 ? [0, 6] : [0]) c.fill(0, sector * 512 + code, sector * 512 + 510);
      if (fatType === 32) for (const sector of [1, 7]) c.fill(0, sector * 512 + 492, sector * 512 + 496);
      // The label entry's times: mkfs.fat --invariant has its own fixed date.
      const v = new DataView(c.buffer, c.byteOffset);
      const fatSectors = fatType === 32 ? v.getUint32(36, true) : v.getUint16(22, true);
      const labelAt = (v.getUint16(14, true) + c[16]! * fatSectors) * 512; // root directory, first entry
      // The root's end-of-chain mark on FAT32: mkfs.fat writes 0x0FFFFFF8, we (like Linux) 0x0FFFFFFF.
      if (fatType === 32) for (let f = 0; f < c[16]!; f++) c[(v.getUint16(14, true) + f * fatSectors) * 512 + 8] = 0;
      c.fill(0, labelAt + 13, labelAt + 26);
      return c;
    };
    const a = mask(ours);
    const b = mask(theirs);
    const firstDiff = a.findIndex((x, i) => x !== b[i]);
    assert.equal(firstDiff, -1, `${k} KiB FAT${fatType}: first difference at byte ${firstDiff}`);
  }
});

test('a tree with files that are not regular: UNSUPPORTED or skipped; fsck.fat still clean', async (t) => {
  if (!requireTool(t, 'fsck.fat')) return;
  const tree = fatSampleTree();
  tree.set('EFI/link', { kind: 'symlink', target: 'BOOT', mode: 0o777, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 }, xattrs: new Map() });
  await assert.rejects(build(t, tree), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /EFI\/link/.test(e.message));
  const { img, report } = await build(t, tree, { skipUnsupported: true });
  assert.deepEqual(report.warnings, ['EFI/link: left out: it is a symlink']);
  assert.deepEqual(fsckComplaints(img).complaints, []);
  tree.remove('EFI/link');
  tree.set('huge', { ...fileNode(''), content: { ...bytesContent(new Uint8Array(0)), size: 2 ** 32 } });
  await assert.rejects(build(t, tree), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /huge/.test(e.message));
});

test('option variants stay fsck.fat-clean and mdir-exact: one FAT, forced cluster sizes, 8 reserved sectors, hidden sectors, no label', async (t) => {
  if (!requireTool(t, 'fsck.fat', 'mdir')) return;
  const variants: Array<Partial<FatWriteOptions>> = [
    { numFats: 1 }, { clusterSize: 512 }, { clusterSize: 16384 }, { fatType: 32, reservedSectors: 8 },
    { fatType: 16, clusterSize: 1024, size: 8 * 1024 * 1024 }, { hiddenSectors: 2048, fatType: 32 }, { label: undefined },
    { oemName: 'REPRO' },
  ];
  const tree = fatSampleTree({ wide: 30 });
  for (const v of variants) {
    const { img, report } = await build(t, tree, v);
    const r = run('fsck.fat', ['-n', '-v', img], { env: TOOL_ENV });
    const text = r.stdout.toString('utf8');
    const complaints = text.split('\n').filter((l) => /wrong|differ|invalid|bad|error|fix|not |free cluster summary/i.test(l) && !/Checking/.test(l));
    assert.deepEqual(complaints, [], `${JSON.stringify(v)}\n${text}`);
    assert.match(text, new RegExp(`${report.usedClusters}/${report.clusterCount} clusters`));
    const out = run('mdir', ['-/', '-a', '-i', img, '::'], { env: TOOL_ENV }).stdout.toString('utf8');
    assert.deepEqual(parseMdir(out), expectedFatListing(tree, FAT_EPOCH), JSON.stringify(v));
  }
});
