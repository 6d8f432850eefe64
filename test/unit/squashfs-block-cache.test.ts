// The SquashFS block cache (src/formats/squashfs/block-cache.ts): a rebuild of a changed tree
// with the cache gives the bytes of a build without it and takes the unchanged blocks from the
// cache; a damaged entry is noticed by its hash, recomputed and rewritten, never used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySink } from '../../src/io/sink.js';
import { writeSquashfs, type SquashfsWriteReport } from '../../src/formats/squashfs/index.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newMeta } from '../../src/tree/tree.js';
import { pattern } from '../helpers/sample-tree.js';
import { tempDir } from '../helpers/tools.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Twelve files: large ones (several 128 KiB blocks and a tail) and small ones (fragments). */
function sampleTree(changed: boolean): Tree {
  const tree = new Tree();
  for (let i = 0; i < 12; i++) {
    const size = i % 3 === 0 ? 300_000 + i * 1000 : 2000 + i * 100;
    let bytes = pattern(size, i + 1);
    if (changed && i === 3) {
      bytes = bytes.slice();
      bytes[150_000] = bytes[150_000]! ^ 0xff; // one byte of one file: one block differs
    }
    tree.set(`dir/file${String(i).padStart(2, '0')}`, { ...newMeta({ mode: 0o644 }), kind: 'file', content: bytesContent(bytes, `file${i}`) }, { mode: 0o755 });
  }
  return tree;
}

async function build(tree: Tree, cache: string | undefined): Promise<{ bytes: Uint8Array; report: SquashfsWriteReport }> {
  const sink = new MemorySink();
  const report = await writeSquashfs(tree, sink, { compressor: 'zstd', compressionLevel: 3, buildTime: 1_700_000_000, workers: 1, blockCache: cache });
  return { bytes: sink.bytes(), report };
}

function entries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

test('a rebuild with the block cache after one file changed equals an uncached build, and reuses the unchanged blocks', async (t) => {
  const cache = tempDir(t);
  const first = await build(sampleTree(false), cache);
  assert.equal(first.report.blockCache?.hits, 0);
  assert.ok(first.report.blockCache!.misses > 4);
  assert.equal(sha(first.bytes), sha((await build(sampleTree(false), undefined)).bytes), 'the cache changes nothing on the first build');

  const cached = await build(sampleTree(true), cache);
  const uncached = await build(sampleTree(true), undefined);
  assert.equal(sha(cached.bytes), sha(uncached.bytes));
  assert.notEqual(sha(cached.bytes), sha(first.bytes));
  // only the changed block is compressed again; every other block comes from the cache
  assert.equal(cached.report.blockCache?.misses, 1);
  assert.equal(cached.report.blockCache?.hits, first.report.blockCache!.misses - 1);
  assert.equal(cached.report.blockCache?.damaged, 0);
});

test('a damaged cache entry is detected by its hash, recomputed and rewritten, never used', async (t) => {
  const cache = tempDir(t);
  const clean = await build(sampleTree(false), cache);
  const files = entries(cache);
  assert.equal(files.length, clean.report.blockCache!.misses);
  // flip a payload byte of one entry, cut another short, and give a third another entry's bytes
  const flipped = readFileSync(files[0]!);
  flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0x01;
  writeFileSync(files[0]!, flipped);
  writeFileSync(files[1]!, readFileSync(files[1]!).subarray(0, 20));
  writeFileSync(files[2]!, readFileSync(files[3]!));
  const again = await build(sampleTree(false), cache);
  assert.equal(sha(again.bytes), sha(clean.bytes));
  assert.equal(again.report.blockCache?.damaged, 3);
  assert.equal(again.report.blockCache?.misses, 3);
  // the damaged entries were rewritten: a third build finds every block whole
  const third = await build(sampleTree(false), cache);
  assert.deepEqual(third.report.blockCache, { hits: clean.report.blockCache!.misses, misses: 0, damaged: 0 });
});

test('entries are keyed by the codec settings: another level misses', async (t) => {
  const cache = tempDir(t);
  await build(sampleTree(false), cache);
  const sink = new MemorySink();
  const other = await writeSquashfs(sampleTree(false), sink, { compressor: 'zstd', compressionLevel: 4, buildTime: 1_700_000_000, workers: 1, blockCache: cache });
  assert.equal(other.blockCache?.hits, 0);
});
