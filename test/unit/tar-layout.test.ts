// The tar header layout and its number codecs: the field table, octal and GNU base-256 numbers
// at their limits, the checksum format, the ustar name split, and the pax record/time codecs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BLOCK, F, checksumOf, parseNumber, putNumber, sealChecksum } from '../../src/formats/tar/layout.js';
import { paxRecord, paxTime, parsePaxRecords, parsePaxTime } from '../../src/formats/tar/index.js';
import { ustarSplit } from '../../src/formats/tar/writer.js';
import { ReprimageError } from '../../src/errors.js';

test('the ustar fields tile the first 500 bytes of the header without gaps or overlaps', () => {
  const ustar = ['name', 'mode', 'uid', 'gid', 'size', 'mtime', 'chksum', 'typeflag', 'linkname', 'magic', 'version', 'uname', 'gname', 'devmajor', 'devminor', 'prefix'] as const;
  let at = 0;
  for (const f of ustar) {
    assert.equal(F[f][0], at, f);
    at += F[f][1];
  }
  assert.equal(at, 500);
  // GNU's old sparse area sits inside the ustar prefix field
  assert.equal(F.gnuSparse[0] + F.gnuSparse[1], F.gnuIsExtended[0]);
  assert.equal(F.gnuIsExtended[0] + 1, F.gnuRealSize[0]);
});

const hexOf = (h: Uint8Array, f: keyof typeof F) => Buffer.from(h.subarray(F[f][0], F[f][0] + F[f][1])).toString('hex');

test('octal numbers are zero-padded with a NUL; past the octal range GNU base-256 takes over', () => {
  const h = new Uint8Array(BLOCK);
  assert.ok(putNumber(h, 'mode', 0o4755, false));
  assert.equal(Buffer.from(h.subarray(100, 108)).toString('latin1'), '0004755\0');
  assert.ok(putNumber(h, 'size', 8 ** 11 - 1, false));
  assert.equal(Buffer.from(h.subarray(124, 136)).toString('latin1'), '77777777777\0');
  assert.equal(putNumber(h, 'size', 8 ** 11, false), false, 'ustar cannot hold 8 GiB');
  assert.ok(putNumber(h, 'size', 8 ** 11, true));
  assert.equal(hexOf(h, 'size'), '800000000000000200000000');
  assert.ok(putNumber(h, 'uid', 3_000_000, true));
  assert.equal(hexOf(h, 'uid'), '80000000002dc6c0');
  assert.ok(putNumber(h, 'mtime', -1, true));
  assert.equal(hexOf(h, 'mtime'), 'ffffffffffffffffffffffff');
  assert.ok(putNumber(h, 'mtime', -1000, true));
  assert.equal(parseNumber(h.subarray(136, 148), 's', 136, 'mtime'), -1000);
});

test('number codecs round-trip over the whole safe range', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: 8 ** 11 - 1 }), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 40), max: -1 })), (v) => {
      const h = new Uint8Array(BLOCK);
      assert.ok(putNumber(h, 'size', v, true));
      assert.equal(parseNumber(h.subarray(124, 136), 's', 124, 'size'), v);
      // octal whenever it fits, like GNU tar
      assert.equal((h[124]! & 0x80) !== 0, v < 0 || v >= 8 ** 11);
    }),
    { numRuns: 500 },
  );
});

test('octal parsing accepts the padding other tars use and refuses anything else', () => {
  const p = (s: string) => parseNumber(Buffer.from(s, 'latin1'), 'x.tar', 124, 'size');
  assert.equal(p('00000000017\0'), 15);
  assert.equal(p('     17 \0\0\0\0'), 15);
  assert.equal(p('17\0garbage\0'), 15, 'stops at the NUL');
  assert.equal(p('\0\0\0\0\0\0\0\0\0\0\0\0'), 0);
  for (const bad of ['0000000008\0', '12 34\0', '-1\0', '0x10\0']) {
    assert.throws(() => p(bad), (e: unknown) => e instanceof ReprimageError && e.code === 'CORRUPT_IMAGE' && /x\.tar: .*at byte 124/.test(e.message), bad);
  }
  // base-256 beyond 2^53 is refused rather than rounded
  assert.throws(() => parseNumber(Buffer.from('80ffffffffffffffffffffff', 'hex'), 'x.tar', 124, 'size'), /number too large/);
});

test('the checksum is "%06o\\0 " over the header with the checksum field read as spaces', () => {
  const h = new Uint8Array(BLOCK);
  h.set(Buffer.from('./'), 0);
  sealChecksum(h);
  const expected = 0x2e + 0x2f + 8 * 0x20;
  assert.equal(Buffer.from(h.subarray(148, 156)).toString('latin1'), `${expected.toString(8).padStart(6, '0')}\0 `);
  assert.equal(checksumOf(h).unsigned, expected);
  // bytes over 127 make the signed sum (old Sun tars) differ from the unsigned one
  h[0] = 0xff;
  assert.equal(checksumOf(h).unsigned - checksumOf(h).signed, 256);
});

test('ustar names split as GNU tar splits them', () => {
  const split = (s: string) => {
    const b = Buffer.from(s);
    const i = ustarSplit(b);
    return i < 0 ? undefined : [b.subarray(0, i).toString(), b.subarray(i + 1).toString()];
  };
  const d = 'd'.repeat(60);
  assert.deepEqual(split(`./${d}/${d}/x`), [`./${d}/${d}`, 'x'], 'longest prefix');
  assert.deepEqual(split(`./${d}/${d}/`), [`./${d}`, `${d}/`], "a directory's trailing / is not a split point");
  assert.equal(split(`./${'q'.repeat(120)}`), undefined, 'a last component over 100 bytes');
  assert.equal(split(`./${'p'.repeat(160)}/x`), undefined, 'a prefix over 155 bytes');
  assert.deepEqual(split(`${'p'.repeat(155)}/${'n'.repeat(100)}`), ['p'.repeat(155), 'n'.repeat(100)], 'both fields full');
});

test('pax records count their own length, across a change in the number of digits', () => {
  assert.equal(Buffer.from(paxRecord('path', Buffer.from('a'))).toString(), '9 path=a\n');
  for (let n = 80; n < 120; n++) {
    const r = Buffer.from(paxRecord('path', Buffer.alloc(n, 'x'))).toString();
    assert.equal(Number(r.split(' ')[0]), Buffer.byteLength(r), r);
  }
  const into = new Map<string, Uint8Array>();
  parsePaxRecords(Buffer.concat([paxRecord('path', Buffer.from('a b=c')), paxRecord('SCHILY.xattr.user.bin', Buffer.from([0, 10, 61]))]), into, 'x', 0);
  assert.equal(Buffer.from(into.get('path')!).toString(), 'a b=c');
  assert.deepEqual([...into.get('SCHILY.xattr.user.bin')!], [0, 10, 61]);
});

test('pax times: fractions without trailing zeros, negative times as signed decimals, round trip', () => {
  assert.equal(paxTime(1600000000, 0), '1600000000');
  assert.equal(paxTime(1600000000, 250_000_000), '1600000000.25');
  assert.equal(paxTime(-1, 750_000_000), '-0.25');
  assert.equal(paxTime(-2, 500_000_000), '-1.5');
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: 999_999_999 }), (sec, nsec) => {
      assert.deepEqual(parsePaxTime(paxTime(sec, nsec), 'x', 0), { sec, nsec });
    }),
    { numRuns: 500 },
  );
  assert.throws(() => parsePaxTime('12x', 'x.tar', 7), /x\.tar: corrupt pax mtime record at byte 7/);
});
