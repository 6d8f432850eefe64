// The small readers written for the differ: ar (GNU and BSD names) and zip (central directory,
// stored and deflated entries), on archives built byte by byte here, and their bad inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { bufferSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { ReprimageError } from '../../src/errors.js';
import { readArMembers, sniffAr } from '../../src/formats/ar/index.js';
import { openZip, sniffZip } from '../../src/formats/zip/index.js';

function arHeader(name: string, size: number, mtime = 1700000000): string {
  const f = (s: string | number, w: number) => String(s).padEnd(w, ' ');
  return `${f(name, 16)}${f(mtime, 12)}${f(0, 6)}${f(0, 6)}${f(100644, 8)}${f(size, 10)}\`\n`;
}

function ar(members: Array<[string, string]>): Uint8Array {
  let out = '!<arch>\n';
  for (const [header, data] of members) out += header + data + (data.length % 2 ? '\n' : '');
  return Buffer.from(out, 'latin1');
}

test('ar: plain, GNU long and BSD names, sizes, offsets and times', async () => {
  const long = 'a-very-long-member-name.o/\n';
  const bytes = ar([
    [arHeader('debian-binary', 4), '2.0\n'],
    [arHeader('//', long.length), long],
    [arHeader('/0', 3), 'abc'],
    [arHeader('#1/8', 8 + 2), 'bsd-name..'],
  ]);
  assert.equal(sniffAr(bytes), true);
  const members = await readArMembers(bufferSource(bytes, 'x.a'));
  assert.deepEqual(members.map((m) => [m.name, m.size, m.mtime, m.mode.toString(8)]), [
    ['debian-binary', 4, 1700000000, '100644'],
    ['//', long.length, 1700000000, '100644'],
    ['a-very-long-member-name.o', 3, 1700000000, '100644'],
    ['bsd-name', 2, 1700000000, '100644'],
  ]);
  assert.equal(Buffer.from(bytes.subarray(members[3]!.dataOffset, members[3]!.dataOffset + 2)).toString(), '..');
});

test('ar: bad inputs are ReprimageErrors with the right code', async () => {
  const good = ar([[arHeader('x', 4), 'data']]);
  const code = async (bytes: Uint8Array) => {
    try {
      await readArMembers(bufferSource(bytes, 'bad.a'));
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ReprimageError, String(e));
      return e.code;
    }
  };
  assert.equal(await code(good.subarray(0, good.length - 2)), 'TRUNCATED');
  assert.equal(await code(good.subarray(0, 30)), 'TRUNCATED');
  const badMagic = good.slice();
  badMagic[66] = 0x41;
  assert.equal(await code(badMagic), 'CORRUPT_IMAGE');
  assert.equal(await code(ar([[arHeader('x', 4).replace('4 ', 'z '), 'data']])), 'CORRUPT_IMAGE');
  assert.equal(await code(ar([[arHeader('/5', 1), 'd']])), 'CORRUPT_IMAGE');
  assert.equal(await code(Buffer.from('!<arch>\n')), 'ok');
});

/** A zip of stored and deflated entries, written field by field (APPNOTE 4.3). */
function zip(entries: Array<{ name: string; data: string; deflate?: boolean }>, comment = ''): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const raw = Buffer.from(e.data);
    const stored = e.deflate ? deflateRawSync(raw) : raw;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt16LE(0x6000, 10);
    local.writeUInt16LE(0x5821, 12);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt16LE(0x6000, 12);
    central.writeUInt16LE(0x5821, 14);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += 30 + name.length + stored.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, cd, eocd, Buffer.from(comment)]);
}

test('zip: entries in stored order with their fields; stored and deflated contents', async () => {
  const bytes = zip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n', deflate: true }, { name: 'a.txt', data: 'hello' }], 'a comment');
  assert.equal(sniffZip(bytes), true);
  const z = await openZip(bufferSource(bytes, 'x.jar'));
  assert.equal(z.comment, 'a comment');
  assert.deepEqual(z.entries.map((e) => [e.name, e.method, e.size, (e.externalAttributes >>> 16).toString(8), e.dosDate, e.dosTime]), [
    ['META-INF/MANIFEST.MF', 8, 22, '100644', 0x5821, 0x6000],
    ['a.txt', 0, 5, '100644', 0x5821, 0x6000],
  ]);
  assert.equal(Buffer.from(await readContent(z.content(z.entries[0]!))).toString(), 'Manifest-Version: 1.0\n');
  assert.equal(Buffer.from(await readContent(z.content(z.entries[1]!))).toString(), 'hello');
});

test('zip: bad inputs are ReprimageErrors with the right code', async () => {
  const good = zip([{ name: 'a.txt', data: 'hello world', deflate: true }]);
  const code = async (bytes: Uint8Array) => {
    try {
      const z = await openZip(bufferSource(bytes, 'bad.zip'));
      for (const e of z.entries) await readContent(z.content(e));
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ReprimageError, String(e));
      return e.code;
    }
  };
  assert.equal(await code(good), 'ok');
  assert.equal(await code(good.subarray(0, 10)), 'TRUNCATED');
  assert.equal(await code(good.subarray(0, good.length - 5)), 'CORRUPT_IMAGE'); // no end record left
  const farCd = Buffer.from(good);
  farCd.writeUInt32LE(0x7fffffff, farCd.length - 6);
  assert.equal(await code(farCd), 'OUT_OF_BOUNDS');
  const badLocal = Buffer.from(good);
  badLocal[0] = 0;
  assert.equal(await code(badLocal), 'CORRUPT_IMAGE');
  const badDeflate = Buffer.from(good);
  badDeflate.writeUInt16LE(badDeflate.readUInt16LE(30 + 5) ^ 0xffff, 30 + 5);
  assert.ok(['CORRUPT_IMAGE', 'TRUNCATED'].includes(await code(badDeflate)));
  const hugeCount = Buffer.from(good);
  hugeCount.writeUInt16LE(60000, hugeCount.length - 12);
  assert.equal(await code(hugeCount), 'CORRUPT_IMAGE');
});
