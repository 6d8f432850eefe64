/**
 * copyToSink: a file on disk read straight into a FileSink's buffer (the path tar and ISO
 * writers take) gives the same bytes as streaming its chunks, and still notices a file that
 * shrank or grew after it was listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent, copyToSink, fileContent } from '../../src/tree/content.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

test('copyToSink fills a FileSink across its 1 MiB buffer, after and before other writes', async (t) => {
  const dir = tempDir(t);
  const body = randomBytes(2.5 * 1048576 + 123);
  writeFileSync(join(dir, 'big'), body);
  writeFileSync(join(dir, 'small'), 'abc');
  writeFileSync(join(dir, 'empty'), '');
  const out = join(dir, 'out');
  const positions: number[] = [];
  await writeAtomically(out, async (sink) => {
    await sink.write(Buffer.from('head'));
    for (const [name, size] of [['big', body.length], ['small', 3], ['empty', 0]] as const) {
      assert.equal(await copyToSink(fileContent(join(dir, name), size), sink), true);
      positions.push(sink.position);
    }
    await sink.write(Buffer.from('tail'));
  });
  assert.deepEqual(readFileSync(out), Buffer.concat([Buffer.from('head'), body, Buffer.from('abc'), Buffer.from('tail')]));
  assert.deepEqual(positions, [4 + body.length, 7 + body.length, 7 + body.length]);
});

test('copyToSink declines what it cannot copy directly, writing nothing', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), 'xyz');
  const memory = new MemorySink();
  assert.equal(await copyToSink(fileContent(join(dir, 'f'), 3), memory), false);
  assert.equal(memory.position, 0);
  await writeAtomically(join(dir, 'out'), async (sink) => {
    assert.equal(await copyToSink(bytesContent(Buffer.from('xyz')), sink), false);
    assert.equal(sink.position, 0);
  });
});

test('copyToSink fails naming the file when it shrank or grew since it was listed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'f');
  writeFileSync(path, Buffer.alloc(5000, 1));
  const shrunk = fileContent(path, 5000);
  truncateSync(path, 100);
  await assert.rejects(
    writeAtomically(join(dir, 'a'), async (sink) => void (await copyToSink(shrunk, sink))),
    (e: unknown) => e instanceof ReprimageError && e.code === 'IO' && e.message.includes(path) && /shrank from 5000 to 100/.test(e.message),
  );
  writeFileSync(path, Buffer.alloc(100, 1));
  const grown = fileContent(path, 100);
  appendFileSync(path, 'more');
  await assert.rejects(
    writeAtomically(join(dir, 'b'), async (sink) => void (await copyToSink(grown, sink))),
    (e: unknown) => e instanceof ReprimageError && e.code === 'IO' && /grew beyond 100 bytes/.test(e.message),
  );
  await assert.rejects(
    writeAtomically(join(dir, 'c'), async (sink) => void (await copyToSink(fileContent(join(dir, 'missing'), 10), sink))),
    (e: unknown) => e instanceof ReprimageError && e.code === 'NOT_FOUND',
  );
});
