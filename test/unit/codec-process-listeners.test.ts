// No codec leaves a process-wide handler behind (the libdeflate package's Emscripten glue
// installs `uncaughtException` and `unhandledRejection` handlers that rethrow, so any later
// error ended with its minified source on stderr and exit status 7). Its own file, so that no
// earlier test has created the modules already.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { bufferSource } from '../../src/io/source.js';
import { createSquashfsCodec, createSquashfsDecompressor } from '../../src/compress/squashfs-codecs.js';
import { createDeflateCompressor } from '../../src/compress/libdeflate/compressor.js';
import { createZstdCompressor } from '../../src/compress/zstd/compressor.js';
import { decompressSegment } from '../../src/compress/decompress.js';
import { gzipBytes } from '../../src/compress/gzip.js';
import { CompressorId } from '../../src/formats/squashfs/constants.js';
import { withoutNewProcessListeners } from '../../src/compress/process-listeners.js';

function listenerCounts(): Record<string, number> {
  const p: EventEmitter = process;
  return Object.fromEntries(p.eventNames().map((e) => [String(e), p.listenerCount(e)]));
}

test('creating and running every codec adds no process listener', async () => {
  const before = listenerCounts();
  const data = new TextEncoder().encode('reprimage '.repeat(2000));
  for (const compressor of ['gzip', 'xz', 'zstd', 'lz4'] as const) {
    const codec = await createSquashfsCodec({ compressor, blockSize: 131072 });
    const packed = await codec.compress(data, false);
    const unpack = createSquashfsDecompressor(CompressorId[compressor], 'test');
    assert.deepEqual(Buffer.from(await unpack(packed, data.length)), Buffer.from(data), compressor);
  }
  await (await createSquashfsCodec({ compressor: 'gzip', deflate: 'zlib', blockSize: 131072 })).compress(data, false);
  (await createDeflateCompressor(6)).gzip(data);
  (await createZstdCompressor(3))(data);
  const segment = await decompressSegment(bufferSource(gzipBytes(data), 'x.gz'), 0, 'gzip', 'x.gz');
  await segment.source.close();
  assert.deepEqual(listenerCounts(), before);
});

test('withoutNewProcessListeners removes only what the call added', () => {
  const p: EventEmitter = process;
  const mine = () => undefined;
  p.on('warning', mine);
  const added = () => undefined;
  try {
    const result = withoutNewProcessListeners(() => {
      p.on('uncaughtException', added);
      p.on('warning', added);
      return 7;
    });
    assert.equal(result, 7);
    assert.ok(!p.listeners('uncaughtException').includes(added));
    assert.ok(!p.listeners('warning').includes(added));
    assert.ok(p.listeners('warning').includes(mine));
  } finally {
    p.off('warning', mine);
    p.off('uncaughtException', added);
    p.off('warning', added);
  }
});
