// The tar writer without external tools: pinned bytes of the sample tree per flavour, exact
// header fields, what ustar refuses, warnings, padding, contents that change size, a 9 GiB
// member through the writer and back through the reader, and the same bytes whatever the
// time zone, umask, locale and directory listing order of the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTar, writeTar, type TarWriteOptions } from '../../src/formats/tar/index.js';
import { BLOCK, RECORD } from '../../src/formats/tar/layout.js';
import { ReprimageError } from '../../src/errors.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { applyPolicy } from '../../src/tree/policy.js';
import { Tree, newMeta } from '../../src/tree/tree.js';
import { LATE_BUILD_TIME, generatedContent, sampleSpec, specToTree, treeListing, type SampleSpec } from '../helpers/sample-tree.js';
import { sparseSource } from './tar-support.js';

const E = 1_600_000_000;

async function tarBytes(tree: Tree, options: Omit<TarWriteOptions, 'buildTime'> & { buildTime?: number }): Promise<Buffer> {
  const sink = new MemorySink();
  await writeTar(tree, sink, { buildTime: LATE_BUILD_TIME, ...options });
  return Buffer.from(sink.bytes());
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ustarSafe = (spec: SampleSpec): SampleSpec => ({ ...spec, entries: spec.entries.filter((e) => !e.path.includes('long')) });

// Pinned: the sha256 of GNU tar 1.34's output for the sample tree made on disk, with
//   tar --sort=name --mtime=@1600000005 --clamp-mtime --owner=0 --group=0 --numeric-owner
//       --format=gnu | --format=ustar | PAX_FLAGS (test/oracle/tar-support.ts)
// (ustar without the 'long' entries); test/oracle/tar-writer.test.ts re-proves it where tar is
// installed. A change here is a change in what we write.
const PINNED: Record<'gnu' | 'pax' | 'ustar', string> = {
  gnu: '05e240abdcaee7d3e25235682e1d510245bcc3d11e7b70366a3c37ed70acbb0c',
  pax: 'f57c036bed0ad4ea174a63f1eac841b8d47ad4037207092358fc83904a19ef74',
  ustar: 'e50547a3efefb6ef88a15caae60eaea847eac29dd5ced6922e012eeb4eb60559',
};

for (const format of ['gnu', 'pax', 'ustar'] as const) {
  test(`${format}: the sample tree gives the pinned bytes`, async () => {
    const spec = format === 'ustar' ? ustarSafe(sampleSpec()) : sampleSpec();
    const tree = specToTree(spec, { epoch: E });
    applyPolicy(tree, { buildTime: E + 5, clampMtime: true, owner: 'root', permissions: 'keep', excludes: [], emptyFiles: [] });
    const bytes = await tarBytes(tree, { format, buildTime: E + 5, warn: () => undefined });
    assert.equal(bytes.length % RECORD, 0);
    assert.equal(sha(bytes), PINNED[format]);
  });
}

function field(b: Uint8Array, at: number, len: number): string {
  return Buffer.from(b.subarray(at, at + len)).toString('latin1');
}

test('header fields as GNU tar writes them: modes, octal widths, checksum, magic, device fields', async () => {
  const tree = new Tree();
  Object.assign(tree.root, newMeta({ mode: 0o755, mtime: { sec: E, nsec: 0 } }));
  tree.set('f', { kind: 'file', ...newMeta({ mode: 0o4755, uid: 1000, gid: 100, mtime: { sec: E, nsec: 0 } }), content: generatedContent(5, [{ offset: 0, text: 'hello' }]) });
  tree.set('null', { kind: 'char', ...newMeta({ mode: 0o666, mtime: { sec: E, nsec: 0 } }), major: 1, minor: 3 });
  const gnu = await tarBytes(tree, { format: 'gnu' });
  const f = gnu.subarray(BLOCK);
  assert.equal(field(f, 0, 4), './f\0');
  assert.equal(field(f, 100, 8), '0004755\0');
  assert.equal(field(f, 108, 16), '0001750\x000000144\0');
  assert.equal(field(f, 124, 24), '00000000005\x0013727410000\0');
  assert.match(field(f, 148, 8), /^[0-7]{6}\0 $/);
  assert.equal(field(f, 156, 1), '0');
  assert.equal(field(f, 257, 8), 'ustar  \0');
  assert.equal(field(f, 265, 64), '\0'.repeat(64), 'no user or group names');
  assert.equal(field(f, 329, 16), '\0'.repeat(16), 'GNU leaves device fields empty for non-devices');
  const dev = gnu.subarray(3 * BLOCK);
  assert.equal(field(dev, 0, 7), './null\0');
  assert.equal(field(dev, 329, 16), '0000001\x000000003\0');
  const pax = await tarBytes(tree, { format: 'pax' });
  assert.equal(field(pax.subarray(BLOCK), 257, 8), 'ustar\x0000');
  assert.equal(field(pax.subarray(BLOCK), 329, 16), '0000000\x000000000\0', 'pax writes device fields for every entry');
  // the archive: root, f + 1 data block, null, two zero blocks, padded to 10240
  assert.equal(gnu.length, RECORD);
  assert.ok(gnu.subarray(4 * BLOCK).every((b) => b === 0));
});

test("namePrefix '' leaves the root out and names entries without './'", async () => {
  const tree = specToTree({ entries: [{ type: 'dir', path: 'd' }, { type: 'file', path: 'd/f', content: 'x' }] }, { epoch: E });
  const bytes = await tarBytes(tree, { format: 'gnu', namePrefix: '' });
  assert.equal(field(bytes, 0, 3), 'd/\0');
  assert.equal(field(bytes, BLOCK, 4), 'd/f\0');
});

test('ustar refuses what it cannot hold, naming the entry and why', async () => {
  const cases: Array<[SampleSpec, RegExp]> = [
    [{ entries: [{ type: 'file', path: 'q'.repeat(120), content: '' }] }, /^\.\/q+: name too long for ustar/],
    [{ entries: [{ type: 'symlink', path: 'l', target: 't'.repeat(101) }] }, /^\.\/l: link target longer than 100 bytes/],
    [{ entries: [{ type: 'file', path: 'u', content: '', uid: 2 ** 21 }] }, /^\.\/u: uid 2097152 does not fit a ustar header/],
    [{ entries: [{ type: 'file', path: 'old', content: '', mtime: -1 }] }, /^\.\/old: mtime -1 does not fit/],
  ];
  for (const [spec, message] of cases) {
    await assert.rejects(tarBytes(specToTree(spec, { epoch: E }), { format: 'ustar' }), (e: unknown) => e instanceof ReprimageError && e.code === 'UNSUPPORTED' && message.test(e.message));
  }
  // a file over 8 GiB too, before any of its bytes are read
  const big = specToTree({ entries: [{ type: 'file', path: 'big', content: { size: 8 * 2 ** 30 } }] }, { epoch: E });
  await assert.rejects(tarBytes(big, { format: 'ustar' }), /\.\/big: size 8589934592 does not fit a ustar header/);
});

test('warnings: a socket is skipped, xattrs in gnu/ustar are dropped once', async () => {
  const tree = specToTree({ entries: [{ type: 'file', path: 'a', content: '', xattrs: { 'user.a': '1' } }, { type: 'file', path: 'b', content: '', xattrs: { 'user.b': '1' } }] }, { epoch: E });
  tree.set('s', { kind: 'socket', ...newMeta() });
  const warnings: string[] = [];
  const withSocket = await tarBytes(tree, { format: 'gnu', warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, ['the gnu tar format cannot hold extended attributes (first: ./a); use --tar-format pax to keep them', './s: socket ignored']);
  tree.remove('s');
  assert.ok(withSocket.equals(await tarBytes(tree, { format: 'gnu' })));
});

test('contents that grow or shrink while being archived are an IO error naming their origin', async () => {
  for (const [actual, word] of [[3, 'shrank'], [7, 'grew']] as const) {
    const tree = new Tree();
    tree.set('f', { kind: 'file', ...newMeta(), content: { size: 5, origin: '/src/f', chunks: async function* () { yield new Uint8Array(actual); } } });
    await assert.rejects(tarBytes(tree, { format: 'gnu' }), (e: unknown) => e instanceof ReprimageError && e.code === 'IO' && e.message.startsWith('/src/f: ') && e.message.includes(word));
  }
});

test('a 9 GiB member: written with a base-256 size (gnu) or a size record (pax), read back lazily', async () => {
  const size = 9 * 2 ** 30 + 1;
  for (const format of ['gnu', 'pax'] as const) {
    const tree = specToTree({ entries: [{ type: 'file', path: 'huge', content: { size, regions: [{ offset: size - 4, text: 'end!' }] } }] }, { epoch: E });
    // keep the headers and the last records; everything between is zeros by construction
    const headLen = 4 * BLOCK;
    const tailLen = 3 * RECORD;
    const head = new Uint8Array(headLen);
    let recent: Uint8Array[] = [];
    let recentLen = 0;
    let position = 0;
    const sink = {
      get position() {
        return position;
      },
      async write(b: Uint8Array) {
        if (position < headLen) head.set(b.subarray(0, headLen - position), position);
        position += b.length;
        recent.push(b); // no copy: the writer never reuses a buffer it handed over
        recentLen += b.length;
        while (recent.length > 1 && recentLen - recent[0]!.length >= tailLen) recentLen -= recent.shift()!.length;
      },
      async writeAt() {
        throw new Error('no seek');
      },
      async flush() {},
    };
    await writeTar(tree, sink, { format, buildTime: LATE_BUILD_TIME });
    assert.equal(position % RECORD, 0);
    const tailBytes = Buffer.concat(recent).subarray(-tailLen);
    recent = [];
    assert.ok(tailBytes.includes(Buffer.from('end!')), format);
    if (format === 'gnu') assert.equal(head[BLOCK + 124], 0x80, 'base-256 size');
    else assert.ok(Buffer.from(head).includes(Buffer.from(`size=${size}\n`)), 'pax size record');
    const back = await loadTar(sparseSource(head, position, tailBytes));
    const node = back.get('huge');
    assert.ok(node?.kind === 'file', format);
    assert.equal(node.content.size, size, format);
  }
});

test('Tree → tar → Tree keeps everything each flavour holds (sample tree)', async () => {
  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    const spec = format === 'ustar' ? ustarSafe(sampleSpec()) : sampleSpec();
    const tree = specToTree(spec, { epoch: E });
    const bytes = await tarBytes(tree, { format, warn: () => undefined });
    const want = await treeListing(tree);
    if (format !== 'pax') for (const e of want) {
      delete e.xattrs;
      e.mtime = e.mtime.split('.')[0]!;
    }
    assert.deepEqual(await treeListing(await loadTar(bufferSource(bytes, `${format}.tar`))), want, format);
  }
});

test('same bytes under any time zone, umask, locale and directory listing order (child processes)', (t) => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'tar-determinism-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const helpers = new URL('../helpers/sample-tree.js', import.meta.url).href;
  const tar = new URL('../../src/formats/tar/index.js', import.meta.url).href;
  const loadDir = new URL('../../src/tree/load-dir.js', import.meta.url).href;
  const policy = new URL('../../src/tree/policy.js', import.meta.url).href;
  const sink = new URL('../../src/io/sink.js', import.meta.url).href;
  // materialize (entries in spec order or reversed, so the file system lists them differently),
  // load from disk, apply the policy, write: print the sha256 of each flavour
  const script = `
    import { createHash } from 'node:crypto';
    import { sampleSpec, materialize } from '${helpers}';
    import { writeTar } from '${tar}';
    import { loadDirectory } from '${loadDir}';
    import { applyPolicy } from '${policy}';
    import { MemorySink } from '${sink}';
    const [where, reverse] = process.argv.slice(1);
    const spec = sampleSpec();
    if (reverse === 'yes') spec.entries = spec.entries.filter((e) => e.type !== 'hardlink').reverse().concat(spec.entries.filter((e) => e.type === 'hardlink'));
    materialize(spec, where, { epoch: ${E} });
    const out = [];
    for (const format of ['gnu', 'pax']) {
      const tree = await loadDirectory(where);
      applyPolicy(tree, { buildTime: ${E + 100}, clampMtime: true, owner: 'root', permissions: 'keep', excludes: [], emptyFiles: [] });
      const s = new MemorySink();
      await writeTar(tree, s, { format, buildTime: ${E + 100} });
      out.push(format + ' ' + createHash('sha256').update(s.bytes()).digest('hex'));
    }
    console.log(out.join('\\n'));
  `;
  const runIn = (name: string, env: Record<string, string>, umask: string, reverse: boolean) => {
    const r = spawnSync('sh', ['-c', `umask ${umask} && exec "$0" --input-type=module -e "$1" "$2" "$3"`, process.execPath, script, join(dir, name), reverse ? 'yes' : 'no'], {
      cwd: here,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const a = runIn('a', { TZ: 'UTC', LANG: 'C' }, '022', false);
  const b = runIn('b', { TZ: 'Pacific/Kiritimati', LANG: 'de_DE.UTF-8', LC_ALL: 'tr_TR.UTF-8' }, '077', true);
  assert.match(a, /^gnu [0-9a-f]{64}\npax [0-9a-f]{64}$/);
  assert.equal(b, a);
});
