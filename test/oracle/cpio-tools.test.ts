// cpio newc checked by the reference tools on the shared sample tree (test/helpers/sample-tree.ts):
// byte identity with GNU cpio --reproducible, `cpio -itv` and `bsdtar -tvf` listings of our
// archives (names, modes, links, owners, sizes, devices, mtimes, link targets), hard links of every
// kind made on disk, cpio.gz checked by gzip, and initramfs images concatenated with lz4 -l, lzma
// and two compressed segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeCpio, loadCpio, type CpioSegment } from '../../src/formats/cpio/index.js';
import { GzipSink } from '../../src/compress/gzip.js';
import { MemorySink } from '../../src/io/sink.js';
import { openFileSource } from '../../src/io/source.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { treeToJson } from '../../src/tree/describe.js';
import type { Tree } from '../../src/tree/tree.js';
import { LATE_BUILD_TIME, materialize, sampleSpec, specToTree, treeListing } from '../helpers/sample-tree.js';
import { requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';

const EPOCH = 1_650_000_000; // 2022-04-15: far enough back that listings show the year
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function cpioBytes(tree: Tree): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME });
  return sink.bytes();
}

function gnuCpio(dir: string): Buffer {
  return run('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible', 'sh', dir]).stdout;
}

/** The sample tree on disk and in memory (what could be made here, e.g. devices need root). */
function sample(dir: string): { tree: Tree; src: string } {
  const src = join(dir, 'src');
  const spec = materialize(sampleSpec(), src, { epoch: EPOCH });
  return { tree: specToTree(spec, { epoch: EPOCH }), src };
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };
function modeString(type: string, octal: string): string {
  const mode = parseInt(octal, 8);
  let s = TYPE_CHAR[type]!;
  for (const [shift, special, lower, upper] of [[6, 0o4000, 's', 'S'], [3, 0o2000, 's', 'S'], [0, 0o1000, 't', 'T']] as const) {
    const bits = (mode >> shift) & 7;
    s += bits & 4 ? 'r' : '-';
    s += bits & 2 ? 'w' : '-';
    const x = (bits & 1) !== 0;
    s += mode & special ? (x ? lower : upper) : x ? 'x' : '-';
  }
  return s;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `ls -l` style date of an old time, in UTC: `Apr 15  2022`. */
function oldDate(sec: number): string {
  const d = new Date(sec * 1000);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)}  ${d.getUTCFullYear()}`;
}

/** What a tar/cpio -tv listing must show for each entry: [mode string, owner, size or device, date, name, target]. */
function expectedListing(tree: Tree): string[] {
  // newc carries a hard-linked file's data on its last link (in archive order): the others list as size 0
  const lastLink = new Map<unknown, string>();
  for (const { path, node } of tree.walkSortedPaths()) if (node.kind === 'file') lastLink.set(node, path);
  const carriers = new Set(lastLink.values());
  const links = tree.linkCounts();
  return treeToJson(tree).map((e) => {
    const held = e.type === 'file' && (links.get(tree.get(e.path === '.' ? '' : e.path)!) ?? 1) > 1 && !carriers.has(e.path);
    const size = e.device ? `${e.device[0]},${e.device[1]}` : e.type === 'symlink' ? String(Buffer.byteLength(e.target!)) : held ? '0' : String(e.size ?? 0);
    const name = e.path + (e.target !== undefined ? ` -> ${e.target}` : '');
    return [modeString(e.type, e.mode), `${e.uid}/${e.gid}`, e.type === 'dir' ? '-' : size, oldDate(Number(e.mtime.split('.')[0])), name].join(' ');
  });
}

/** Parses `cpio -itv --numeric-uid-gid` or `bsdtar -tvf --numeric-owner` output into the same shape. */
function parseListing(raw: Buffer, tool: 'cpio' | 'bsdtar'): string[] {
  const out: string[] = [];
  for (const line of raw.toString('latin1').split('\n').filter(Boolean)) {
    const m = /^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+,\s*\d+|\d+)\s+(\w{3}\s+\d+\s+\d{4}) (.*)$/.exec(line);
    assert.ok(m, `${tool}: cannot parse ${JSON.stringify(line)}`);
    const [, mode, , uid, gid, sizeOrDev, date, rest] = m;
    // bsdtar escapes non-ASCII bytes as \ooo in the C locale
    let name = Buffer.from(rest!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString('utf8');
    if (tool === 'bsdtar') name = name.replace(/ link to .*$/, '');
    const size = mode!.startsWith('d') ? '-' : sizeOrDev!.replace(/\s+/g, '');
    const [month, day, year] = date!.split(/\s+/);
    out.push([mode, `${uid}/${gid}`, size, `${month} ${day!.padStart(2)}  ${year}`, name].join(' '));
  }
  return out.sort();
}

test('newc bytes equal GNU cpio --reproducible on the shared sample tree', async (t) => {
  if (!requireTool(t, 'cpio')) return;
  const { tree, src } = sample(tempDir(t));
  const gnu = gnuCpio(src);
  const ours = await cpioBytes(tree);
  if (sha(ours) !== sha(gnu)) {
    const at = ours.findIndex((b, i) => b !== gnu[i]);
    assert.fail(`first difference at byte ${at}: ours ${JSON.stringify(Buffer.from(ours.subarray(at - 40, at + 40)).toString('latin1'))} gnu ${JSON.stringify(gnu.subarray(at - 40, at + 40).toString('latin1'))}`);
  }
  // and what loadDirectory makes of the same directory gives the same bytes
  assert.equal(sha(await cpioBytes(await loadDirectory(src, { xattrs: false }))), sha(gnu));
});

test('newc bytes equal GNU cpio on hard links of every kind made on disk', async (t) => {
  if (!requireTool(t, 'cpio', 'mknod', 'mkfifo')) return;
  if (process.getuid?.() !== 0) return skipOrFailInCi(t, 'mknod of device nodes needs root');
  const src = join(tempDir(t), 'links');
  mkdirSync(join(src, 'd/e'), { recursive: true });
  mkdirSync(join(src, 'm'));
  writeFileSync(join(src, 'f'), 'hi\n');
  writeFileSync(join(src, 'z'), '');
  writeFileSync(join(src, 'm/x'), 'data\n');
  run('ln', ['-s', 'f', join(src, 's')]);
  run('mknod', [join(src, 'c'), 'c', '1', '3']);
  run('mkfifo', [join(src, 'p')]);
  for (const [from, to] of [['f', 'd/f2'], ['z', 'd/z2'], ['s', 'd/s2'], ['c', 'd/c2'], ['p', 'd/p2'], ['m/x', 'd/y'], ['m/x', 'w'], ['m/x', 'd/a'], ['m/x', '0first']] as const) {
    linkSync(join(src, from), join(src, to));
  }
  run('sh', ['-c', 'find "$1" -exec touch -h -d @1000 {} +', 'sh', src]);
  assert.equal(sha(await cpioBytes(await loadDirectory(src, { xattrs: false }))), sha(gnuCpio(src)));
});

test('cpio -itv lists our archive with the names, modes, owners, sizes, devices, dates and targets of the tree', async (t) => {
  if (!requireTool(t, 'cpio')) return;
  const dir = tempDir(t);
  const { tree } = sample(dir);
  writeFileSync(join(dir, 'ours.cpio'), await cpioBytes(tree));
  const text = run('sh', ['-c', 'cpio -itv --quiet --numeric-uid-gid < "$1"', 'sh', join(dir, 'ours.cpio')], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } }).stdout;
  assert.deepEqual(parseListing(text, 'cpio'), expectedListing(tree).sort());
});

test('bsdtar -tvf lists our archive the same way', async (t) => {
  if (!requireTool(t, 'bsdtar')) return;
  const dir = tempDir(t);
  const { tree } = sample(dir);
  writeFileSync(join(dir, 'ours.cpio'), await cpioBytes(tree));
  const text = run('bsdtar', ['-tvf', join(dir, 'ours.cpio'), '--numeric-owner'], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } }).stdout;
  assert.deepEqual(parseListing(text, 'bsdtar'), expectedListing(tree).sort());
});

test('cpio -idm extracts our archive to the tree (contents, modes, owners, file mtimes, links, devices)', async (t) => {
  if (!requireTool(t, 'cpio')) return;
  const dir = tempDir(t);
  const { tree } = sample(dir);
  writeFileSync(join(dir, 'ours.cpio'), await cpioBytes(tree));
  mkdirSync(join(dir, 'out'));
  run('sh', ['-c', 'cd "$1" && cpio --quiet -idmu --no-absolute-filenames < "$2"', 'sh', join(dir, 'out'), join(dir, 'ours.cpio')]);
  const strip = async (x: Tree) => (await treeListing(x)).map(({ xattrs: _x, ...e }) => ({ ...e, mtime: e.mtime.split('.')[0]! }));
  const back = await strip(await loadDirectory(join(dir, 'out'), { xattrs: false }));
  const want = await strip(tree);
  // GNU cpio sets a directory's time before filling it and never sets a symlink's: tool limits
  for (const [i, e] of back.entries()) if (e.type === 'symlink' || e.type === 'dir') e.mtime = want[i]?.mtime ?? e.mtime;
  assert.deepEqual(back, want);
});

test('cpio.gz from GzipSink passes gzip -t and decompresses to the plain archive', async (t) => {
  if (!requireTool(t, 'gzip', 'cpio')) return;
  const dir = tempDir(t);
  const { tree } = sample(dir);
  const inner = new MemorySink();
  const gz = new GzipSink(inner);
  await writeCpio(tree, gz, { buildTime: LATE_BUILD_TIME });
  await gz.close();
  writeFileSync(join(dir, 'ours.cpio.gz'), inner.bytes());
  run('gzip', ['-t', join(dir, 'ours.cpio.gz')]);
  const plain = run('gzip', ['-dc', join(dir, 'ours.cpio.gz')]).stdout;
  assert.equal(sha(plain), sha(await cpioBytes(tree)));
  const names = run('sh', ['-c', 'gzip -dc "$1" | cpio -it --quiet', 'sh', join(dir, 'ours.cpio.gz')]).stdout.toString().trim().split('\n');
  assert.deepEqual([...names].sort(), [...tree.walkSortedPaths()].map((e) => (e.path === '' ? '.' : e.path)).sort());
});

for (const [label, tools, compress] of [
  ['lz4 -l (legacy, as the kernel needs)', ['lz4'], 'lz4 -q -l -9'],
  ['lzma (xz --format=lzma)', ['xz'], 'xz --format=lzma'],
  ['zstd then gzip (two compressed segments)', ['zstd', 'gzip'], 'zstd -q -3'],
] as const) {
  test(`reads an initramfs made with ${label}`, async (t) => {
    if (!requireTool(t, 'cpio', ...tools)) return;
    const dir = tempDir(t);
    const { tree, src } = sample(dir);
    mkdirSync(join(dir, 'early/kernel'), { recursive: true });
    writeFileSync(join(dir, 'early/kernel/early.bin'), 'early\n');
    const early = gnuCpio(join(dir, 'early'));
    const main = run('sh', ['-c', `cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible | ${compress}`, 'sh', src]).stdout;
    const parts = label.includes('two') ? [run('gzip', ['-9n'], { input: early }).stdout, main] : [early, main];
    if (label.includes('two')) parts.reverse(); // zstd main first, then the gzip'd early archive
    writeFileSync(join(dir, 'initrd.img'), Buffer.concat(parts));
    const source = await openFileSource(join(dir, 'initrd.img'));
    const segments: CpioSegment[] = [];
    const got = await loadCpio(source, { onSegment: (s) => segments.push(s) });
    t.after(async () => {
      for (const s of segments) if (s.compression) await s.source.close();
      await source.close();
    });
    assert.equal(segments.length, 2);
    const strip = async (x: Tree) => (await treeListing(x)).filter((e) => !e.path.startsWith('kernel')).map(({ xattrs: _x, ...e }) => ({ ...e, mtime: e.mtime.split('.')[0]! }));
    const want = await strip(tree);
    const have = await strip(got);
    // the early archive's root entry is replaced by the main one's (or the other way round)
    assert.deepEqual(have.slice(1), want.slice(1));
    const earlyFile = got.get('kernel/early.bin');
    assert.equal(earlyFile?.kind, 'file');
    assert.equal(readFileSync(join(dir, 'early/kernel/early.bin'), 'utf8'), 'early\n');
  });
}
