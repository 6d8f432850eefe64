// Unit tests of the differ: unified diffs, the engine on archives written by our own writers
// (tar, cpio with a gzip segment, gzip), fallbacks for corrupt input, presenters, options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Meta } from '../../src/tree/tree.js';
import { writeTar } from '../../src/formats/tar/index.js';
import { writeCpio } from '../../src/formats/cpio/index.js';
import { gzipBytes } from '../../src/compress/gzip.js';
import { diffBlobs, type DiffOptions } from '../../src/diff/engine.js';
import { Difference } from '../../src/diff/difference.js';
import { editScript, unifiedDiff } from '../../src/diff/unified.js';
import { contentBlob, sameBytes } from '../../src/diff/blob.js';
import { renderText } from '../../src/diff/presenters/text.js';
import { renderJson, toJson } from '../../src/diff/presenters/json.js';
import { renderMarkdown } from '../../src/diff/presenters/markdown.js';
import { renderHtml } from '../../src/diff/presenters/html.js';
import { formatMode, formatTime, parseMetadataClasses } from '../../src/diff/metadata.js';
import { summarize } from '../../src/diff/summary.js';
import { hexRow } from '../../src/diff/comparators/binary.js';
import { decompressedName } from '../../src/diff/comparators/compressed.js';
import { ReprimageError } from '../../src/errors.js';
import { LATE_BUILD_TIME } from '../helpers/sample-tree.js';

const enc = (s: string) => new TextEncoder().encode(s);

function sampleTree(changes: { mtime?: number; byte?: boolean; extra?: boolean; drop?: boolean } = {}): Tree {
  const t = new Tree(newDir({ mtime: { sec: 100, nsec: 0 } }));
  const meta = (m: Partial<Meta> = {}) => ({ mode: 0o644, uid: 0, gid: 0, mtime: { sec: 1000, nsec: 0 }, xattrs: new Map(), ...m });
  t.set('etc', { kind: 'dir', ...meta({ mode: 0o755 }), children: new Map() });
  t.set('etc/hostname', { kind: 'file', ...meta({ mtime: { sec: changes.mtime ?? 1000, nsec: 0 } }), content: bytesContent(enc('box\n')) });
  t.set('etc/shadow', { kind: 'file', ...meta({ mode: 0o640 }), content: bytesContent(enc(changes.byte ? 'root:!:19000::::::\n' : 'root:*:19000::::::\n')) });
  t.set('bin', { kind: 'dir', ...meta({ mode: 0o755 }), children: new Map() });
  t.set('bin/sh', { kind: 'symlink', ...meta({ mode: 0o777 }), target: 'dash' });
  if (!changes.drop) t.set('bin/dash', { kind: 'file', ...meta({ mode: 0o755 }), content: bytesContent(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3])) });
  if (changes.extra) t.set('etc/new', { kind: 'file', ...meta(), content: bytesContent(enc('new\n')) });
  return t;
}

async function tarOf(tree: Tree): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeTar(tree, sink, { format: 'gnu', buildTime: LATE_BUILD_TIME });
  return sink.bytes();
}

async function cpioOf(tree: Tree): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME });
  return sink.bytes();
}

function blobOf(bytes: Uint8Array, name: string) {
  return { name, blob: contentBlob(bytesContent(bytes, name), name) };
}

async function diff(a: Uint8Array, b: Uint8Array, options: DiffOptions = {}, names: [string, string] = ['a', 'b']): Promise<Difference | undefined> {
  return diffBlobs(blobOf(a, names[0]), blobOf(b, names[1]), options);
}

/** Every node of the tree, depth first. */
function* nodes(d: Difference): Generator<Difference> {
  yield d;
  for (const c of d.details) yield* nodes(c);
}

/** Whole paths the report names: member nodes, and members a file list names as differing in metadata only. */
function memberPaths(d: Difference): string[] {
  return [...nodes(d)].flatMap((n) => [n.path1, n.path2, ...(n.entries ?? []).flatMap((e) => [e.path1, e.path2])]).filter((p): p is string => p !== undefined);
}

function allComments(d: Difference): string[] {
  return [...nodes(d)].flatMap((n) => n.comments);
}

test('unified diff: the format of diff -u without its header', () => {
  const a = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
  const b = ['one', 'two', 'THREE', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven'];
  assert.equal(
    unifiedDiff(a, b),
    ['@@ -1,6 +1,6 @@', ' one', ' two', '-three', '+THREE', ' four', ' five', ' six', '@@ -8,3 +8,4 @@', ' eight', ' nine', ' ten', '+eleven', ''].join('\n'),
  );
  assert.equal(unifiedDiff(['x'], ['x']), '');
  assert.equal(unifiedDiff([], ['a']), '@@ -0,0 +1 @@\n+a\n');
  assert.equal(unifiedDiff(['a'], []), '@@ -1 +0,0 @@\n-a\n');
});

test('unified diff: cut at maxLines with a note saying how many lines were left out', () => {
  const a = Array.from({ length: 100 }, (_, i) => `line ${i}`);
  const b = a.map((l) => `${l}!`);
  const text = unifiedDiff(a, b, { maxLines: 10 });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 11);
  assert.match(lines[10]!, /^\[ 191 lines left out: over the limit of 10 lines/);
});

test('edit script: applying it turns a into b, and it is as short as an LCS allows (fast-check)', () => {
  const lcs = (a: string[], b: string[]) => {
    const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    return dp[0]![0]!;
  };
  const line = fc.constantFrom('a', 'b', 'c', 'd');
  fc.assert(
    fc.property(fc.array(line, { maxLength: 30 }), fc.array(line, { maxLength: 30 }), (a, b) => {
      const ops = editScript(a, b, 2000);
      const out: string[] = [];
      let i = 0;
      let j = 0;
      for (const op of ops) {
        if (op === 0) {
          assert.equal(a[i], b[j]);
          out.push(a[i++]!);
          j++;
        } else if (op === 1) i++;
        else out.push(b[j++]!);
      }
      assert.deepEqual(out, b);
      assert.equal(i, a.length);
      assert.equal(ops.filter((o) => o !== 0).length, a.length + b.length - 2 * lcs(a, b));
    }),
    { numRuns: 300 },
  );
});

test('edit script: past maxEdits it still gives a correct (longer) script', () => {
  const a = Array.from({ length: 50 }, (_, i) => `a${i}`);
  const b = Array.from({ length: 50 }, (_, i) => `b${i}`);
  const ops = editScript(['same', ...a, 'end'], ['same', ...b, 'end'], 10);
  assert.equal(ops.filter((o) => o === 1).length, 50);
  assert.equal(ops.filter((o) => o === 2).length, 50);
  assert.equal(ops[0], 0);
  assert.equal(ops[ops.length - 1], 0);
});

test('sameBytes compares across different chunk boundaries and stops at the first difference', async () => {
  const data = new Uint8Array(10000).map((_, i) => i * 7);
  const chunked = (bytes: Uint8Array, step: number) => ({
    size: bytes.length,
    origin: 'x',
    async *chunks() {
      for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, at + step);
    },
  });
  assert.equal(await sameBytes(contentBlob(chunked(data, 333), 'a'), contentBlob(chunked(data, 1000), 'b')), true);
  const other = data.slice();
  other[9999] = other[9999]! ^ 1;
  assert.equal(await sameBytes(contentBlob(chunked(data, 333), 'a'), contentBlob(chunked(other, 4096), 'b')), false);
  assert.equal(await sameBytes(contentBlob(chunked(data, 333), 'a'), contentBlob(chunked(data.subarray(1), 4096), 'b')), false);
});

test('identical archives: no difference', async () => {
  const a = await tarOf(sampleTree());
  assert.equal(await diff(a, a.slice()), undefined);
});

test('tar pair differing in one mtime: a file list naming exactly that member, no node of its own', async () => {
  const d = await diff(await tarOf(sampleTree()), await tarOf(sampleTree({ mtime: 2000 })), {}, ['a.tar', 'b.tar']);
  assert.ok(d);
  assert.deepEqual(d.details.map((c) => c.source1), ['file list']);
  const list = d.details[0]!;
  assert.deepEqual(list.comments, ['1 entry differs only in mtime']);
  assert.deepEqual(list.entries, [{ kind: 'metadata', fields: ['mtime'], path1: 'a.tar ▸ etc/hostname', path2: 'b.tar ▸ etc/hostname', size1: 4, size2: 4 }]);
  assert.match(list.unifiedDiff!, /^--rw-r--r-- 0\/0 +4 1970-01-01T00:16:40Z \.\/etc\/hostname\n\+-rw-r--r-- 0\/0 +4 1970-01-01T00:33:20Z \.\/etc\/hostname$/m);
  assert.deepEqual(allComments(d), ['1 entry differs only in mtime']);
});

test('many members differing in metadata only are aggregated, by field', async () => {
  const big = (mtime: number, mode: number) => {
    const t = sampleTree();
    for (let i = 0; i < 40; i++) t.set(`etc/f${i}`, { kind: 'file', mode: i === 0 ? mode : 0o644, uid: 0, gid: 0, mtime: { sec: i < 30 ? mtime : 5, nsec: 0 }, xattrs: new Map(), content: bytesContent(enc('x')) });
    return tarOf(t);
  };
  const d = await diff(await big(10, 0o644), await big(20, 0o4755), {}, ['a.tar', 'b.tar']);
  assert.ok(d);
  assert.deepEqual(d.details.map((c) => c.source1), ['file list']);
  assert.deepEqual(d.details[0]!.comments, ['29 entries differ only in mtime', '1 entry differs only in mode, mtime']);
  assert.match(d.details[0]!.unifiedDiff!, /\+-rwsr-xr-x 0\/0 +1 1970-01-01T00:00:20Z \.\/etc\/f0\n/);
  const text = renderText(d);
  assert.match(text, /^┄ summary: 0 added, 0 removed, 0 changed in content, 30 changed in metadata only \(mtime 30, mode 1\)$/m);
  assert.ok(text.split('\n').length < 90, text); // one listing line a side, not a block of fields per member
});

test('tar pair differing in one byte of one file: a text diff of that file', async () => {
  const d = await diff(await tarOf(sampleTree()), await tarOf(sampleTree({ byte: true })), {}, ['a.tar', 'b.tar']);
  assert.ok(d);
  assert.deepEqual(d.details.map((c) => c.path1), ['a.tar ▸ etc/shadow']);
  assert.equal(d.details[0]!.unifiedDiff, '@@ -1 +1 @@\n-root:*:19000::::::\n+root:!:19000::::::\n');
});

test('members present on one side only are named with /dev/null on the other side', async () => {
  const d = await diff(await tarOf(sampleTree({ extra: true })), await tarOf(sampleTree({ drop: true })), {}, ['a.tar', 'b.tar']);
  assert.ok(d);
  const byName = new Map(d.details.map((c) => [`${c.source1} | ${c.source2}`, c]));
  assert.deepEqual([...byName.keys()].sort(), ['./bin/dash | /dev/null', './etc/new | /dev/null', 'file list | file list'].sort());
  assert.equal(byName.get('./etc/new | /dev/null')!.path1, 'a.tar ▸ etc/new');
  assert.deepEqual(byName.get('./bin/dash | /dev/null')!.comments, ['only in a.tar']);
  assert.match(byName.get('./bin/dash | /dev/null')!.unifiedDiff!, /^@@ -1 \+0,0 @@\n--rwxr-xr-x 0\/0 +8 1970-01-01T00:16:40Z \.\/bin\/dash\n$/);
  assert.equal(summarize(d).removed, 2);
});

test('diff(b, a) is the mirror of diff(a, b)', async () => {
  const a = await tarOf(sampleTree({ extra: true, mtime: 5 }));
  const b = await tarOf(sampleTree({ byte: true, drop: true }));
  const ab = await diff(a, b, {}, ['a.tar', 'b.tar']);
  const ba = await diff(b, a, {}, ['b.tar', 'a.tar']);
  assert.ok(ab && ba);
  // comments name the side a member is on, so compare them apart from the rest
  const strip = (d: Difference) => JSON.stringify(toJson(d), (k, v: unknown) => (k === 'comments' ? undefined : v));
  assert.equal(strip(ba), strip(ab.mirror()));
});

test('gzip: header differences and the data inside, reported under the outer name', async () => {
  const ta = await tarOf(sampleTree());
  const tb = await tarOf(sampleTree({ byte: true }));
  const ga = gzipBytes(ta);
  const gb = gzipBytes(tb);
  gb[4] = 1; // MTIME
  const d = await diff(ga, gb, {}, ['a.tar.gz', 'b.tar.gz']);
  assert.ok(d);
  assert.equal(d.details[0]!.source1, 'gzip header');
  assert.match(d.details[0]!.unifiedDiff!, /-mtime: 0 \(not set\)\n\+mtime: 1970-01-01T00:00:01Z \(@1\)/);
  const inner = d.details[1];
  assert.ok(inner);
  assert.equal(inner.source1, 'a.tar');
  assert.equal(inner.source2, 'b.tar');
  assert.deepEqual(memberPaths(inner), ['a.tar.gz ▸ etc/shadow', 'b.tar.gz ▸ etc/shadow']);
});

test('decompressed names drop the suffix, as diffoscope shows them', () => {
  assert.equal(decompressedName('dir/a.tar.gz', 'gzip'), 'a.tar');
  assert.equal(decompressedName('x.tgz', 'gzip'), 'x.tar');
  assert.equal(decompressedName('initrd.img', 'gzip'), 'initrd.img (gzip-decompressed)');
  assert.equal(decompressedName('data.tar.xz', 'xz'), 'data.tar');
});

test('cpio: each segment of a concatenated initramfs is its own member', async () => {
  const micro = new Tree(newDir());
  micro.set('kernel/x86/microcode/GenuineIntel.bin', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 }, xattrs: new Map(), content: bytesContent(enc('ucode')) });
  const first = await cpioOf(micro);
  const build = async (changes: Parameters<typeof sampleTree>[0]) => {
    const main = gzipBytes(await cpioOf(sampleTree(changes)));
    const out = new Uint8Array(first.length + main.length);
    out.set(first);
    out.set(main, first.length);
    return out;
  };
  const d = await diff(await build({}), await build({ mtime: 3000 }), {}, ['a.img', 'b.img']);
  assert.ok(d);
  assert.deepEqual(allComments(d), ['1 entry differs only in mtime']);
  assert.deepEqual(d.details.map((c) => c.path1), ['a.img ▸ segment 2']);
  assert.deepEqual(memberPaths(d.details[0]!), ['a.img ▸ segment 2', 'b.img ▸ segment 2', 'a.img ▸ segment 2 ▸ etc/hostname', 'b.img ▸ segment 2 ▸ etc/hostname']);
  assert.equal(await diff(await build({}), await build({})), undefined);
});

test('a corrupt archive is reported with a comment and compared as bytes, never thrown', async () => {
  const good = await tarOf(sampleTree());
  const bad = good.slice();
  bad[148] = bad[148]! ^ 0x01; // the first header's checksum
  const d = await diff(good, bad, {}, ['good.tar', 'bad.tar']);
  assert.ok(d);
  assert.ok(d.comments.some((c) => /^could not read bad\.tar as tar: .*checksum/.test(c)), d.comments.join('\n'));
  assert.match(d.unifiedDiff!, /^@@ /);
  // a truncated gzip stream inside is a comment too
  const gz = gzipBytes(good);
  const d2 = await diff(gz, gz.subarray(0, gz.length - 20), {}, ['a.gz', 'b.gz']);
  assert.ok(d2);
  assert.ok(allComments(d2).some((c) => c.includes('could not read b.gz as gzip')), allComments(d2).join('\n'));
});

test('fuzz: random byte flips in one side never make the differ throw', async () => {
  const good = gzipBytes(await tarOf(sampleTree()));
  const plain = await tarOf(sampleTree());
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (zip, flips) => {
      const base = zip ? good : plain;
      const bad = base.slice();
      for (const [at, x] of flips) bad[at % bad.length] = bad[at % bad.length]! ^ x;
      const d = await diff(base, bad);
      // two flips of one byte can cancel out: then there is rightly no difference
      assert.equal(d !== undefined, !Buffer.from(bad).equals(Buffer.from(base)));
    }),
    { numRuns: 150 },
  );
});

test('binary files: an xxd-style hex dump diff', async () => {
  assert.equal(hexRow(16, enc('hello\n')), '00000010: 6865 6c6c 6f0a                           hello.');
  const a = new Uint8Array(64).map((_, i) => i);
  const b = a.slice();
  b[40] = 0xff;
  const d = await diff(a, b);
  assert.ok(d);
  assert.match(d.unifiedDiff!, /-00000020: 2021 2223 2425 2627 2829 2a2b 2c2d 2e2f {3}!"#\$%&'\(\)\*\+,-\.\/\n\+00000020: 2021 2223 2425 2627 ff29/);
});

test('large binary files: streamed row-by-row diff that stops at the line limit', async () => {
  const size = 3 << 20;
  const a = new Uint8Array(size);
  const b = new Uint8Array(size);
  b[2 << 20] = 1;
  for (let i = 0; i < 1000; i++) b[(5 << 19) + i * 64] = 2;
  const d = await diff(a, b, { maxDiffLines: 20 });
  assert.ok(d);
  assert.ok(d.unifiedDiff);
  const lines = d.unifiedDiff.trimEnd().split('\n');
  assert.ok(lines.length <= 20);
  assert.equal(lines[0], '@@ -131070,7 +131070,7 @@');
  assert.ok(lines.includes('-00200000: 0000 0000 0000 0000 0000 0000 0000 0000  ................'));
  assert.ok(lines.includes('+00200000: 0100 0000 0000 0000 0000 0000 0000 0000  ................'));
  assert.ok(d.comments.some((c) => c.includes('cut after 20 lines')));
});

test('--exclude leaves members out; --exclude-metadata leaves metadata classes out', async () => {
  const a = await tarOf(sampleTree());
  const b = await tarOf(sampleTree({ mtime: 9, byte: true }));
  const d = await diff(a, b, { exclude: ['shadow'] }, ['a.tar', 'b.tar']);
  assert.ok(d);
  assert.deepEqual(memberPaths(d), ['a.tar', 'b.tar', 'a.tar ▸ etc/hostname', 'b.tar ▸ etc/hostname']);
  // without mtime, the file list has no time column
  const noTimes = await diff(a, b, { excludeMetadata: parseMetadataClasses('mtime') }, ['a.tar', 'b.tar']);
  assert.deepEqual(noTimes?.details.map((c) => c.source1), ['./etc/shadow']);
  assert.equal(await diff(a, b, { exclude: ['etc/shadow'], excludeMetadata: parseMetadataClasses('mtime') }), undefined);
  assert.throws(() => parseMetadataClasses('mtime,colour'), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE');
});

test('metadata formats: modes as ls shows them with octal, times in UTC ISO 8601', () => {
  assert.equal(formatMode(0o100644), '-rw-r--r-- (0644)');
  assert.equal(formatMode(0o644, 'file'), '-rw-r--r-- (0644)');
  assert.equal(formatMode(0o4755, 'file'), '-rwsr-xr-x (4755)');
  assert.equal(formatMode(0o1777, 'dir'), 'drwxrwxrwt (1777)');
  assert.equal(formatMode(0o2644, 'file'), '-rw-r-Sr-- (2644)');
  assert.equal(formatMode(0o120777), 'lrwxrwxrwx (0777)');
  assert.equal(formatTime({ sec: 1700000000, nsec: 0 }), '2023-11-14T22:13:20Z (@1700000000)');
  assert.equal(formatTime({ sec: 1700000000, nsec: 500 }), '2023-11-14T22:13:20.000000500Z (@1700000000.000000500)');
});

test('presenters: text, JSON in diffoscope structure, Markdown, HTML', async () => {
  const d = await diff(await tarOf(sampleTree()), await tarOf(sampleTree({ byte: true, mtime: 7 })), {}, ['a.tar', 'b.tar']);
  assert.ok(d);
  const text = renderText(d);
  assert.equal(
    text,
    [
      '--- a.tar',
      '+++ b.tar',
      '┄ summary: 0 added, 0 removed, 1 changed in content, 1 changed in metadata only (mtime 1)',
      '┄ largest changes first:',
      '┄   etc/shadow (+1 −1 lines, 19 bytes)',
      '├── file list',
      '│ ┄ 1 entry differs only in mtime',
      '│ @@ -3,5 +3,5 @@',
      '│  -rwxr-xr-x 0/0          8 1970-01-01T00:16:40Z ./bin/dash',
      '│  lrwxrwxrwx 0/0          - 1970-01-01T00:16:40Z ./bin/sh -> dash',
      '│  drwxr-xr-x 0/0          - 1970-01-01T00:16:40Z ./etc',
      '│ --rw-r--r-- 0/0          4 1970-01-01T00:16:40Z ./etc/hostname',
      '│ +-rw-r--r-- 0/0          4 1970-01-01T00:00:07Z ./etc/hostname',
      '│  -rw-r----- 0/0         19 1970-01-01T00:16:40Z ./etc/shadow',
      '├── ./etc/shadow',
      '│ @@ -1 +1 @@',
      '│ -root:*:19000::::::',
      '│ +root:!:19000::::::',
      '',
    ].join('\n'),
  );
  assert.ok(renderText(d, { color: true }).includes("\u001b[31m-root:*"));
  assert.match(renderText(d, { maxReportSize: 60 }), /report cut at 60 bytes/);
  const json = JSON.parse(renderJson(d)) as Record<string, unknown>;
  assert.equal(json['diffoscope-json-version'], 1);
  assert.deepEqual(Object.keys(json).slice(0, 4), ['diffoscope-json-version', 'source1', 'source2', 'unified_diff']);
  const details = json.details as Array<Record<string, unknown>>;
  assert.deepEqual(details.map((x) => x.source1), ['file list', './etc/shadow']);
  assert.equal(details[1]!.unified_diff, '@@ -1 +1 @@\n-root:*:19000::::::\n+root:!:19000::::::\n');
  assert.equal(details[1]!.path1, 'a.tar ▸ etc/shadow');
  assert.deepEqual(json.summary, {
    added: 0,
    removed: 0,
    changed_content: 1,
    changed_metadata_only: 1,
    metadata_fields: { mtime: 1 },
    largest: [{ path: 'etc/shadow', kind: 'content', lines_removed: 1, lines_added: 1, lines_cut: 0, size1: 19, size2: 19 }],
  });
  const md = renderMarkdown(d);
  assert.match(md, /^# Comparing `a\.tar` and `b\.tar`\n/);
  assert.match(md, /\*\*Summary:\*\* 0 added, 0 removed, 1 changed in content, 1 changed in metadata only \(mtime 1\)\./);
  assert.match(md, /## `\.\/etc\/shadow`\n\n```diff\n@@ -1 \+1 @@\n-root:\*/);
  const html = renderHtml(d);
  assert.match(html, /<summary[^>]*>.*\.\/etc\/shadow.*<\/summary>/);
  assert.match(html, /<span class="del">-root:\*:19000::::::<\/span>/);
  // side by side, the changed character highlighted; the file list folded, the content open
  assert.match(html, /<td class="del">root:<del>\*<\/del>:19000::::::<\/td><td class="ln">1<\/td><td class="add">root:<ins>!<\/ins>:19000::::::<\/td>/);
  assert.match(html, /<details id="d-\d+" class="meta">.*file list/);
  assert.match(html, /<details id="d-(\d+)" open><summary title="a\.tar ▸ etc\/shadow">\.\/etc\/shadow<span class="size">19 bytes<\/span>/);
  const anchor = /<section id="summary">.*<a href="#(d-\d+)">etc\/shadow<\/a>/.exec(html);
  assert.ok(anchor && html.includes(`<details id="${anchor[1]}" open><summary title="a.tar ▸ etc/shadow">`), 'the summary links to the node');
  assert.doesNotMatch(html, /<script[^>]* src=/);
  assert.doesNotMatch(html, /<(link|img)\b|src="http/);
});
