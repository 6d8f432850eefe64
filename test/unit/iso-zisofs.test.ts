// zisofs decoding without tools: a file built here block by block (zlib blocks, a zero block, a
// short last block) reads back; a damaged header, block table or block is CORRUPT_IMAGE naming the
// file, never a crash or an oversized allocation. (The oracle test, test/oracle/iso-zisofs.test.ts,
// compares with xorriso on real images.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { readContent } from '../../src/tree/content.js';
import { bufferSource } from '../../src/io/source.js';
import { decodeZf, zisofsContent, type ZisofsInfo } from '../../src/formats/iso9660/zisofs.js';

const BLOCK_LOG = 15;
const BLOCK = 1 << BLOCK_LOG;

/** zisofs data of `data`: header, table, zlib blocks; all-zero blocks stored as empty. */
function zisofs(data: Buffer): Buffer {
  const blocks = Math.ceil(data.length / BLOCK);
  const header = Buffer.alloc(16);
  Buffer.from('37e45396c9dbd607', 'hex').copy(header);
  header.writeUInt32LE(data.length, 8);
  header[12] = 4;
  header[13] = BLOCK_LOG;
  const table = Buffer.alloc((blocks + 1) * 4);
  const parts: Buffer[] = [];
  let at = 16 + table.length;
  for (let i = 0; i < blocks; i++) {
    table.writeUInt32LE(at, i * 4);
    const piece = data.subarray(i * BLOCK, (i + 1) * BLOCK);
    const z = piece.every((b) => b === 0) ? Buffer.alloc(0) : deflateSync(piece);
    parts.push(z);
    at += z.length;
  }
  table.writeUInt32LE(at, blocks * 4);
  return Buffer.concat([header, table, ...parts]);
}

const info = (size: number): ZisofsInfo => ({ algorithm: 'pz', headerSize: 16, blockLog: BLOCK_LOG, size });

test('zisofs data built block by block reads back, zero blocks and a short last block included', async () => {
  const data = Buffer.concat([Buffer.from('text '.repeat(10_000)), Buffer.alloc(BLOCK * 2), Buffer.from('tail')]);
  const z = zisofs(data);
  assert.ok(z.length < data.length / 4);
  const content = zisofsContent(bufferSource(z, 'x.iso'), 0, z.length, info(data.length), 'x.iso ▸ f');
  assert.equal(content.size, data.length);
  assert.ok(Buffer.from(await readContent(content)).equals(data));
  // the ZF entry's data: "pz", header size / 4, log2 block size, both-endian size
  const zf = Buffer.from('707a040f' + '78563412' + '12345678', 'hex');
  assert.deepEqual(decodeZf(zf), { algorithm: 'pz', headerSize: 16, blockLog: 15, size: 0x12345678 });
});

test('damaged zisofs data is CORRUPT_IMAGE naming the file, for every part', async () => {
  const data = Buffer.from('some text to squeeze '.repeat(5000));
  const good = zisofs(data);
  const cases: Array<[string, (b: Buffer) => void, RegExp]> = [
    ['magic', (b) => (b[0] = 0), /no zisofs magic/],
    ['size in the header', (b) => b.writeUInt32LE(1, 8), /the header says 1 bytes/],
    ['block pointer past the end', (b) => b.writeUInt32LE(good.length + 100, 16 + 4), /lies outside/],
    ['block pointers backwards', (b) => b.writeUInt32LE(16, 16 + 4), /lies outside/],
    ['a block that is not zlib', (b) => b.fill(0x55, 16 + 16, 16 + 40), /does not inflate/],
  ];
  for (const [label, damage, message] of cases) {
    const bad = Buffer.from(good);
    damage(bad);
    const content = zisofsContent(bufferSource(bad, 'bad.iso'), 0, bad.length, info(data.length), 'bad.iso ▸ f');
    await assert.rejects(readContent(content), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CORRUPT_IMAGE', `${label}: ${e.message}`);
      assert.match(e.message, /^bad\.iso: corrupt zisofs data of bad\.iso ▸ f/, label);
      assert.match(e.message, message, label);
      return true;
    });
  }
  // a block that inflates to more than a block: refused without inflating it all
  const bomb = zisofs(Buffer.from('x'));
  const big = deflateSync(Buffer.alloc(10 * BLOCK, 0x78));
  const table = 16 + 8;
  const crafted = Buffer.concat([bomb.subarray(0, table), big]);
  crafted.writeUInt32LE(table + big.length, 16 + 4);
  await assert.rejects(readContent(zisofsContent(bufferSource(crafted, 'bomb.iso'), 0, crafted.length, info(1), 'bomb.iso ▸ f')), { code: 'CORRUPT_IMAGE' });
  // block sizes the kernel does not read
  assert.throws(() => zisofsContent(bufferSource(good, 'odd.iso'), 0, good.length, { ...info(data.length), blockLog: 20 }, 'odd.iso ▸ f'), { code: 'UNSUPPORTED' });
});
