// AAIP "AL" entries (extended attributes in ISO 9660, as xorriso/libisofs write them): the
// codec, the writer → reader round trip, and damaged attribute lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isReprimageError } from '../../src/errors.js';
import { decodeAl, encodeAl } from '../../src/formats/iso9660/aaip.js';
import { openIso, writeIso } from '../../src/formats/iso9660/index.js';
import { decodeSuspEntries } from '../../src/formats/iso9660/susp.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';

/** Attributes as sorted [name, hex] pairs, so Buffers and Uint8Arrays compare equal. */
function norm(map: ReadonlyMap<string, Uint8Array>): Array<[string, string]> {
  return [...map].map(([k, v]) => [k, Buffer.from(v).toString('hex')] as [string, string]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The data parts of the AL entries `encodeAl` produced. */
function alData(entries: Uint8Array[]): Uint8Array[] {
  const all = Buffer.concat(entries);
  return decodeSuspEntries(all, 'al', 0).map((e) => {
    assert.equal(e.signature, 'AL');
    return e.data;
  });
}

test('AL layout: namespace bytes, component records of at most 255 bytes, entries of at most 255 bytes', () => {
  const xattrs = new Map<string, Uint8Array>([
    ['user.greeting', Buffer.from('hello')],
    ['user.big', new Uint8Array(300).fill(0x78)],
  ]);
  const entries = encodeAl(xattrs);
  // What xorriso -xattr on wrote for the same two attributes (checked byte by byte at test writing).
  assert.deepEqual(entries.map((e) => e.length), [255, 83]);
  assert.deepEqual([...entries[0]!.subarray(0, 5)], [0x41, 0x4c, 255, 1, 1]);
  assert.deepEqual([...entries[0]!.subarray(5, 10)], [0, 4, 0x03, 0x62, 0x69], 'user.big first (bytewise order), as 0x03 "big"');
  assert.equal(entries[1]![4], 0, 'the last AL entry does not continue');
  assert.deepEqual(norm(decodeAl(alData(entries), 'x')), norm(xattrs));
  assert.deepEqual(encodeAl(new Map()), []);
  // Namespaces and escapes.
  const odd = new Map<string, Uint8Array>([
    ['security.capability', Uint8Array.of(1, 0, 0, 2)],
    ['trusted.t', Buffer.from('t')],
    ['system.s', Buffer.from('s')],
    ['\u0003weird', Buffer.from('w')],
    ['plain', new Uint8Array(0)],
  ]);
  assert.deepEqual(norm(decodeAl(alData(encodeAl(odd)), 'x')), norm(odd));
});

test('AL decoding skips ACLs and isofs.* and refuses cut-off lists', () => {
  // The root AL xorriso writes: isofs.nt, then an (empty-named) ACL pair and a user attribute.
  const data = Uint8Array.of(0, 0, 3, 0x04, 0x6e, 0x74, 0, 4, 1, 1, 1, 0xff, 0, 0, 0, 3, 0x16, 0x34, 0x54, 0, 2, 0x03, 0x61, 0, 1, 0x62);
  assert.deepEqual(norm(decodeAl([data], 'x')), [['user.a', '62']]);
  const bad = (d: Uint8Array) => assert.throws(() => decodeAl([d], 'bad.iso'), (e: unknown) => isReprimageError(e) && e.code === 'CORRUPT_IMAGE' && e.message.includes('bad.iso'));
  bad(Uint8Array.of(0, 0, 9, 0x03, 0x61)); // record longer than the data
  bad(Uint8Array.of(0, 0, 2, 0x03, 0x61)); // a name without a value
  bad(Uint8Array.of(0, 1, 2, 0x03, 0x61)); // a component that never ends
  bad(Uint8Array.of(0, 0)); // a lone flags byte
});

test('property: any xattr map survives encodeAl → decodeAl', () => {
  const name = fc.string({ minLength: 1, maxLength: 300 }).filter((s) => !s.includes('\0') && !s.startsWith('isofs.'));
  fc.assert(
    fc.property(fc.dictionary(name, fc.uint8Array({ maxLength: 700 }), { maxKeys: 6 }), (obj) => {
      const map = new Map(Object.entries(obj).map(([k, v]) => [k, v] as [string, Uint8Array]));
      const entries = encodeAl(map);
      assert.ok(entries.every((e) => e.length <= 255));
      assert.deepEqual(norm(decodeAl(alData(entries), 'p')), norm(map));
    }),
    { numRuns: 200 },
  );
});

test('writer → reader: xattrs of files, directories, symlinks and the root come back; xattrs: false leaves them out', async () => {
  const m = (mode: number, xattrs: Array<[string, string]>) => ({ mode, uid: 0, gid: 0, mtime: { sec: 1000, nsec: 0 }, xattrs: new Map(xattrs.map(([k, v]) => [k, Buffer.from(v)] as [string, Uint8Array])) });
  const tree = new Tree(newDir(m(0o755, [['user.root', 'r']])));
  tree.set('d', newDir(m(0o755, [['user.dir', 'd'.repeat(600)]])));
  tree.set('d/f', { kind: 'file', ...m(0o644, [['security.selinux', 'system_u:object_r:etc_t:s0\0'], ['user.a', 'b']]), content: bytesContent(Buffer.from('x')) });
  tree.set('d/l', { kind: 'symlink', ...m(0o777, [['trusted.link', 'l']]), target: 'f' });
  const write = async (xattrs: boolean) => {
    const sink = new MemorySink();
    await writeIso(tree, sink, { volumeId: 'XA', buildTime: 2000, xattrs });
    return (await openIso(bufferSource(sink.bytes(), 'xa.iso'))).tree();
  };
  const back = await write(true);
  for (const path of ['', 'd', 'd/f', 'd/l']) assert.deepEqual(norm(back.get(path)!.xattrs), norm(tree.get(path)!.xattrs), path || '/');
  const without = await write(false);
  for (const path of ['', 'd', 'd/f', 'd/l']) assert.equal(without.get(path)!.xattrs.size, 0);
});
