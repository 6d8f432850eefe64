// Where a sparse file holds data (src/io/data-ranges.ts): filefrag's answer is taken only when it
// is whole and agrees with the file's size and allocation, since a range it leaves out is never
// read; the chunks and units read around the holes are flagged zero unread, and a conversion
// that skips holes writes the same bytes as one that reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fileDataRanges, meetsData, parseFilefrag } from '../../src/io/data-ranges.js';
import { bufferSource, type RandomAccessSource } from '../../src/io/source.js';
import { readChunks, readUnits } from '../../src/io/zero-runs.js';
import { writeQcow2 } from '../../src/formats/qcow2/index.js';
import { writeVhd } from '../../src/formats/vhd/index.js';
import { MemorySink } from '../../src/io/sink.js';
import { skipOrFailInCi, tempDir } from '../helpers/tools.js';

const HEAD = 'Filesystem type is: ef53\nFile size of /dev/stdin is 2147483648 (2147483648 blocks of 1 bytes)\n ext:     logical_offset:        physical_offset: length:   expected: flags:\n';
const ROWS = [
  '   0:        0..    4095: 55582916608..55582920703:   4096:            ',
  '   1:  1048576.. 1388543: 55583965184..55584305151: 339968:            ',
  '   2:  1388544.. 1392639: 55593402368..55593406463:   4096: 55584305152:',
  '   3: 2147479552..2147483647: 56069451776..56069455871:   4096:             last,eof',
];
const TAIL = '/dev/stdin: 3 extents found\n';
const SIZE = 2147483648;
const DATA = 4096 + 339968 + 4096 + 4096;

test('parseFilefrag: the extents, adjacent ones merged, when the answer is whole and adds up to the allocation', () => {
  const whole = HEAD + ROWS.join('\n') + '\n' + TAIL;
  assert.deepEqual(parseFilefrag(whole, SIZE, DATA), [
    { start: 0, end: 4096 },
    { start: 1048576, end: 1392640 },
    { start: 2147479552, end: SIZE },
  ]);
  // an extent-tree block or two allocated beside the data is the file system's own
  assert.ok(parseFilefrag(whole, SIZE, DATA + 8192));
  // a file of holes only
  assert.deepEqual(parseFilefrag('Filesystem type is: ef53\nFile size of /dev/stdin is 1073741824 (1073741824 blocks of 1 bytes)\n/dev/stdin: 0 extents found\n', 1 << 30, 0), []);
});

test('parseFilefrag refuses what it cannot trust: another size, rows missing or cut short, more allocated than mapped, stored some other way', () => {
  const text = (rows: string[], tail = TAIL) => HEAD + rows.join('\n') + '\n' + tail;
  const refused: Array<[string, string, number, number]> = [
    ['another size', text(ROWS), SIZE - 512, DATA],
    ['a row missing', text([ROWS[0]!, ROWS[2]!, ROWS[3]!]), SIZE, DATA],
    ['cut short (no last flag)', text(ROWS.slice(0, 3)), SIZE, DATA - 4096],
    ['no closing count', text(ROWS, ''), SIZE, DATA],
    ['data allocated that no extent maps', text(ROWS), SIZE, DATA + (8 << 20)],
    ['more mapped than allocated (compressed)', text(ROWS), SIZE, DATA - 4096],
    ['an inline extent', text([...ROWS.slice(0, 3), ROWS[3]!.replace('last,eof', 'last,inline,eof')]), SIZE, DATA],
    ['overlapping rows', text([ROWS[0]!, ROWS[1]!.replace(' 1048576..', '    4000..').replace('339968', '1384544'), ROWS[2]!, ROWS[3]!]), SIZE, DATA],
    ['not filefrag at all', 'FIBMAP/FIEMAP unsupported\n', SIZE, DATA],
  ];
  for (const [why, output, size, allocated] of refused) assert.equal(parseFilefrag(output, size, allocated), undefined, why);
});

test('meetsData: whether a byte range meets a data range', () => {
  const ranges = [{ start: 100, end: 200 }, { start: 1000, end: 1001 }];
  assert.equal(meetsData(ranges, 0, 100), false);
  assert.equal(meetsData(ranges, 0, 101), true);
  assert.equal(meetsData(ranges, 199, 1000), true);
  assert.equal(meetsData(ranges, 200, 1000), false);
  assert.equal(meetsData(ranges, 1000, 1001), true);
  assert.equal(meetsData(ranges, 1001, 5000), false);
  assert.equal(meetsData([], 0, 5000), false);
});

/** A source that says where its data is and counts what is read of it. */
function rangedSource(bytes: Uint8Array, ranges: Array<{ start: number; end: number }>): RandomAccessSource & { readBytes: number } {
  const plain = bufferSource(bytes, 'ranged');
  const source = {
    ...plain,
    dataRanges: ranges,
    readBytes: 0,
    read(offset: number, length: number) {
      source.readBytes += length;
      return plain.read(offset, length);
    },
  };
  return source;
}

test('readChunks and readUnits skip the chunks outside the data ranges unread, flagged zero; the bytes are the same', async () => {
  const bytes = new Uint8Array(64 * 1024);
  bytes.fill(7, 10_000, 10_100);
  bytes.fill(9, 40_000, 40_001);
  const source = rangedSource(bytes, [{ start: 8192, end: 12288 }, { start: 36864, end: 40960 }]);
  const got = new Uint8Array(bytes.length);
  const zero: number[] = [];
  for await (const c of readChunks(source, 4096, 3)) {
    got.set(c.bytes, c.offset);
    if (c.zero) zero.push(c.offset / 4096);
  }
  assert.deepEqual(got, bytes);
  assert.deepEqual(zero, [0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]);
  assert.equal(source.readBytes, 2 * 4096, 'only the chunks with data were read');
  // units within a chunk that was read are flagged by the ranges too
  const units: Array<[number, boolean]> = [];
  for await (const u of readUnits(source, 1024, 8)) if (u.index >= 8 && u.index < 16) units.push([u.index, u.zero]);
  assert.deepEqual(units, [[8, false], [9, false], [10, false], [11, false], [12, true], [13, true], [14, true], [15, true]]);
});

test('a chunk partly in the data ranges: only those parts are read, the rest of the reused buffer is zeros', async () => {
  const bytes = new Uint8Array(64 * 1024);
  bytes.fill(0x11, 0, 16384);
  bytes.fill(0x22, 36000, 36100);
  bytes[50005] = 0x33;
  const source = rangedSource(bytes, [{ start: 0, end: 16384 }, { start: 36000, end: 36100 }, { start: 50000, end: 50010 }]);
  const got = new Uint8Array(bytes.length);
  // two buffers in the ring: chunk 2 lands in the buffer chunk 0 filled with 0x11
  for await (const c of readChunks(source, 16384, 2)) got.set(c.bytes, c.offset);
  assert.deepEqual(got, bytes);
  assert.equal(source.readBytes, 16384 + 100 + 10);
});

test('a sparse file: filefrag finds its data, and qcow2 and VHD written skipping the holes are the bytes written reading them', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'sparse.img');
  const size = 64 << 20;
  const at = [0, 3 << 20, 17 << 20, size - 70_000];
  const fd = openSync(path, 'w+');
  let ranges;
  try {
    const block = new Uint8Array(70_000).fill(0x5a);
    for (const a of at) writeSync(fd, block, 0, block.length, a);
    const stats = fstatSync(fd);
    ranges = await fileDataRanges(fd, stats.size, stats.blocks * 512);
  } finally {
    closeSync(fd);
  }
  if (ranges === undefined) return skipOrFailInCi(t, 'the file system here gives no extent map (tmpfs?): nothing to skip');
  for (const a of at) assert.ok(meetsData(ranges, a, a + 70_000), `data at ${a} is mapped`);
  assert.equal(meetsData(ranges, 8 << 20, 16 << 20), false, 'a hole is not mapped');
  const bytes = readFileSync(path);
  const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const writers = [(s: RandomAccessSource, k: MemorySink) => writeQcow2(s, k), (s: RandomAccessSource, k: MemorySink) => writeVhd(s, k, { type: 'dynamic', seed: 's', buildTime: 0 })];
  for (const write of writers) {
    const skipping = new MemorySink();
    const source = rangedSource(bytes, ranges);
    await write(source, skipping);
    const reading = new MemorySink();
    await write(bufferSource(bytes, 'plain'), reading);
    assert.equal(hash(skipping.bytes()), hash(reading.bytes()));
    assert.ok(source.readBytes < size / 2, `the holes were skipped (${source.readBytes} bytes read)`);
  }
});
