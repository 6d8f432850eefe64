import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { FileSink, MemorySink } from '../../src/io/sink.js';
import { open } from 'node:fs/promises';
import { bufferSource, sliceSource, openFileSource } from '../../src/io/source.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

test('writeAtomically renames a complete file into place, with back-patching', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  await writeAtomically(target, async (sink) => {
    await sink.write(new Uint8Array(4));
    await sink.write(Buffer.from('body'));
    await sink.writeAt(0, Buffer.from('HEAD'));
  });
  assert.equal(readFileSync(target, 'latin1'), 'HEADbody');
  assert.deepEqual(readdirSync(dir), ['out.img']);
});

test('writeAtomically writes into a FIFO (or device) instead of replacing it', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'pipe');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const chunks: Buffer[] = [];
  const reader = new Promise<void>((resolve, reject) => {
    createReadStream(fifo).on('data', (c) => chunks.push(c as Buffer)).on('end', resolve).on('error', reject);
  });
  await writeAtomically(fifo, async (sink) => {
    await sink.write(new Uint8Array(4));
    await sink.write(Buffer.from('body'));
    await sink.writeAt(0, Buffer.from('HEAD'));
  });
  await reader;
  assert.equal(Buffer.concat(chunks).toString('latin1'), 'HEADbody');
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
  assert.deepEqual(readdirSync(dir), ['pipe']);
});

test('writeAtomically leaves nothing behind when the producer fails, and keeps an older file', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  await assert.rejects(
    writeAtomically(target, async (sink) => {
      await sink.write(new Uint8Array(3 << 20));
      throw new ReprimageError('CORRUPT_IMAGE', 'input', 'boom');
    }),
    /boom/,
  );
  assert.equal(existsSync(target), false);
  assert.deepEqual(readdirSync(dir), []);
});

test('MemorySink back-patches; sources refuse reads past their end', async () => {
  const sink = new MemorySink();
  await sink.write(Buffer.from('abcdef'));
  await sink.writeAt(2, Buffer.from('XY'));
  assert.equal(Buffer.from(sink.bytes()).toString(), 'abXYef');
  const src = bufferSource(sink.bytes(), 'mem');
  const slice = sliceSource(src, 1, 4, 'mem ▸ slice');
  assert.equal(Buffer.from(await slice.read(0, 4)).toString(), 'bXYe');
  await assert.rejects(slice.read(2, 3), (e: unknown) => e instanceof ReprimageError && e.code === 'TRUNCATED' && e.message.startsWith('mem ▸ slice'));
});

test('openFileSource names a missing file in a NOT_FOUND error', async () => {
  await assert.rejects(openFileSource('/nonexistent/x.img'), (e: unknown) => e instanceof ReprimageError && e.code === 'NOT_FOUND' && e.message === '/nonexistent/x.img: no such file or directory');
});

test('FileSink: bytes written behind (several buffers, back-patches, holes, fills) land where they belong; once retired it refuses writes', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.bin');
  const fh = await open(path, 'w');
  const sink = new FileSink(fh, path);
  const expected = Buffer.alloc(5 * 1048576 + 12345);
  for (let i = 0; i < expected.length; i++) expected[i] = (i * 7 + (i >> 12)) & 0xff;
  let at = 0;
  for (const n of [100, 1048576 - 50, 3000, 2 * 1048576, 77]) {
    await sink.write(expected.subarray(at, at + n));
    at += n;
  }
  await sink.fill(1048576, (view) => {
    view.set(expected.subarray(at, at + view.length));
    at += view.length;
  });
  const hole = 8192;
  expected.fill(0, at, at + hole);
  await sink.skip(hole);
  at += hole;
  await sink.write(expected.subarray(at));
  expected.write('HEAD', 10);
  await sink.writeAt(10, Buffer.from('HEAD'));
  await sink.flush();
  await fh.truncate(sink.position);
  await sink.retire();
  await assert.rejects(sink.write(new Uint8Array(1)), /abandoned/);
  await fh.close();
  assert.equal(sink.position, expected.length);
  assert.ok(readFileSync(path).equals(expected));
});
