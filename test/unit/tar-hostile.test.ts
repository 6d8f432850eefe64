// Bad tar input: every case is a ReprimageError with the right code whose message names the
// archive and the byte offset; nothing hangs, nothing allocates a declared huge size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadTar } from '../../src/formats/tar/index.js';
import { BLOCK } from '../../src/formats/tar/layout.js';
import { readContent } from '../../src/tree/content.js';
import { ReprimageError, type ErrorCode } from '../../src/errors.js';
import type { RandomAccessSource } from '../../src/io/source.js';
import { archive, header, member, paxMember, source, sparseSource } from './tar-support.js';

async function refused(input: Uint8Array | RandomAccessSource, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => {
      const tree = await loadTar(input instanceof Uint8Array ? source(input, 'bad.tar') : input);
      // contents are lazy: read them all, so errors in member data surface too
      for (const { node } of tree.walk()) if (node.kind === 'file') await readContent(node.content);
    },
    (e: unknown) => {
      assert.ok(e instanceof ReprimageError, `not a ReprimageError: ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, /^bad\.tar\b/, 'names the archive first');
      assert.match(e.message, message);
      return true;
    },
  );
}

const ok = member({ name: 'ok' }, 'fine');

test('a header cut short', async () => {
  await refused(Buffer.concat([ok, header({ name: 'cut' }).subarray(0, 200)]), 'TRUNCATED', /truncated tar header at byte 1024 \(312 more bytes needed\)/);
});

test("a member's data cut short", async () => {
  const whole = archive(ok, member({ name: 'big' }, Buffer.alloc(3000, 1)));
  await refused(whole.subarray(0, 1024 + 512 + 1000), 'TRUNCATED', /truncated tar member data \(size 3000\) at byte 1536/);
});

test('a bad header checksum', async () => {
  const h = header({ name: 'x', patch: (b) => (b[0] = 0x79), rawChecksum: false });
  h[1] = h[1]! ^ 1;
  await refused(archive(ok, h), 'CORRUPT_IMAGE', /corrupt tar header at byte 1024: bad header checksum/);
  await refused(archive(header({ name: 'x', patch: (b) => b.set(Buffer.from('12x4\0'), 148), rawChecksum: true })), 'CORRUPT_IMAGE', /at byte 148: not an octal number/);
});

test('a negative size (base-256)', async () => {
  await refused(archive(ok, header({ name: 'neg', size: -512 })), 'CORRUPT_IMAGE', /at byte 1024: negative member size -512/);
});

test('sizes past the end of the archive, up to absurd ones, fail before anything is allocated', async () => {
  for (const size of [BLOCK * 4, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    await refused(archive(ok, header({ name: 'huge', size })), 'TRUNCATED', /truncated tar member data \(size \d+\) at byte 1536/);
  }
  await refused(archive(header({ name: 'huge', patch: (b) => b.set(Buffer.from('80ffffffffffffffffffffff', 'hex'), 124) })), 'CORRUPT_IMAGE', /tar size field at byte 124: number too large/);
  await refused(archive(paxMember([['size', '99999999999999999999']]), header({ name: 'x' })), 'CORRUPT_IMAGE', /pax size record at byte 1024: bad number/);
  // a long-name record that is really there but far too big: refused before it is read
  const bigL = header({ name: '././@LongLink', type: 'L', magic: 'gnu', size: 2 ** 30 });
  await refused(sparseSource(bigL, 2 ** 30 + 3 * BLOCK, new Uint8Array(0), 'bad.tar'), 'OVERFLOW', /tar L record of 1073741824 bytes at byte 0/);
});

test('bad octal in number fields', async () => {
  for (const [field, at] of [['mode', 100], ['uid', 108], ['mtime', 136], ['size', 124]] as const) {
    const h = header({ name: 'x', patch: (b) => b.set(Buffer.from('99\0'), at) });
    await refused(archive(ok, h), 'CORRUPT_IMAGE', new RegExp(`tar ${field} field at byte ${1024 + at}: not an octal number`));
  }
  const dev = header({ name: 'd', type: '3', patch: (b) => b.set(Buffer.from('zz\0'), 329) });
  await refused(archive(dev), 'CORRUPT_IMAGE', /devmajor field at byte 329/);
});

test('a hard link to a missing entry, to a directory, or as the root', async () => {
  await refused(archive(ok, member({ name: 'h', type: '1', linkname: 'missing' })), 'NOT_FOUND', /entry at byte 1024\): hard link "h" to "missing", which is not earlier/);
  await refused(archive(member({ name: 'd/', type: '5' }), member({ name: 'h', type: '1', linkname: 'd' })), 'CORRUPT_IMAGE', /entry at byte 512\): hard link "h" to a directory/);
  await refused(archive(ok, member({ name: './', type: '1', linkname: 'ok' })), 'CORRUPT_IMAGE', /the root cannot be a hard link/);
});

test("'..' in names, link targets of hard links and pax paths is PATH_ESCAPE", async () => {
  await refused(archive(ok, member({ name: '../etc/passwd' }, 'x')), 'PATH_ESCAPE', /entry at byte 1024\): path "\.\.\/etc\/passwd" climbs out/);
  await refused(archive(ok, member({ name: 'a/../../b' }, 'x')), 'PATH_ESCAPE', /climbs out/);
  await refused(archive(ok, member({ name: 'h', type: '1', linkname: '../ok' })), 'PATH_ESCAPE', /entry at byte 1024/);
  await refused(archive(paxMember([['path', 'x/../../y']]), member({ name: 'harmless' })), 'PATH_ESCAPE', /entry at byte 1024/);
});

test('malformed pax records and sparse maps', async () => {
  const raw = (data: string) => member({ name: 'PaxHeaders/x', type: 'x' }, data);
  await refused(archive(raw('5 a=b\n'), member({ name: 'x' })), 'CORRUPT_IMAGE', /pax extended header at byte 512: malformed record/);
  await refused(archive(raw('99 a=b\n'), member({ name: 'x' })), 'CORRUPT_IMAGE', /malformed record/);
  await refused(archive(raw('7 ab_c\n'), member({ name: 'x' })), 'CORRUPT_IMAGE', /record without "="/);
  await refused(archive(paxMember([['mtime', '1.2.3']]), member({ name: 'x' })), 'CORRUPT_IMAGE', /pax mtime record at byte 1024: bad time/);
  await refused(archive(paxMember([['GNU.sparse.numbytes', '5']]), member({ name: 'x' })), 'CORRUPT_IMAGE', /GNU\.sparse\.numbytes out of order/);
  await refused(archive(paxMember([['GNU.sparse.size', '10'], ['GNU.sparse.offset', '5']]), member({ name: 'x' })), 'CORRUPT_IMAGE', /GNU\.sparse\.offset without GNU\.sparse\.numbytes/);
  // a map that points past the real size, or maps more than the member stores
  await refused(archive(paxMember([['GNU.sparse.size', '10'], ['GNU.sparse.map', '5,10']]), member({ name: 'x' }, 'abcdefghij')), 'CORRUPT_IMAGE', /sparse map at byte 1024: regions overlap, go backwards or lie past the end/);
  await refused(archive(paxMember([['GNU.sparse.size', '100'], ['GNU.sparse.map', '0,50']]), member({ name: 'x' }, 'short')), 'CORRUPT_IMAGE', /maps 50 bytes but the member stores 5/);
  await refused(archive(paxMember([['GNU.sparse.major', '1'], ['GNU.sparse.realsize', '10']]), member({ name: 'x' }, '9999999999\n')), 'OVERFLOW', /sparse map of 9999999999 regions at byte 1024/);
});

test('a continuation of a multi-volume member is UNSUPPORTED', async () => {
  await refused(archive(member({ name: 'part', type: 'M', magic: 'gnu' }, 'rest')), 'UNSUPPORTED', /entry at byte 0\): "part" continues a member of a previous volume/);
});

test('random byte flips and cuts of a realistic archive only ever raise ReprimageErrors', async () => {
  const good = archive(
    paxMember([['path', 'p/' + 'x'.repeat(120)], ['mtime', '1.5'], ['SCHILY.xattr.user.a', 'v']]),
    member({ name: 'ignored' }, 'data'),
    member({ name: '././@LongLink', type: 'L', magic: 'gnu' }, 'l/' + 'y'.repeat(130) + '\0'),
    member({ name: 'l', magic: 'gnu' }, Buffer.alloc(700, 7)),
    member({ name: 'h', type: '1', linkname: 'l/' + 'y'.repeat(10) }),
    paxMember([['GNU.sparse.size', '3000'], ['GNU.sparse.map', '1000,5']]),
    member({ name: 's' }, 'sssss'),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(good.length), async (flips, cut) => {
      const bytes = Buffer.from(good.subarray(0, Math.max(cut, good.length - 2048)));
      for (const [at, x] of flips) if (at < bytes.length) bytes[at]! ^= x;
      try {
        const tree = await loadTar(source(bytes, 'fuzz.tar'));
        for (const { node } of tree.walk()) if (node.kind === 'file') await readContent(node.content);
      } catch (e) {
        if (!(e instanceof ReprimageError)) throw e;
      }
    }),
    { numRuns: 1500 },
  );
});
