/**
 * Stopping library calls with an AbortSignal: an abort in the middle of a write leaves neither
 * the output nor a temporary file, an abort in the middle of a read stops the reader at its next
 * block, and the long entry points (normalize, diff, iuk, recipe, check) stop with an ABORTED
 * ReprimageError.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ReprimageError } from '../../src/errors.js';
import { bufferSource, type RandomAccessSource } from '../../src/io/source.js';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent, streamContent } from '../../src/tree/content.js';
import { Tree, newDir, newMeta } from '../../src/tree/tree.js';
import { writeImage, writeImageFile, writeDiskImage } from '../../src/image/write-image.js';
import { openSource } from '../../src/image/open-tree.js';
import { writeTar } from '../../src/formats/tar/index.js';
import { normalizeFile, normalizePaths } from '../../src/normalize/index.js';
import { diffPaths } from '../../src/diff/index.js';
import { diffBlobs } from '../../src/diff/engine.js';
import { sourceBlob, type Blob } from '../../src/diff/blob.js';
import { buildRecipe, lockRecipe } from '../../src/recipe/index.js';
import { planFromCommand, runCheck } from '../../src/check/index.js';
import { makeKit } from '../../src/iuk/index.js';

const BUILD_TIME = 1_700_000_000;
const isAborted = (e: unknown) => e instanceof ReprimageError && e.code === 'ABORTED';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-abort-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A Tree whose middle file aborts `controller` once the writer has read its first chunk: the abort
 * comes in the middle of the write, wherever each format reads its contents.
 */
function treeAbortingMidWrite(controller: AbortController): Tree {
  const tree = new Tree(newDir({ mode: 0o755 }));
  const meta = () => newMeta({ mode: 0o644, mtime: { sec: BUILD_TIME, nsec: 0 } });
  tree.set('a/first', { kind: 'file', ...meta(), content: bytesContent(new Uint8Array(200_000).fill(1)) });
  const chunk = new Uint8Array(64 << 10).fill(7);
  tree.set('b/trigger', {
    kind: 'file', ...meta(), content: streamContent(4 * chunk.length, 'trigger', async function* () {
      yield chunk;
      controller.abort(new Error('stopped by the test'));
      for (let i = 1; i < 4; i++) yield chunk;
    }),
  });
  for (let i = 0; i < 8; i++) tree.set(`c/after-${i}`, { kind: 'file', ...meta(), content: bytesContent(new Uint8Array(100_000).fill(i)) });
  return tree;
}

for (const format of ['tar', 'tar.gz', 'cpio', 'cpio.zst', 'squashfs', 'iso', 'fat', 'ext4']) {
  test(`${format}: an abort in the middle of the write leaves no output and no temporary file`, async (t) => {
    const dir = scratch(t);
    const controller = new AbortController();
    const settings = { ext4: { size: 16 << 20 }, squashfs: { compressor: 'gzip' as const } };
    await assert.rejects(writeImageFile(treeAbortingMidWrite(controller), format, join(dir, `out.${format}`), { buildTime: BUILD_TIME, workers: 1, settings, signal: controller.signal }), (e: unknown) => {
      assert.ok(isAborted(e), String(e));
      assert.match((e as Error).message, /stopped by the test/);
      return true;
    });
    assert.ok(controller.signal.aborted, 'the abort came from inside the write');
    assert.deepEqual(readdirSync(dir), []);
  });
}

test('disk: an abort while a partition is written leaves no disk image and no temporary file', async (t) => {
  const dir = scratch(t);
  const controller = new AbortController();
  const esp = new Tree(newDir());
  esp.set('EFI/BOOT/BOOTX64.EFI', { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(new Uint8Array(4096)) });
  await assert.rejects(writeDiskImage(join(dir, 'disk.img'), {
    buildTime: BUILD_TIME,
    partitions: [
      { type: 'esp', content: { kind: 'fat', tree: esp } },
      { type: 'root-x86-64', size: 16 << 20, content: { kind: 'ext4', tree: treeAbortingMidWrite(controller) } },
    ],
    signal: controller.signal,
  }), isAborted);
  assert.deepEqual(readdirSync(dir), []);
});

test('a writer given an aborted signal stops at its next block: few writes after the abort', async () => {
  const controller = new AbortController();
  let writesAfter = 0;
  const inner = new MemorySink();
  const counting = {
    get position() { return inner.position; },
    write: async (b: Uint8Array) => { if (controller.signal.aborted) writesAfter++; await inner.write(b); },
    writeAt: (o: number, b: Uint8Array) => inner.writeAt(o, b),
    flush: () => inner.flush(),
  };
  await assert.rejects(writeImage(treeAbortingMidWrite(controller), 'squashfs', counting, { buildTime: BUILD_TIME, workers: 1, signal: controller.signal }), isAborted);
  assert.equal(writesAfter, 0, 'no block reached the sink after the abort');
});

/** A source that aborts `controller` at its `at`-th read, and counts the reads after that. */
function abortingSource(inner: RandomAccessSource, controller: AbortController, at: number): RandomAccessSource & { readsAfter: number } {
  let reads = 0;
  const s = {
    name: inner.name,
    size: inner.size,
    readsAfter: 0,
    read: async (offset: number, length: number) => {
      if (controller.signal.aborted) s.readsAfter++;
      if (++reads === at) controller.abort(new Error('stopped by the test'));
      return inner.read(offset, length);
    },
    close: () => inner.close(),
  };
  return s;
}

test('an abort in the middle of a read stops the reader at its next block', async () => {
  const tree = new Tree(newDir());
  for (let i = 0; i < 200; i++) tree.set(`f${i}`, { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(new Uint8Array(1000).fill(i)) });
  const sink = new MemorySink();
  await writeTar(tree, sink, { format: 'gnu', buildTime: BUILD_TIME });
  const controller = new AbortController();
  const source = abortingSource(bufferSource(sink.bytes(), 'many.tar'), controller, 5);
  await assert.rejects(openSource(source, [], { warn: () => undefined, signal: controller.signal }), (e: unknown) => {
    assert.ok(isAborted(e), String(e));
    assert.equal((e as ReprimageError).subject, 'many.tar');
    return true;
  });
  // the read that aborted was under way; the wrapped source refuses the next before it reaches the file
  assert.equal(source.readsAfter, 0);
});

test('normalize, diff, iuk, recipe and check stop with an ABORTED error and change nothing', async (t) => {
  const dir = scratch(t);
  const gz = gzipSync(Buffer.from('changelog\n'));
  gz.set([0x00, 0x5e, 0x6d, 0x65], 4); // a time in the gzip header: normalize would change it
  const file = join(dir, 'changelog.gz');
  writeFileSync(file, gz);
  const aborted = AbortSignal.abort(new Error('stopped by the test'));
  await assert.rejects(normalizeFile(file, { buildTime: BUILD_TIME, clamp: true, signal: aborted }), isAborted);
  await assert.rejects(normalizePaths([dir], { buildTime: BUILD_TIME, clamp: true, workers: 1, signal: aborted }), isAborted);
  assert.deepEqual(readFileSync(file), gz, 'the file is left as it was');
  const other = join(dir, 'other.gz');
  writeFileSync(other, gzipSync(Buffer.from('other\n')));
  await assert.rejects(diffPaths(file, other, { signal: aborted }), isAborted);
  await assert.rejects(makeKit(file, other, join(dir, 'kit.iuk'), { name: 'k', whiteouts: 'overlay', compressor: 'gzip', warn: () => undefined, signal: aborted }), isAborted);
  await assert.rejects(lockRecipe(join(dir, 'recipe.yaml'), { cacheDir: join(dir, 'cache'), signal: aborted }), isAborted);
  await assert.rejects(buildRecipe(join(dir, 'recipe.yaml'), { outDir: join(dir, 'out'), cacheDir: join(dir, 'cache'), warn: () => undefined, signal: aborted }), isAborted);
  await assert.rejects(runCheck(planFromCommand(['true'], ['x']), { bisect: false, keep: false, timeoutSeconds: 60, progress: () => undefined, warn: () => undefined, workDir: join(dir, 'check'), signal: aborted }), isAborted);
  assert.deepEqual(readdirSync(dir).sort(), ['changelog.gz', 'other.gz']);
});

/** A tar holding one member `big` of `size` zero bytes whose last byte is `last`, and whose mtime depends on it. */
async function tarOfOneBigMember(size: number, last: number): Promise<Uint8Array> {
  const tree = new Tree(newDir());
  const bytes = new Uint8Array(size);
  bytes[size - 1] = last;
  tree.set('big', { kind: 'file', ...newMeta({ mode: 0o644, mtime: { sec: BUILD_TIME - last, nsec: 0 } }), content: bytesContent(bytes) });
  const sink = new MemorySink();
  await writeTar(tree, sink, { format: 'gnu', buildTime: BUILD_TIME });
  return sink.bytes();
}

test('diff: an abort in the middle of one large member comparison stops within a chunk', async () => {
  const size = 32 << 20;
  const [a, b] = await Promise.all([tarOfOneBigMember(size, 1), tarOfOneBigMember(size, 2)]);
  const controller = new AbortController();
  let read = 0;
  // both archives count the bytes read from them. The archives differ in their first chunk (the
  // member's mtime), so comparing them as bytes takes one 4 MiB chunk a side; then the tar
  // comparator pairs the members, whose contents differ only in their last byte. Past 12 MiB,
  // in the members' first chunks, the signal aborts.
  const counted = (bytes: Uint8Array, name: string): Blob => {
    const inner = bufferSource(bytes, name);
    return sourceBlob({
      name, size: inner.size, close: () => inner.close(),
      read: async (offset, length) => {
        read += length;
        if (read > 12 << 20) controller.abort(new Error('stopped by the test'));
        return inner.read(offset, length);
      },
    });
  };
  await assert.rejects(diffBlobs({ name: 'a.tar', blob: counted(a, 'a.tar') }, { name: 'b.tar', blob: counted(b, 'b.tar') }, { signal: controller.signal, concurrency: 1 }), (e: unknown) => {
    assert.ok(isAborted(e), String(e));
    // stopped by the member comparison (naming the member) or by the archive's next read
    assert.match((e as Error).message, /^a\.tar( ▸ big)?: aborted: stopped by the test$/);
    return true;
  });
  assert.ok(controller.signal.aborted, 'the abort came during the comparison');
  // 8 MiB for the archives' first chunks, 8 MiB for the members' first: the members' 64 MiB were
  // not read to the end, the comparison stopped at its next chunk
  assert.ok(read < 20 << 20, `${read} bytes read of ${2 * size} in the members`);
});

test('diff: an abort while two large streams are compared stops within a chunk', async () => {
  const chunk = new Uint8Array(1 << 20);
  const total = 256;
  const controller = new AbortController();
  let produced = 0;
  // two unrecognized streams, equal up to their last chunk; the abort comes after 16 MiB of them
  const stream = (last: number): Blob => ({
    size: total * chunk.length,
    async *chunks() {
      for (let i = 0; i < total; i++) {
        if (++produced === 32) controller.abort(new Error('stopped by the test'));
        yield i === total - 1 ? new Uint8Array(chunk.length).fill(last) : chunk;
      }
    },
    head: async (n) => chunk.subarray(0, n),
    open: async () => bufferSource(new Uint8Array(0), 'never opened'),
  });
  await assert.rejects(diffBlobs({ name: 'a.bin', blob: stream(1) }, { name: 'b.bin', blob: stream(2) }, { signal: controller.signal }), (e: unknown) => {
    assert.ok(isAborted(e), String(e));
    assert.equal((e as ReprimageError).subject, 'a.bin');
    return true;
  });
  assert.ok(produced < 40, `${produced} chunks of ${2 * total} produced`);
});

test('check: an abort while the build runs kills the build and rejects', async (t) => {
  const dir = scratch(t);
  const controller = new AbortController();
  // a build that would outlast the test run, known by its unusual argument
  const marker = '3599.25';
  const sleeping = () => spawnSync('pgrep', ['-f', `sleep ${marker}`]).status === 0;
  const watcher = setInterval(() => { if (sleeping()) controller.abort(new Error('stopped by the test')); }, 50);
  try {
    await assert.rejects(runCheck(planFromCommand(['sleep', marker], ['x']), {
      bisect: false, keep: false, timeoutSeconds: 7200, progress: () => undefined, warn: () => undefined, workDir: join(dir, 'check'), signal: controller.signal,
    }), isAborted);
  } finally {
    clearInterval(watcher);
  }
  assert.equal(sleeping(), false, 'the build process is gone');
});
