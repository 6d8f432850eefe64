// `pack`'s .tar.xz, .tar.zst, .cpio.xz and .cpio.zst outputs (issue 18) and the inputs `ls` and
// `pack` now read (issue 18: .deb and zip), checked by the reference tools:
// - xz -t / zstd -t accept each output, and what they decompress is byte for byte the
//   uncompressed .tar or .cpio that pack writes of the same tree; GNU tar lists the .tar.xz and
//   .tar.zst (-J, --zstd) and GNU cpio the .cpio.xz and .cpio.zst as they list the plain ones;
// - several xz blocks and zstd frames (small sizes set for the test) are read by xz, zstd, tar;
// - each output is built twice under a different TZ, umask and worker count: same bytes;
// - a .deb made by dpkg-deb lists as the tar dpkg-deb --fsys-tarfile extracts; a zip made by
//   Info-ZIP lists the names and modes unzip -Z shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { XzSink } from '../../src/compress/xz-sink.js';
import { ZstdSink } from '../../src/compress/zstd-sink.js';
import { FileSink } from '../../src/io/sink.js';
import { runCli, sha256 } from '../helpers/cli.js';
import { materialize, sampleSpec } from '../helpers/sample-tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { open } from 'node:fs/promises';

const EPOCH = 1_650_000_000;
const ENV = { SOURCE_DATE_EPOCH: String(EPOCH) };

function source(dir: string): string {
  const src = join(dir, 'src');
  materialize(sampleSpec(), src, { epoch: EPOCH });
  return src;
}

function pack(src: string, out: string, extra: { env?: Record<string, string>; umask?: number; args?: string[] } = {}): void {
  const r = runCli(['pack', src, '-o', out, ...(extra.args ?? [])], { env: { ...ENV, ...extra.env }, umask: extra.umask });
  assert.equal(r.status, 0, r.stderr);
}

test('tar.xz, tar.zst, cpio.xz, cpio.zst: xz and zstd accept them, decompress to pack\'s plain archive, GNU tar and cpio list them; same bytes under another TZ, umask and worker count', (t) => {
  if (!requireTool(t, 'xz', 'zstd', 'tar', 'cpio')) return;
  const dir = tempDir(t);
  const src = source(dir);
  for (const kind of ['tar', 'cpio'] as const) {
    const plain = join(dir, `x.${kind}`);
    pack(src, plain);
    const listing = (cmd: string) => run('sh', ['-c', cmd]).stdout.toString();
    const plainList = kind === 'tar' ? listing(`tar -tvf ${plain}`) : listing(`cpio -itv --quiet < ${plain}`);
    for (const [codec, tool, tarFlag] of [['xz', 'xz', '-J'], ['zst', 'zstd', '--zstd']] as const) {
      const out = join(dir, `x.${kind}.${codec}`);
      pack(src, out);
      run(tool, ['-t', '-q', out]);
      assert.deepEqual(run(tool, ['-dc', out]).stdout, readFileSync(plain), `${tool} -dc ${out} gives pack's ${kind}`);
      const list = kind === 'tar' ? listing(`tar ${tarFlag} -tvf ${out}`) : listing(`${tool} -dc ${out} | cpio -itv --quiet`);
      assert.equal(list, plainList, `${out} listed`);
      // determinism: another time zone, umask and worker count
      const again = join(dir, `again.${kind}.${codec}`);
      pack(src, again, { env: { TZ: 'Pacific/Kiritimati' }, umask: 0o077, args: ['--workers', '3'] });
      assert.equal(sha256(again), sha256(out), `${out} built twice`);
    }
  }
  // the format named explicitly, to standard output
  const r = runCli(['pack', src, '-o', '-', '--format', 'tar.zst'], { env: ENV });
  assert.equal(r.status, 0, r.stderr);
});

test('several xz blocks in one stream and several zstd frames: xz, zstd and GNU tar read them whole', async (t) => {
  if (!requireTool(t, 'xz', 'zstd', 'tar')) return;
  const dir = tempDir(t);
  const src = source(dir);
  const plain = join(dir, 'x.tar');
  pack(src, plain);
  const data = readFileSync(plain);
  for (const [name, make] of [['x.tar.xz', (s: FileSink) => new XzSink(s, 16384)], ['x.tar.zst', (s: FileSink) => new ZstdSink(s, 16384)]] as const) {
    const fh = await open(join(dir, name), 'w');
    const sink = new FileSink(fh, name);
    const compressing = make(sink);
    await compressing.write(data);
    await compressing.close();
    await fh.close();
  }
  const blocks = run('xz', ['--robot', '-l', join(dir, 'x.tar.xz')]).stdout.toString();
  assert.match(blocks, new RegExp(`^file\\s+1\\s+${Math.ceil(data.length / 16384)}\\s`, 'm'), 'one stream of many blocks');
  assert.deepEqual(run('xz', ['-dc', join(dir, 'x.tar.xz')]).stdout, data);
  assert.deepEqual(run('zstd', ['-dc', join(dir, 'x.tar.zst')]).stdout, data);
  const list = run('tar', ['-tvf', plain]).stdout.toString();
  assert.equal(run('tar', ['-Jtvf', join(dir, 'x.tar.xz')]).stdout.toString(), list);
  assert.equal(run('tar', ['--zstd', '-tvf', join(dir, 'x.tar.zst')]).stdout.toString(), list);
});

test('ls and pack read a .deb made by dpkg-deb (its data.tar) and a zip made by Info-ZIP', (t) => {
  if (!requireTool(t, 'dpkg-deb', 'zip', 'unzip', 'tar')) return;
  const dir = tempDir(t);
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(join(pkg, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'DEBIAN', 'control'), 'Package: t\nVersion: 1\nArchitecture: all\nMaintainer: x <x@example.org>\nDescription: t\n');
  writeFileSync(join(pkg, 'usr', 'bin', 'tool'), '#!/bin/sh\n');
  chmodSync(join(pkg, 'usr', 'bin', 'tool'), 0o755);
  symlinkSync('tool', join(pkg, 'usr', 'bin', 'alias'));
  const deb = join(dir, 't.deb');
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', pkg, deb], { env: { ...process.env, ...ENV } });
  const lines = (text: string) => text.trimEnd().split('\n');
  // tar -tv prints `./usr/` where ls prints `./usr/` too; compare type, mode, owner, size and name
  const fields = (line: string) => {
    const f = line.split(/\s+/);
    return `${f[0]} ${f[1]} ${f[2]} ${f.slice(5).join(' ')}`;
  };
  const want = lines(run('sh', ['-c', `dpkg-deb --fsys-tarfile ${deb} | tar -tv --numeric-owner -f -`]).stdout.toString()).map(fields);
  const ls = runCli(['ls', deb]);
  assert.equal(ls.status, 0, ls.stderr);
  const got = lines(ls.stdout).map((l) => {
    const f = l.split(/\s+/);
    return `${f[0]} ${f[1]} ${f[2]} ${f.slice(5).join(' ')}`;
  });
  assert.deepEqual(got.map((l) => l.replace(/ \.$/, ' ./')).sort(), want.sort());
  const json = JSON.parse(runCli(['ls', '--json', deb]).stdout) as { format: string };
  assert.equal(json.format, 'deb (data.tar.xz: xz ▸ tar)');
  const tar = join(dir, 'from-deb.tar');
  pack(deb, tar);
  assert.deepEqual(lines(run('tar', ['-tf', tar]).stdout.toString()).sort(), lines(run('sh', ['-c', `dpkg-deb --fsys-tarfile ${deb} | tar -tf -`]).stdout.toString()).sort());

  const zipped = join(dir, 'x.zip');
  run('sh', ['-c', `cd ${join(pkg, 'usr')} && zip -q -r -y ${zipped} .`]);
  const zls = runCli(['ls', zipped]);
  assert.equal(zls.status, 0, zls.stderr);
  const byName = new Map(lines(zls.stdout).map((l) => [l.split(/\s+/).slice(5).join(' ').replace(/^\.\//, '').replace(/ -> .*$/, ''), l.split(/\s+/)[0]!]));
  // unzip -Z: permissions, then the name last
  for (const l of lines(run('unzip', ['-Z', zipped]).stdout.toString()).filter((l) => /^[-dl]r/.test(l))) {
    const f = l.split(/\s+/);
    assert.equal(byName.get(f[f.length - 1]!), f[0], `${f[f.length - 1]} has unzip's mode`);
  }
  pack(zipped, join(dir, 'from-zip.tar'));
});
