// Concatenated initramfs images whose segments use different codecs, and zstd streams that start
// with (or hold) skippable frames, checked against the reference decompressors: each segment is
// compressed by its tool (gzip, xz, zstd, pzstd, lz4 frame), and what `reprimage ls` reads of
// the whole file must equal what it reads of the concatenation of `TOOL -dc` of every segment
// (plain cpio archives one after another, as the kernel applies them). A pzstd-compressed tar is
// compared with `zstd -dc` of it in the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { materialize, pattern, sampleSpec } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const EPOCH = 1_650_000_000;

const CODECS: Record<string, { compress: string[]; decompress: string[]; tool: string }> = {
  plain: { compress: ['cat'], decompress: ['cat'], tool: 'cat' },
  gzip: { compress: ['gzip', '-9n'], decompress: ['gzip', '-dc'], tool: 'gzip' },
  xz: { compress: ['xz', '--check=crc32'], decompress: ['xz', '-dc'], tool: 'xz' },
  zstd: { compress: ['zstd', '-q', '-c'], decompress: ['zstd', '-dc'], tool: 'zstd' },
  pzstd: { compress: ['pzstd', '-q', '-c', '-p', '2'], decompress: ['zstd', '-dc'], tool: 'pzstd' },
  lz4: { compress: ['lz4', '-q', '-c'], decompress: ['lz4', '-dc'], tool: 'lz4' },
};

function pipe(argv: string[], input: Buffer): Buffer {
  return run(argv[0]!, argv.slice(1), { input }).stdout;
}

/** `reprimage ls FILE`, its stderr and exit status. */
function ls(file: string): { out: string; err: string; status: number } {
  const r = runCli(['ls', file]);
  return { out: r.stdout, err: r.stderr, status: r.status };
}

const ORDERS = [
  ['gzip', 'xz'],
  ['xz', 'gzip'],
  ['xz', 'zstd'],
  ['zstd', 'gzip'],
  ['pzstd', 'gzip'],
  ['plain', 'xz', 'gzip'],
  ['xz', 'lz4'],
  ['gzip', 'pzstd', 'xz'],
];

for (const order of ORDERS) {
  test(`initramfs ${order.join(' + ')}: reprimage reads every segment as the tools decompress them`, async (t) => {
    if (!requireTool(t, 'cpio', ...new Set(order.map((c) => CODECS[c]!.tool).filter((c) => c !== 'cat')), 'zstd')) return;
    const dir = tempDir(t, 'reprimage-initramfs-');
    // segment k holds its own files (and one file every segment replaces, as later archives do)
    const segments = order.map((codec, k) => {
      const src = join(dir, `seg${k}`);
      const spec = k === 0 ? sampleSpec() : { entries: [{ type: 'file' as const, path: `extra-${k}/from-${codec}`, content: `segment ${k}\n`.repeat(k * 500) }, { type: 'file' as const, path: 'etc/hostname', content: `replaced by segment ${k}\n` }] };
      materialize(spec, src, { epoch: EPOCH });
      return run('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible', 'sh', src]).stdout;
    });
    const compressed = order.map((codec, k) => pipe(CODECS[codec]!.compress, segments[k]!));
    const img = join(dir, 'initramfs.img');
    writeFileSync(img, Buffer.concat(compressed));
    // the oracle: each segment through its tool's decompressor, concatenated
    const plain = join(dir, 'plain.cpio');
    writeFileSync(plain, Buffer.concat(order.map((codec, k) => pipe(CODECS[codec]!.decompress, compressed[k]!))));

    const ours = ls(img);
    const want = ls(plain);
    assert.equal(want.status, 0, want.err);
    assert.equal(ours.err, '');
    assert.equal(ours.status, 0);
    assert.equal(ours.out, want.out);
    assert.match(ours.out, new RegExp(`extra-${order.length - 1}/from-${order[order.length - 1]}`));
    // and the contents: pack both to tar and compare bytes
    const a = join(dir, 'a.tar');
    const b = join(dir, 'b.tar');
    assert.equal(runCli(['pack', img, '-o', a]).status, 0);
    assert.equal(runCli(['pack', plain, '-o', b]).status, 0);
    assert.equal(run('cmp', [a, b], { allowFail: true }).status, 0, 'the same contents');
  });
}

test('pzstd output (a skippable frame first, one per frame) reads as zstd -dc gives it', async (t) => {
  if (!requireTool(t, 'pzstd', 'zstd', 'tar')) return;
  const dir = tempDir(t, 'reprimage-pzstd-');
  const src = join(dir, 'src');
  const spec = sampleSpec();
  // 5 MB: pzstd -1 cuts its input into 2 MiB jobs, one frame each, each behind a skippable frame
  spec.entries.push({ type: 'file', path: 'data/five-mb', content: pattern(5 * 1024 * 1024, 3) });
  materialize(spec, src, { epoch: EPOCH });
  const tar = join(dir, 'x.tar');
  run('tar', ['--sort=name', '--format=gnu', '-C', src, '-cf', tar, '.']);
  const zst = join(dir, 'x.tar.zst');
  run('pzstd', ['-q', '-p', '2', '-1', tar, '-o', zst]);
  const frames = run('zstd', ['-lv', zst], { allowFail: true }).stdout.toString();
  assert.match(frames, /Skippable Frames: *[2-9]/, frames);
  const plain = join(dir, 'plain.tar');
  writeFileSync(plain, run('zstd', ['-dc', zst]).stdout);
  const ours = ls(zst);
  const want = ls(plain);
  assert.equal(ours.err, '');
  assert.equal(ours.status, 0);
  assert.equal(ours.out, want.out);
  assert.ok(ours.out.split('\n').length > 10);
});

test('diff of two initramfs images that start compressed (xz + gzip) names the changed file in its segment', async (t) => {
  if (!requireTool(t, 'cpio', 'xz', 'gzip')) return;
  const dir = tempDir(t, 'reprimage-initramfs-');
  const images = ['one', 'two'].map((which) => {
    const segments = [0, 1].map((k) => {
      const src = join(dir, `${which}-seg${k}`);
      materialize({ entries: [{ type: 'file', path: `seg${k}/motd`, content: k === 1 ? `hello from ${which}\n` : 'same\n' }] }, src, { epoch: EPOCH });
      return run('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible', 'sh', src]).stdout;
    });
    const img = join(dir, `${which}.img`);
    writeFileSync(img, Buffer.concat([pipe(CODECS.xz!.compress, segments[0]!), pipe(CODECS.gzip!.compress, segments[1]!)]));
    return img;
  });
  const r = runCli(['diff', images[0]!, images[1]!]);
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stdout, /could not read/);
  assert.match(r.stdout, /seg1\/motd/);
  assert.match(r.stdout, /-hello from one/);
  assert.match(r.stdout, /\+hello from two/);
});
