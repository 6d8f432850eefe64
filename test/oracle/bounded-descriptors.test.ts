// Every writer works under `ulimit -n 256` on a tree of 3,000 files (docs/design.md rule 9: open
// descriptors are bounded however many entries the tree has). Each image is written by the CLI
// under that limit and checked by its reference tool: SquashFS with every compressor and 1 and 4
// workers (unsquashfs extraction; the bytes must not depend on the worker count), tar (GNU tar),
// cpio (GNU cpio), ISO 9660 (xorriso), ext4 (e2fsck -fn, debugfs rdump), FAT (fsck.fat -n,
// mcopy) and a GPT disk with a FAT and an ext4 partition. Extractions are compared with the tree
// by path, type, mode, size and content hash.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/cli.js';
import { requireTool, run } from '../helpers/tools.js';
import { pseudoRandom, textBytes } from './squashfs-support.js';

const LIMIT = 256;
const FILES = 3000;
const EPOCH = '1700000000';
let work = '';
/** The tree with symlinks; FAT gets the same files without them. */
let tree = '';
let fatTree = '';

function fillTree(root: string, links: boolean): void {
  const duplicate = textBytes(260_000, 7);
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `d${String(Math.floor(i / 100)).padStart(2, '0')}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const k = i % 100;
    let data: Uint8Array;
    if (k < 90) data = new TextEncoder().encode(`line ${i}\n`.repeat(1 + (i % 40)));
    else if (k < 92) data = textBytes(136 * 1024, i); // one block and a tail
    else if (k < 94) data = duplicate; // stored once by SquashFS
    else if (k === 94) data = new Uint8Array(200_000); // all zeros: sparse blocks
    else if (k === 95) data = pseudoRandom(20_000, i); // does not compress
    else data = new Uint8Array(0);
    const file = join(dir, `f${String(i).padStart(4, '0')}`);
    writeFileSync(file, data);
    chmodSync(file, i % 7 === 0 ? 0o755 : 0o644);
    if (links && k === 50) symlinkSync(`f${String(i).padStart(4, '0')}`, join(dir, `link-${i}`));
  }
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'reprimage-fds-'));
  tree = join(work, 'tree');
  fatTree = join(work, 'fat-tree');
  fillTree(tree, true);
  fillTree(fatTree, false);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI with its open-file limit lowered to LIMIT; fails the test unless it exits 0. */
function cliUnderLimit(args: string[]): void {
  const r = spawnSync('bash', ['-c', `ulimit -n ${LIMIT} && [ "$(ulimit -n)" = ${LIMIT} ] && exec "$0" "$@"`, process.execPath, CLI, ...args], {
    env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `reprimage ${args.join(' ')} under ulimit -n ${LIMIT}: exit ${r.status}\n${r.stderr}`);
}

/** One line per entry under `dir` (sorted): path, type, mode (unless FAT), size and content hash or link target. */
function listing(dir: string, options: { modes?: boolean; skip?: string[] } = {}): string[] {
  const lines: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (options.skip?.includes(path)) continue;
      const full = join(dir, path);
      const st = lstatSync(full);
      const mode = options.modes === false ? '' : ` ${(st.mode & 0o7777).toString(8)}`;
      if (st.isDirectory()) {
        lines.push(`${path} dir${mode}`);
        walk(path);
      } else if (st.isSymbolicLink()) {
        lines.push(`${path} symlink -> ${readlinkSync(full)}`);
      } else {
        lines.push(`${path} file${mode} ${st.size} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
      }
    }
  };
  walk('');
  return lines;
}

/** Asserts that `extracted` holds exactly the files of `source`. */
function assertSameFiles(extracted: string, source: string, options: { modes?: boolean; skip?: string[] } = {}): void {
  const got = listing(extracted, options);
  const want = listing(source, options);
  assert.equal(want.length > FILES, true);
  assert.deepEqual(got, want);
}

function fresh(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

const squashfsHashes = new Map<string, string>();

for (const [comp, extra] of [['gzip', []], ['gzip', ['--squashfs-deflate', 'zlib']], ['xz', []], ['zstd', []], ['lz4', []]] as const) {
  const name = extra.length > 0 ? `${comp} (zlib)` : comp;
  for (const workers of [1, 4]) {
    test(`squashfs ${name}, ${workers} worker(s), under ulimit -n ${LIMIT}: unsquashfs extracts exactly the tree`, (t) => {
      if (!requireTool(t, 'unsquashfs')) return;
      const img = join(work, `out-${comp}-${extra.length}-${workers}.sqfs`);
      cliUnderLimit(['pack', tree, '-o', img, '--comp', comp, ...extra, '--workers', String(workers)]);
      const out = fresh('unsquashfs');
      run('unsquashfs', ['-no-progress', '-d', out, img]);
      assertSameFiles(out, tree);
      const hash = createHash('sha256').update(readFileSync(img)).digest('hex');
      const other = squashfsHashes.get(name);
      if (other) assert.equal(hash, other, 'the bytes depend on the worker count');
      squashfsHashes.set(name, hash);
      rmSync(img);
    });
  }
}

test(`tar under ulimit -n ${LIMIT}: GNU tar extracts exactly the tree`, (t) => {
  if (!requireTool(t, 'tar')) return;
  const img = join(work, 'out.tar');
  cliUnderLimit(['pack', tree, '-o', img]);
  const out = fresh('tar');
  mkdirSync(out);
  run('tar', ['-xpf', img, '-C', out]);
  assertSameFiles(out, tree);
});

test(`cpio under ulimit -n ${LIMIT}: GNU cpio extracts exactly the tree`, (t) => {
  if (!requireTool(t, 'cpio')) return;
  const img = join(work, 'out.cpio');
  cliUnderLimit(['pack', tree, '-o', img]);
  const out = fresh('cpio');
  mkdirSync(out);
  run('cpio', ['-idm', '--quiet', '--no-absolute-filenames', '-F', img], { cwd: out });
  assertSameFiles(out, tree, { skip: ['.'] });
});

test(`iso under ulimit -n ${LIMIT}: xorriso extracts exactly the tree`, (t) => {
  if (!requireTool(t, 'xorriso')) return;
  const img = join(work, 'out.iso');
  cliUnderLimit(['pack', tree, '-o', img]);
  const out = fresh('iso');
  run('xorriso', ['-osirrox', 'on', '-indev', img, '-extract', '/', out]);
  assertSameFiles(out, tree);
});

/** e2fsck -fn finds nothing, and debugfs rdump gives back the tree (lost+found aside). */
function checkExt4(img: string, source: string): void {
  const fsck = run('e2fsck', ['-fn', img], { allowFail: true });
  assert.equal(fsck.status, 0, `e2fsck: ${fsck.stdout.toString()}${fsck.stderr}`);
  const out = fresh('ext4');
  mkdirSync(out);
  run('debugfs', ['-R', `rdump / ${out}`, img]);
  assertSameFiles(out, source, { skip: ['lost+found'] });
}

/** fsck.fat -n finds nothing, and mcopy gives back the files (FAT keeps no modes). */
function checkFat(img: string, source: string): void {
  run('fsck.fat', ['-n', img]);
  const out = fresh('fat');
  mkdirSync(out);
  run('mcopy', ['-s', '-n', '-i', img, '::/*', out]);
  assertSameFiles(out, source, { modes: false });
}

test(`ext4 under ulimit -n ${LIMIT}: e2fsck -fn is clean and debugfs gives back the tree`, (t) => {
  if (!requireTool(t, 'e2fsck', 'debugfs')) return;
  const img = join(work, 'out.ext4');
  cliUnderLimit(['pack', tree, '-o', img]);
  checkExt4(img, tree);
});

test(`fat under ulimit -n ${LIMIT}: fsck.fat -n is clean and mcopy gives back the files`, (t) => {
  if (!requireTool(t, 'fsck.fat', 'mcopy')) return;
  const img = join(work, 'out.fat');
  cliUnderLimit(['pack', fatTree, '-o', img]);
  checkFat(img, fatTree);
});

/** Copies `length` bytes at `offset` of `from` into a new file `to`. */
function copyRange(from: string, offset: number, length: number, to: string): void {
  const src = openSync(from, 'r');
  const dst = openSync(to, 'w');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let done = 0; done < length; ) {
      const n = readSync(src, buf, 0, Math.min(buf.length, length - done), offset + done);
      if (n === 0) throw new Error(`${from} ends early`);
      writeSync(dst, buf, 0, n);
      done += n;
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

test(`disk (GPT: FAT + ext4) under ulimit -n ${LIMIT}: each partition passes its fsck and gives back its tree`, (t) => {
  if (!requireTool(t, 'sfdisk', 'fsck.fat', 'mcopy', 'e2fsck', 'debugfs')) return;
  const img = join(work, 'out.img');
  cliUnderLimit(['disk', '-o', img, '-p', `esp=${fatTree}`, '-p', `root-x86-64:ext4=${tree}`]);
  const table = JSON.parse(run('sfdisk', ['--json', img]).stdout.toString()) as { partitiontable: { sectorsize?: number; partitions: Array<{ start: number; size: number }> } };
  const sector = table.partitiontable.sectorsize ?? 512;
  const [esp, root] = table.partitiontable.partitions;
  assert.ok(esp && root, 'two partitions');
  const fat = join(work, 'part-esp.fat');
  const ext4 = join(work, 'part-root.ext4');
  copyRange(img, esp.start * sector, esp.size * sector, fat);
  copyRange(img, root.start * sector, root.size * sector, ext4);
  rmSync(img);
  checkFat(fat, fatTree);
  checkExt4(ext4, tree);
});
