// The fuzz harness (fuzz/, docs/fuzzing.md) in the unit tier: the coverage instrumentation counts
// branches, mutation is repeatable, every target reads its seeds (images made by the reference
// tools) and a few hundred mutations of them with nothing but ReprimageError escaping, and every
// input the fuzzer ever found (test/fixtures/fuzz/<target>/) now gives a ReprimageError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { instrumentSource } from '../../fuzz/instrument.js';
import { Mutator, Random } from '../../fuzz/mutate.js';
import { TARGETS, prepare } from '../../fuzz/targets.js';
import { ReprimageError } from '../../src/errors.js';

/** The repository root, found upwards from the compiled test. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'fuzz', 'make-seeds.sh'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}
const root = repoRoot();
const lib = join(root, 'dist', 'src');

function seedsOf(paths: string[], target: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else if (!p.endsWith('.md') && !p.endsWith('.sh') && !p.endsWith('.txt')) {
      const bytes = readFileSync(p);
      out.push(p.endsWith('.gz') && target !== 'gzip' ? gunzipSync(bytes) : bytes);
    }
  };
  for (const p of paths) walk(resolve(root, p));
  return out;
}

test('instrumented code counts each branch it takes', () => {
  const { code, next } = instrumentSource('export function f(x) { if (x > 1) { return x ? 1 : 2; } return x && 3; }', 'f.js', 0);
  assert.ok(next >= 6, `${next} counters`);
  const counters = new Uint32Array(next);
  const body = code.replace(/^const __fuzzCounters = .*\n/, '').replace('export function', 'function');
  const f = new Function('__fuzzCounters', `${body}; return f;`)(counters) as (x: number) => unknown;
  f(5);
  const high = [...counters];
  counters.fill(0);
  f(0);
  const low = [...counters];
  assert.notDeepEqual(high, low, 'the two paths reach different counters');
  assert.ok(high.some((n, i) => n > 0 && low[i] === 0) && low.some((n, i) => n > 0 && high[i] === 0));
});

test('mutation is a fixed function of the seed', () => {
  const base = new Uint8Array(600).map((_, i) => i & 0xff);
  const run = (seed: number) => {
    const m = new Mutator(new Random(seed), 4096);
    return Array.from({ length: 50 }, () => Buffer.from(m.mutate(base, base)).toString('hex'));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
  assert.ok(run(7).every((h) => h.length <= 8192));
});

for (const target of TARGETS) {
  test(`fuzz target ${target.name}: seeds read, mutations give only ReprimageError`, async () => {
    const run = await prepare(target, lib);
    const seeds = seedsOf(target.seeds, target.name).filter((s) => s.length <= 1 << 20);
    assert.ok(seeds.length > 0, 'has seeds');
    let clean = 0;
    for (const s of seeds) {
      try {
        await run(s);
        clean++;
      } catch (e) {
        assert.ok(e instanceof ReprimageError, `a seed gave ${String(e)}`);
      }
    }
    assert.ok(clean > 0, 'at least one seed (an input made by the reference tools) reads without error');
    const mutator = new Mutator(new Random(1), 1 << 20);
    for (let i = 0; i < 150; i++) {
      const input = mutator.mutate(seeds[i % seeds.length]!, seeds[(i * 7) % seeds.length]!);
      try {
        await run(input);
      } catch (e) {
        assert.ok(e instanceof ReprimageError, `mutation ${i} gave ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });
}

// Every input a fuzz run found: the reader now refuses it with a ReprimageError, or, for a file
// whose name has `.reads.` (a hang fixed by reading what the format allows), settles and reads.
const findings = join(root, 'test', 'fixtures', 'fuzz');
for (const name of existsSync(findings) ? readdirSync(findings).sort() : []) {
  const dir = join(findings, name);
  if (!statSync(dir).isDirectory()) continue;
  const target = TARGETS.find((t) => t.name === name);
  for (const file of readdirSync(dir).sort()) {
    test(`fuzz finding ${name}/${file}`, async () => {
      assert.ok(target, `no fuzz target ${name}`);
      const run = await prepare(target, lib);
      const input = readFileSync(join(dir, file));
      if (file.includes('.reads.')) {
        await run(input);
        return;
      }
      await assert.rejects(run(input), (e: unknown) => {
        assert.ok(e instanceof ReprimageError, `escaped: ${e instanceof Error ? e.stack : String(e)}`);
        return true;
      });
    });
  }
}

test('an lzma stream followed by more input ends at its declared end (it used to leave the read pending forever)', async () => {
  const input = readFileSync(join(findings, 'lzma', 'declared-empty-then-more.reads.lzma'));
  assert.equal(input.readBigUInt64LE(5), 0n, 'the header declares 0 bytes');
  const { decompressChunks } = await import('../../src/compress/decompress.js');
  // the split the fuzz target made: a second chunk arriving after the decoder's end
  const chunks = (async function* () {
    yield input.subarray(0, 50);
    yield input.subarray(50);
  })();
  let total = 0;
  for await (const c of decompressChunks(chunks, 'lzma', 'x.lzma')) total += c.length;
  assert.equal(total, 0);
  // and a whole stream still decodes in full, split the same way
  const seed = readFileSync(join(root, 'fuzz', 'seeds', 'lzma', 'text.lzma'));
  const parts = (async function* () {
    yield seed.subarray(0, 50);
    yield seed.subarray(50);
  })();
  const out: Uint8Array[] = [];
  for await (const c of decompressChunks(parts, 'lzma', 'text.lzma')) out.push(c);
  const text = Buffer.concat(out).toString();
  assert.ok(text.startsWith('1\n2\n3\n') && text.endsWith('\n1500\n'), 'seq 1 1500');
});

test('a cpio whose later segment is bad closes the spooled earlier ones (they leaked one descriptor each)', async () => {
  const { loadCpio, loadCpioSegments } = await import('../../src/formats/cpio/index.js');
  const { bufferSource } = await import('../../src/io/source.js');
  const input = readFileSync(join(findings, 'initramfs', 'gzip-segment-then-junk.img'));
  const open = (): number => readdirSync('/proc/self/fd').length;
  // counted right after each call: a leaked descriptor is closed only when garbage is collected
  for (let i = 0; i < 5; i++) {
    let before = open();
    await assert.rejects(loadCpio(bufferSource(input, 'bad.img')), /bad\.img: corrupt cpio archive at byte \d+: data is neither a cpio archive nor compressed/);
    assert.equal(open(), before, 'loadCpio left no descriptor open');
    before = open();
    await assert.rejects(loadCpioSegments(bufferSource(input, 'bad.img')), ReprimageError);
    assert.equal(open(), before, 'loadCpioSegments left no descriptor open');
  }
});

test('a 600 KB tar nesting 300,000 directories is refused, not attempted (it took seconds, and `ls` or `pack` of it ran out of memory)', async () => {
  const { loadTar } = await import('../../src/formats/tar/index.js');
  const { archive, member, paxMember, source } = await import('./tar-support.js');
  const deep = archive(paxMember([['path', `${'a/'.repeat(300_000)}f`]]), member({ name: 'placeholder' }, 'x'));
  assert.ok(deep.length < 700_000);
  await assert.rejects(loadTar(source(deep, 'deep.tar')), (e: unknown) => {
    assert.ok(e instanceof ReprimageError && e.code === 'OVERFLOW', String(e));
    assert.match(e.message, /nested 300000 directories deep, more than the 4096 reprimage accepts/);
    return true;
  });
  // just under the bound is an ordinary tree
  const { Tree, MAX_TREE_DEPTH, newMeta } = await import('../../src/tree/tree.js');
  const { bytesContent } = await import('../../src/tree/content.js');
  const tree = new Tree();
  const path = `${'d/'.repeat(MAX_TREE_DEPTH - 2)}leaf`;
  tree.set(path, { kind: 'file', ...newMeta(), content: bytesContent(new Uint8Array(1)) });
  assert.equal(tree.get(path)?.kind, 'file');
  assert.equal([...tree.walk()].length, MAX_TREE_DEPTH);
  assert.throws(() => tree.set(`${path}/x/y`, { kind: 'file', ...newMeta(), content: bytesContent(new Uint8Array(1)) }), /more than the 4096/);
});

test('a recipe with an alias to no anchor, or aliases beyond the yaml limit, is a USAGE error naming the file (a ReferenceError escaped)', async () => {
  const { parseRecipe } = await import('../../src/recipe/recipe.js');
  const fuzzed = readFileSync(join(findings, 'recipe', 'unresolved-alias.yaml'), 'utf8');
  for (const text of [fuzzed, 'suite: bookworm\npackages: *nowhere\n', `a: &a [1]\nb: [${Array(200).fill('*a').join(', ')}]\n`]) {
    assert.throws(() => parseRecipe(text, 'r.yaml'), (e: unknown) => {
      assert.ok(e instanceof ReprimageError && e.code === 'USAGE', String(e));
      assert.match(e.message, /^r\.yaml(:\d+)?: invalid YAML: /);
      return true;
    });
  }
});

test('an InRelease whose signature packet openpgp cannot read is CORRUPT_IMAGE naming the file (openpgp\'s Error escaped)', async () => {
  const target = TARGETS.find((t) => t.name === 'inrelease')!;
  const run = await prepare(target, lib);
  await assert.rejects(run(readFileSync(join(findings, 'inrelease', 'unknown-enum-in-signature.txt'))), (e: unknown) => {
    assert.ok(e instanceof ReprimageError && e.code === 'CORRUPT_IMAGE', String(e));
    assert.match(e.message, /^fuzz-InRelease: unreadable signature: /);
    return true;
  });
});
