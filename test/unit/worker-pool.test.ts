// The failure path of the worker pool and the ordered pipeline: a failed job is reported with
// the file it was working on, the first error is the one reported (by the pool, the pipeline and
// the SquashFS writer that uses them), a dead worker fails the pool instead of leaving callers
// waiting, answers arriving after close are ignored, and nothing ends as an unhandled rejection
// or an uncaught exception.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ReprimageError, isReprimageError } from '../../src/errors.js';
import { OrderedPipeline, WorkerPool } from '../../src/parallel/ordered-pool.js';
import { bytesContent, fileContent, streamContent } from '../../src/tree/content.js';
import { Tree, newMeta } from '../../src/tree/tree.js';
import { MemorySink } from '../../src/io/sink.js';
import { writeSquashfs } from '../../src/formats/squashfs/index.js';
import type { FixtureJob } from './pool-task-fixture.js';
import { pseudoRandom } from '../oracle/squashfs-support.js';

const FIXTURE = new URL('./pool-task-fixture.js', import.meta.url);

/** Fails the test if anything rejects unhandled or throws uncaught while it runs. */
function watchProcess(t: TestContext): () => void {
  const seen: unknown[] = [];
  const onError = (e: unknown) => seen.push(e);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  t.after(() => {
    process.off('unhandledRejection', onError);
    process.off('uncaughtException', onError);
  });
  return () => assert.deepEqual(seen, [], 'unhandled rejection or uncaught exception');
}

const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

for (const workers of [1, 3]) {
  test(`${workers} worker(s): a failed job names its file; a ReprimageError keeps its code`, async (t) => {
    const check = watchProcess(t);
    const pool = await WorkerPool.start<FixtureJob, number>(FIXTURE, undefined, workers);
    try {
      assert.equal(await pool.run({ value: 21 }, { label: 'usr/bin/ok' }), 42);
      await assert.rejects(pool.run({ value: 1, fail: 'throw' }, { label: 'usr/bin/broken' }), (e: Error) => {
        assert.equal(e.message, 'usr/bin/broken: codec exploded');
        return true;
      });
      await assert.rejects(pool.run({ value: 1, fail: 'reprimage' }, { label: 'etc/motd' }), (e: unknown) => {
        assert.ok(isReprimageError(e), String(e));
        assert.equal(e.code, 'CORRUPT_IMAGE');
        assert.equal(e.message, 'etc/motd: block does not compress');
        return true;
      });
      // one job failing does not break the pool
      assert.equal(await pool.run({ value: 5 }), 10);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.run({ value: 1 }), /closed/);
    await settle();
    check();
  });
}

for (const fail of ['crash', 'exit'] as const) {
  test(`a worker that dies (${fail}) fails the pool with the file it was working on; nobody waits forever`, async (t) => {
    const check = watchProcess(t);
    const pool = await WorkerPool.start<FixtureJob, number>(FIXTURE, undefined, 2);
    try {
      const jobs = Array.from({ length: 12 }, (_, i) =>
        pool.run(i === 3 ? { value: i, fail } : { value: i, delay: 30 }, { label: `lib/file-${i}` }),
      );
      const results = await Promise.allSettled(jobs);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String((r.reason as Error).message));
      assert.ok(failures.length > 0, 'the dead worker went unnoticed');
      // every job that failed reports the one first failure: the dead worker's file
      for (const f of failures) assert.match(f, /^lib\/file-3: a worker thread failed: /);
      await assert.rejects(pool.run({ value: 1 }), /^Error: lib\/file-3: a worker thread failed/);
    } finally {
      await pool.close();
    }
    await settle();
    check();
  });
}

test('closing the pool while jobs are in flight: late answers are ignored, waiting jobs rejected', async (t) => {
  const check = watchProcess(t);
  const pool = await WorkerPool.start<FixtureJob, number>(FIXTURE, undefined, 2);
  const jobs = Array.from({ length: 20 }, (_, i) => pool.run({ value: i, delay: 20 + (i % 3) * 10 }, { label: `f${i}` }));
  await jobs[0];
  await pool.close();
  const results = await Promise.allSettled(jobs);
  assert.ok(results.some((r) => r.status === 'rejected'), 'jobs after close did not fail');
  for (const r of results) if (r.status === 'rejected') assert.match(String((r.reason as Error).message), /closed/);
  await settle(200); // answers that were on their way arrive now, and must be ignored
  check();
});

test('the pipeline keeps the first error; work submitted after it fails later without an unhandled rejection', async (t) => {
  const check = watchProcess(t);
  const p = new OrderedPipeline<number>(() => undefined, 4);
  const first = new ReprimageError('IO', 'a/first', 'read failed');
  await p.submit(Promise.reject(first));
  await settle(5);
  const late = new Promise<number>((_, reject) => setTimeout(() => reject(new Error('second')), 20));
  await assert.rejects(p.submit(late), (e) => e === first);
  await assert.rejects(p.drain(), (e) => e === first);
  await settle(60);
  check();
});

/** Large files whose blocks keep every worker busy, then `bad`, then more files. */
function treeWith(bad: { path: string; content: ReturnType<typeof bytesContent> }): Tree {
  const tree = new Tree();
  for (let i = 0; i < 12; i++) tree.set(`a/big-${String(i).padStart(2, '0')}`, { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(pseudoRandom(400_000, i + 1)) });
  tree.set(bad.path, { kind: 'file', ...newMeta({ mode: 0o644 }), content: bad.content });
  for (let i = 0; i < 12; i++) tree.set(`c/small-${i}`, { kind: 'file', ...newMeta({ mode: 0o644 }), content: bytesContent(pseudoRandom(1000, i + 50)) });
  return tree;
}

for (const workers of [1, 4]) {
  test(`squashfs writer, ${workers} worker(s): a file that vanished is the error reported, and nothing else escapes`, async (t) => {
    const check = watchProcess(t);
    const tree = treeWith({ path: 'b/gone', content: fileContent('/nonexistent/reprimage-test/gone', 300_000) });
    await assert.rejects(writeSquashfs(tree, new MemorySink(), { buildTime: 0, workers }), (e: unknown) => {
      assert.ok(isReprimageError(e), String(e));
      assert.equal(e.code, 'NOT_FOUND');
      assert.equal(e.subject, '/nonexistent/reprimage-test/gone');
      return true;
    });
    await settle();
    check();
  });

  test(`squashfs writer, ${workers} worker(s): a read failing after some blocks were sent is the error reported`, async (t) => {
    const check = watchProcess(t);
    const failing = streamContent(600_000, 'disk/b/truncated', async function* () {
      yield pseudoRandom(300_000, 99);
      throw new ReprimageError('IO', 'disk/b/truncated', 'read failed (EIO)');
    });
    const tree = treeWith({ path: 'b/truncated', content: failing });
    await assert.rejects(writeSquashfs(tree, new MemorySink(), { buildTime: 0, workers, compressor: 'xz' }), /^ReprimageError: disk\/b\/truncated: read failed \(EIO\)$/);
    await settle();
    check();
  });
}
