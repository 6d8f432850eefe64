/**
 * Names that are not UTF-8 (docs/design.md rule 8, docs/names.md): a directory holds Latin-1 and
 * KOI8-R names that all turn into the same U+FFFD string when decoded as UTF-8, beside their
 * UTF-8 look-alikes, a name with a newline and a symlink whose target is not UTF-8. The
 * reference tools (GNU tar, GNU cpio, mksquashfs, mke2fs -d, xorriso) make images of it; what
 * they extract is compared, as bytes, with what our readers list, and our writers' images are
 * extracted by the same tools and compared with the directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTree } from '../../src/image/open-tree.js';
import { nameBytes } from '../../src/tree/names.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { runCli } from '../helpers/cli.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const b = (...parts: Array<string | number[] | Uint8Array>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** The fixture: every entry as bytes. The four single files after `café` collide under U+FFFD. */
const FILES: Buffer[] = [
  b('café'), // UTF-8
  b('caf', [0xe9]), // Latin-1
  b([0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), // KOI8-R "привет"
  b([0xe9, 0xe8, 0xe0, 0xf9, 0xe7, 0xea]), // Latin-1 "éèàùçê": six bytes, six U+FFFD as well
  b('sur', [0xed, 0xb2, 0x80]), // an encoded surrogate, which is not UTF-8
  b('new\nline'),
  b('dir', [0xff], '/', [0xe9], 't', [0xe9]),
];
const DIRS: Buffer[] = [b('dir', [0xff])];
const LINKS: Array<[Buffer, Buffer]> = [[b('lien', [0xe9]), b('caf', [0xe9])]];

function makeSource(root: string): void {
  mkdirSync(root);
  for (const d of DIRS) mkdirSync(b(root, '/', d));
  FILES.forEach((f, i) => writeFileSync(b(root, '/', f), `file ${i}\n`));
  for (const [link, target] of LINKS) symlinkSync(target, b(root, '/', link));
}

/** One line per entry below `root`, read as bytes: hex path, then `-> hex target` or `= contents`. */
function diskListing(root: string): string[] {
  const out: Array<[Buffer, string]> = [];
  const walk = (dir: Buffer, rel: Buffer | undefined) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const path = rel ? b(rel, '/', name) : name;
      if (path.equals(b('lost+found'))) continue; // mke2fs's, not the fixture's
      const full = b(dir, '/', name);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        out.push([path, `${path.toString('hex')} dir`]);
        walk(full, path);
      } else if (st.isSymbolicLink()) {
        out.push([path, `${path.toString('hex')} -> ${readlinkSync(full, { encoding: 'buffer' }).toString('hex')}`]);
      } else {
        out.push([path, `${path.toString('hex')} = ${JSON.stringify(readFileSync(full, 'latin1'))}`]);
      }
    }
  };
  walk(Buffer.from(root), undefined);
  return out.sort((x, y) => Buffer.compare(x[0], y[0])).map((e) => e[1]);
}

/** The same listing of a Tree, from our readers, with each name encoded back to its bytes. */
async function treeListing(tree: Tree): Promise<string[]> {
  const out: string[] = [];
  for (const { path, node } of tree.walk()) {
    if (path === '' || path === 'lost+found') continue;
    const hex = Buffer.from(nameBytes(path)).toString('hex');
    if (node.kind === 'dir') out.push(`${hex} dir`);
    else if (node.kind === 'symlink') out.push(`${hex} -> ${Buffer.from(nameBytes(node.target)).toString('hex')}`);
    else if (node.kind === 'file') out.push(`${hex} = ${JSON.stringify(Buffer.from(await readContent(node.content)).toString('latin1'))}`);
    else out.push(`${hex} ${node.kind}`);
  }
  return out;
}

async function readWithUs(image: string): Promise<{ listing: string[]; warnings: string[] }> {
  const warnings: string[] = [];
  const opened = await openTree(image, { warn: (m) => warnings.push(m), xattrs: false });
  try {
    return { listing: await treeListing(opened.tree), warnings };
  } finally {
    await opened.close();
  }
}

interface Format {
  name: string;
  tools: string[];
  /** Makes `image` from `src` with the reference tool. */
  make(src: string, image: string): void;
  /** Extracts `image` into the new directory `out` with the reference tool. */
  extract(image: string, out: string): void;
}

const FORMATS: Format[] = [
  {
    name: 'tar (GNU format)',
    tools: ['tar'],
    make: (src, image) => run('tar', ['--format=gnu', '--sort=name', '-cf', image, '-C', src, '.']),
    extract: (image, out) => (mkdirSync(out), run('tar', ['-xf', image, '-C', out])),
  },
  {
    name: 'tar (pax format)',
    tools: ['tar'],
    make: (src, image) => run('tar', ['--format=pax', '--sort=name', '-cf', image, '-C', src, '.']),
    extract: (image, out) => (mkdirSync(out), run('tar', ['-xf', image, '-C', out])),
  },
  {
    // bsdtar marks such names with `hdrcharset=BINARY` (and complains that it cannot translate them)
    name: 'tar (bsdtar pax, hdrcharset=BINARY)',
    tools: ['bsdtar', 'tar'],
    make: (src, image) => {
      run('bsdtar', ['--format=pax', '-cf', image, '-C', src, '.'], { allowFail: true });
      assert.match(readFileSync(image, 'latin1'), /hdrcharset=BINARY/);
    },
    extract: (image, out) => (mkdirSync(out), run('tar', ['-xf', image, '-C', out])),
  },
  {
    name: 'cpio newc',
    tools: ['cpio', 'find'],
    make: (src, image) => writeFileSync(image, run('sh', ['-c', 'cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio -0 -o -H newc --quiet', 'sh', src]).stdout),
    extract: (image, out) => (mkdirSync(out), run('cpio', ['-idm', '--quiet'], { cwd: out, input: readFileSync(image) })),
  },
  {
    name: 'squashfs',
    tools: ['mksquashfs', 'unsquashfs'],
    make: (src, image) => run('mksquashfs', [src, image, '-noappend', '-no-xattrs', '-quiet', '-no-progress']),
    extract: (image, out) => run('unsquashfs', ['-no-xattrs', '-q', '-n', '-d', out, image]),
  },
  {
    name: 'ext4',
    tools: ['mke2fs', 'debugfs'],
    make: (src, image) => run('mke2fs', ['-F', '-q', '-t', 'ext4', '-d', src, image, '4M']),
    extract: (image, out) => (mkdirSync(out), run('debugfs', ['-R', `rdump / ${out}`, image])),
  },
  {
    name: 'iso9660 (Rock Ridge)',
    tools: ['xorriso'],
    make: (src, image) => run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-o', image, src]),
    extract: (image, out) => run('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', '/', out]),
  },
];

for (const format of FORMATS) {
  test(`${format.name}: the reference tool's image reads with every name's exact bytes, as the tool extracts it`, async (t) => {
    if (!requireTool(t, ...format.tools)) return;
    const dir = tempDir(t);
    const src = join(dir, 'src');
    makeSource(src);
    const expected = diskListing(src);
    assert.equal(expected.length, FILES.length + DIRS.length + LINKS.length);
    const image = join(dir, 'image');
    format.make(src, image);
    format.extract(image, join(dir, 'out'));
    assert.deepEqual(diskListing(join(dir, 'out')), expected, 'the reference tool keeps the names');
    const ours = await readWithUs(image);
    assert.deepEqual(ours.listing, expected);
    assert.deepEqual(ours.warnings, []);
  });
}

const WRITERS: Array<{ ext: string; format: string; args?: string[] }> = [
  { ext: 'tar', format: 'tar (GNU format)' },
  { ext: 'tar', format: 'tar (pax format)', args: ['--tar-format', 'pax'] },
  { ext: 'tar', format: 'tar (pax format)', args: ['--tar-format', 'ustar'] },
  { ext: 'cpio', format: 'cpio newc' },
  { ext: 'sqfs', format: 'squashfs' },
  { ext: 'ext4', format: 'ext4' },
  { ext: 'iso', format: 'iso9660 (Rock Ridge)' },
];

for (const { ext, format: formatName, args = [] } of WRITERS) {
  const format = FORMATS.find((f) => f.name === formatName)!;
  test(`pack DIR -o x.${ext} ${args.join(' ')} keeps every name byte for byte (extracted by ${format.tools[0]})`, async (t) => {
    if (!requireTool(t, ...format.tools)) return;
    const dir = tempDir(t);
    const src = join(dir, 'src');
    makeSource(src);
    const out = join(dir, `x.${ext}`);
    const r = runCli(['pack', src, '-o', out, '--no-xattrs', ...args], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    assert.equal(r.status, 0, r.stderr);
    if (ext === 'iso') assert.match(r.stderr, /^reprimage: warning: caf\\351 \(and 6 more\): name is not UTF-8; its Joliet name has "_" for those bytes/);
    else assert.equal(r.stderr, '');
    format.extract(out, join(dir, 'out'));
    assert.deepEqual(diskListing(join(dir, 'out')), diskListing(src));
    assert.deepEqual((await readWithUs(out)).listing, diskListing(src));
    if (ext === 'sqfs') {
      // the kernel looks names up in a sorted directory: our order must be mksquashfs's (strcmp)
      const theirs = join(dir, 'theirs.sqfs');
      format.make(src, theirs);
      const order = (image: string) => run('unsquashfs', ['-ls', '-d', '', image]).stdout.toString('hex');
      assert.equal(order(out), order(theirs));
    }
    if (ext === 'ext4' && requireTool(t, 'e2fsck')) run('e2fsck', ['-fn', out]); // htree hashes of the bytes
  });
}

test('tar -> squashfs -> tar keeps the names (as GNU tar extracts them)', async (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeSource(src);
  const first = join(dir, 'first.tar');
  run('tar', ['--format=gnu', '-cf', first, '-C', src, '.']);
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  for (const [from, to] of [[first, join(dir, 'mid.sqfs')], [join(dir, 'mid.sqfs'), join(dir, 'last.tar')]] as const) {
    const r = runCli(['pack', from, '-o', to], { env });
    assert.equal(r.status, 0, r.stderr);
  }
  mkdirSync(join(dir, 'out'));
  run('tar', ['-xf', join(dir, 'last.tar'), '-C', join(dir, 'out')]);
  assert.deepEqual(diskListing(join(dir, 'out')), diskListing(src));
});

test('pack DIR -o x.fat refuses a name that is not UTF-8, naming it escaped', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(b(src, '/caf', [0xe9]), 'x');
  const r = runCli(['pack', src, '-o', join(dir, 'x.fat'), '--no-xattrs'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'reprimage: caf\\351: the name is not UTF-8 (byte \\351), and FAT long names are UTF-16; FAT cannot store it (skipUnsupported leaves such entries out)\n');
  assert.equal(spawnSync('test', ['-e', join(dir, 'x.fat')]).status, 1, 'no output left behind');
});

test('ls prints names and link targets escaped exactly as GNU tar -tv does, one line per entry', (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeSource(src);
  const archive = join(dir, 'a.tar');
  run('tar', ['--format=gnu', '--sort=name', '-cf', archive, '-C', src, '.']);
  const r = runCli(['ls', archive]);
  assert.equal(r.status, 0, r.stderr);
  const names = (text: string) => text.trimEnd().split('\n').map((line) => line.replace(/^(\S+\s+){5}/, ''));
  // tar -tv prints the names as in the archive (`./` first) and sorts nothing: compare as sets
  const theirs = names(run('tar', ['-tvf', archive], { env: { ...process.env, LC_ALL: 'C.UTF-8' } }).stdout.toString()).filter((n) => n !== './');
  const ours = names(r.stdout).filter((n) => n !== '.');
  assert.equal(ours.length, FILES.length + DIRS.length + LINKS.length);
  assert.deepEqual([...ours].sort(), [...theirs].sort());
  assert.ok(ours.includes('./new\\nline'));
  assert.ok(ours.includes('./lien\\351 -> caf\\351'));
});

test('ls --json keeps the bytes: lone surrogates for bytes that are not UTF-8, and pathHex/targetHex', (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeSource(src);
  const archive = join(dir, 'a.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', src, '.']);
  const r = runCli(['ls', '--json', archive]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /"path": "caf\\udce9"/);
  const entries = (JSON.parse(r.stdout) as { entries: Array<{ path: string; pathHex?: string; target?: string; targetHex?: string }> }).entries;
  const link = entries.find((e) => e.path === 'lien\udce9')!;
  assert.equal(link.pathHex, b('lien', [0xe9]).toString('hex'));
  assert.equal(link.targetHex, b('caf', [0xe9]).toString('hex'));
  assert.equal(entries.find((e) => e.path === 'café')!.pathHex, undefined);
  const withHex = entries.filter((e) => e.pathHex !== undefined).map((e) => Buffer.from(e.pathHex!, 'hex'));
  assert.equal(withHex.length, 7);
});

test('a tar holding one member name twice: the last one is kept, with one warning naming it', (t) => {
  if (!requireTool(t, 'tar')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(b(src, '/caf', [0xe9]), 'first\n');
  const archive = join(dir, 'dup.tar');
  // the same tree twice: `./` (a directory, no warning) and `./caf\351` appear twice
  run('tar', ['-cf', archive, '-C', src, '.']);
  writeFileSync(b(src, '/caf', [0xe9]), 'second\n');
  run('tar', ['-rf', archive, '-C', src, '.']);
  const out = join(dir, 'out.tar');
  const r = runCli(['pack', archive, '-o', out], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, `reprimage: warning: ${archive}: member "caf\\351" appears more than once; the last one is kept, as extraction would\n`);
  mkdirSync(join(dir, 'x'));
  run('tar', ['-xf', out, '-C', join(dir, 'x')]);
  assert.equal(readFileSync(b(dir, '/x/caf', [0xe9]), 'utf8'), 'second\n');
});

test('a cpio archive holding one name twice warns once; two concatenated archives overlay without a warning', async (t) => {
  if (!requireTool(t, 'cpio')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(b(src, '/caf', [0xe9]), 'x\n');
  writeFileSync(join(src, 'other'), 'y\n');
  const newc = (list: Buffer) => run('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: src, input: list }).stdout;
  const name = b('caf', [0xe9], '\n');
  const twice = join(dir, 'twice.cpio');
  writeFileSync(twice, newc(b(name, name, 'other\n')));
  const warned = await readWithUs(twice);
  assert.deepEqual(warned.warnings, [`${twice}: entry "caf\\351" appears more than once; the last one is kept, as extraction would`]);
  assert.equal(warned.listing.length, 2);
  const overlay = join(dir, 'overlay.cpio');
  writeFileSync(overlay, Buffer.concat([newc(b(name, 'other\n')), newc(name)]));
  const quiet = await readWithUs(overlay);
  assert.deepEqual(quiet.warnings, []);
  assert.equal(quiet.listing.length, 2);
});

test('ar and zip members (read for diff) keep names that are not UTF-8, as ar t and zipinfo -1 list them', async (t) => {
  if (!requireTool(t, 'ar', 'zip', 'zipinfo')) return;
  const { readArMembers } = await import('../../src/formats/ar/index.js');
  const { openZip } = await import('../../src/formats/zip/index.js');
  const { openFileSource } = await import('../../src/io/source.js');
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  // long names go through GNU ar's `//` table, whose offsets count bytes
  for (const name of [b('caf', [0xc3, 0xa9], '-a-long-member-name'), b('caf', [0xe9], '-a-long-member-name'), b('caf', [0xe9])]) writeFileSync(b(src, '/', name), 'x');
  const env = { ...process.env, LC_ALL: 'C' };
  run('sh', ['-c', 'cd "$1" && ar rc ../t.a * && zip -q ../t.zip *', 'sh', src], { env });
  const lines = (out: Buffer) => out.toString('hex').split('0a').filter((l) => l !== '');
  const names = async <T>(path: string, read: (s: Awaited<ReturnType<typeof openFileSource>>) => Promise<T[]>, nameOf: (m: T) => string) => {
    const source = await openFileSource(path);
    try {
      return (await read(source)).map((m) => Buffer.from(nameBytes(nameOf(m))).toString('hex'));
    } finally {
      await source.close();
    }
  };
  const arNames = await names(join(dir, 't.a'), readArMembers, (m) => m.name);
  assert.deepEqual(arNames.filter((n) => n !== Buffer.from('//').toString('hex')), lines(run('ar', ['t', join(dir, 't.a')]).stdout));
  const zipNames = await names(join(dir, 't.zip'), async (s) => (await openZip(s)).entries, (e) => e.name);
  assert.deepEqual(zipNames, lines(run('zipinfo', ['-1', join(dir, 't.zip')]).stdout));
  assert.equal(new Set(zipNames).size, 3);
});
