// Unit tests of the ISO 9660 codecs, the writer/reader round trip, and hostile images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';
import { isReprimageError } from '../../src/errors.js';
import { openIso, sniffIso, writeIso, type IsoWriteOptions } from '../../src/formats/iso9660/index.js';
import { decodeDecDateTime, decodeDirDateTime, encodeDecDateTime, encodeDirDateTime, putBoth32, getBe32 } from '../../src/formats/iso9660/numbers.js';
import { encodeSl, encodeNm, interpretRockRidge } from '../../src/formats/iso9660/rock-ridge.js';
import { decodeSuspEntries } from '../../src/formats/iso9660/susp.js';
import { decodeBootCatalog, encodeBootCatalog } from '../../src/formats/iso9660/el-torito.js';
import { decodeGuid, encodeGuid } from '../../src/formats/iso9660/system-area.js';
import { assignIsoIds, compareIdentifiers } from '../../src/formats/iso9660/iso-names.js';
import { ISO_EPOCH, isoProjection, isoSampleTree } from '../helpers/iso-sample.js';

async function isoBytes(tree: Tree, options: Partial<IsoWriteOptions> = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeIso(tree, sink, { volumeId: 'UNIT', buildTime: ISO_EPOCH, padding: 0, ...options });
  return sink.bytes();
}

test('both-endian numbers and dates', () => {
  const b = new Uint8Array(8);
  putBoth32(b, 0, 0x12345678);
  assert.deepEqual([...b], [0x78, 0x56, 0x34, 0x12, 0x12, 0x34, 0x56, 0x78]);
  assert.equal(getBe32(b, 4), 0x12345678);
  assert.deepEqual([...encodeDirDateTime(ISO_EPOCH)], [123, 11, 14, 22, 13, 20, 0]);
  assert.equal(decodeDirDateTime(encodeDirDateTime(ISO_EPOCH)), ISO_EPOCH);
  assert.equal(decodeDirDateTime(encodeDirDateTime(-3e9)), -2208988800, 'clamped to 1900');
  assert.equal(Buffer.from(encodeDecDateTime(ISO_EPOCH).subarray(0, 16)).toString(), '2023111422132000');
  assert.equal(decodeDecDateTime(encodeDecDateTime(ISO_EPOCH)), ISO_EPOCH);
  assert.equal(decodeDecDateTime(encodeDecDateTime(undefined)), undefined);
  // A record dated 08:00 at GMT+2 (offset 8 quarter hours) is 06:00 UTC.
  assert.equal(decodeDirDateTime(Uint8Array.of(123, 11, 14, 8, 0, 0, 8)), Date.UTC(2023, 10, 14, 6) / 1000);
});

test('symlink targets survive SL encoding, also when split over entries', () => {
  for (const target of ['busybox', '/', '/usr/bin', '../a/./b', 'a/', '//x', '', '../'.repeat(90) + 'z'.repeat(600), 'é/ü']) {
    const entries = encodeSl(target).flatMap((e) => decodeSuspEntries(e, 'sl', 0));
    assert.ok(encodeSl(target).every((e) => e.length <= 255));
    assert.equal(interpretRockRidge(entries).symlink, target, JSON.stringify(target));
  }
  const long = Buffer.from('n'.repeat(700));
  const nm = encodeNm(long).flatMap((e) => decodeSuspEntries(e, 'nm', 0));
  assert.equal(interpretRockRidge(nm).name, long.toString());
});

test('ISO identifiers: d-characters, unique, sorted as ECMA-119 §9.3 says', () => {
  const ids = assignIsoIds([{ name: 'Case', dir: false }, { name: 'case', dir: false }, { name: 'a.b.c', dir: false }, { name: 'x.d', dir: true }, { name: 'README', dir: false }]);
  assert.deepEqual(ids, ['CASE.;1', 'CASE1.;1', 'A_B.C;1', 'X_D', 'README.;1']);
  assert.ok(compareIdentifiers('A.;1', 'A_.;1') < 0);
  assert.ok(compareIdentifiers('AB.C;1', 'AB.D;1') < 0);
});

test('boot catalog: checksum, sections, and a corrupt checksum is CORRUPT_IMAGE', () => {
  const entries = [
    { platform: 0, bootable: true, mediaType: 0, loadSegment: 0, systemType: 0, sectorCount: 4, loadRba: 34 },
    { platform: 0xef, bootable: true, mediaType: 0, loadSegment: 0, systemType: 0, sectorCount: 4096, loadRba: 512 },
  ];
  const cat = encodeBootCatalog(entries);
  assert.deepEqual(decodeBootCatalog(cat, 'cat', 0), entries);
  cat[4] = cat[4]! ^ 1;
  assert.throws(() => decodeBootCatalog(cat, 'cat', 0), (e: unknown) => isReprimageError(e) && e.code === 'CORRUPT_IMAGE');
  assert.equal(decodeGuid(encodeGuid('C12A7328-F81F-11D2-BA4B-00A0C93EC93B')), 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'GUIDs read back in lower case, as src/formats/gpt prints them');
});

test('round trip: Tree → ISO → Tree keeps what Rock Ridge can hold, and the other namespaces read', async () => {
  const tree = isoSampleTree({ deep: 11 });
  for (const relocate of [false, true]) {
    const bytes = await isoBytes(tree, { relocateDeepDirectories: relocate });
    assert.ok(sniffIso(bytes));
    const image = await openIso(bufferSource(bytes, 'rt.iso'));
    assert.equal(image.rockRidge, true);
    assert.equal(image.volumes.primary.volumeId, 'UNIT');
    assert.equal(image.volumes.primary.creationDate, ISO_EPOCH);
    assert.equal(image.volumes.joliet?.volumeId, 'UNIT');
    assert.deepEqual(await isoProjection(await image.tree(), ISO_EPOCH), await isoProjection(tree, ISO_EPOCH));
    const joliet = await image.tree({ namespace: 'joliet' });
    assert.equal(joliet.get('etc/hostname')?.kind, 'file');
    assert.equal(joliet.get('bin/sh'), undefined, 'no symlinks in Joliet');
    const plain = await image.tree({ namespace: 'iso9660' });
    assert.equal(plain.get('ETC/HOSTNAME')?.kind, 'file');
  }
});

test('the writer is deterministic and independent of insertion order', async () => {
  const a = await isoBytes(isoSampleTree({ deep: 9 }));
  const b = await isoBytes(isoSampleTree({ deep: 9, reverse: true }));
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
});

test('sort weights place heavier files first; hard links share one extent', async () => {
  const tree = isoSampleTree();
  const bytes = await isoBytes(tree, { sortWeights: new Map([['old', 10], ['bin/busybox', 5]]) });
  const image = await openIso(bufferSource(bytes, 'w.iso'));
  const t = await image.tree();
  const offsetOf = async (p: string) => {
    const n = t.get(p)! as Extract<Node, { kind: 'file' }>;
    const chunk = n.content;
    return chunk.origin;
  };
  assert.ok(await offsetOf('old'));
  // Extents: find the data by content search, heavier first.
  const buf = Buffer.from(bytes);
  const oldAt = buf.indexOf('epoch\n');
  const busyAt = buf.indexOf(Buffer.from(new Uint8Array(64).map((_, i) => (i * 7) & 0xff)));
  const hostAt = buf.indexOf('reprimage\n');
  assert.ok(oldAt < busyAt && busyAt < hostAt, `${oldAt} ${busyAt} ${hostAt}`);
  assert.equal(buf.indexOf('linked twice\n'), buf.lastIndexOf('linked twice\n'), 'one copy for two hard links');
  assert.equal(t.get('hard-a'), t.get('hard-b'));
});

test('fast-check: arbitrary trees round-trip', async () => {
  const name = fc.oneof(
    fc.stringMatching(/^[a-zA-Z0-9._ -]{1,40}$/).filter((s) => s !== '.' && s !== '..'),
    fc.constantFrom('caf\udce9', 'caf\u00e9', '\udcd0\udcd2\udcc9'), // Latin-1, UTF-8, KOI8-R: Rock Ridge keeps the bytes
  );
  const leaf = fc.oneof(
    fc.record({ kind: fc.constant('file' as const), data: fc.uint8Array({ maxLength: 3000 }) }),
    fc.record({ kind: fc.constant('symlink' as const), target: fc.stringMatching(/^[a-z./]{0,300}$/) }),
    fc.record({ kind: fc.constant('char' as const), major: fc.integer({ min: 0, max: 4095 }), minor: fc.integer({ min: 0, max: 0xfffff }) }),
  );
  const spec = fc.array(fc.tuple(fc.array(name, { minLength: 1, maxLength: 10 }), leaf, fc.integer({ min: 0, max: 0o7777 }), fc.integer({ min: -1e9, max: 2e9 }), fc.nat(70000)), { maxLength: 25 });
  await fc.assert(
    fc.asyncProperty(spec, async (entries) => {
      const tree = new Tree(newDir());
      for (const [parts, l, mode, mtime, uid] of entries) {
        const path = parts.join('/');
        const meta = { mode, uid, gid: uid, mtime: { sec: mtime, nsec: 7 }, xattrs: new Map() };
        let node: Node;
        if (l.kind === 'file') node = { kind: 'file', ...meta, content: bytesContent(l.data) };
        else if (l.kind === 'symlink') node = { kind: 'symlink', ...meta, target: l.target };
        else node = { kind: 'char', ...meta, major: l.major, minor: l.minor };
        try {
          tree.set(path, node);
        } catch {
          // a parent is not a directory: skip this entry
        }
      }
      const image = await openIso(bufferSource(await isoBytes(tree), 'p.iso'));
      assert.deepEqual(await isoProjection(await image.tree(), ISO_EPOCH), await isoProjection(tree, ISO_EPOCH));
    }),
    { numRuns: 60 },
  );
});

function expectCode(code: string) {
  return (e: unknown) => {
    assert.ok(isReprimageError(e), `not a ReprimageError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** Offset of the directory record named `id` in the first directory sectors of the image. */
function findRecord(bytes: Uint8Array, id: string): number {
  const buf = Buffer.from(bytes);
  // Skip path table hits: a directory record has the identifier length just before the id.
  for (let at = buf.indexOf(id, 0, 'latin1'); at >= 0; at = buf.indexOf(id, at + 1, 'latin1')) {
    if (at > 33 && buf[at - 1] === id.length && buf[at - 33]! >= 34 + id.length) return at - 33;
  }
  throw new Error(`no record ${id}`);
}

test('hostile images: truncation, loops, extents past the end, endless CE chains, bad catalogs', async () => {
  const tree = isoSampleTree();
  tree.set('sub/inner/file', { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { sec: 1, nsec: 0 }, xattrs: new Map(), content: bytesContent(Buffer.from('x')) });
  const good = await isoBytes(tree, { bios: { bootImage: 'bin/busybox' }, joliet: false });
  const open = async (b: Uint8Array) => (await openIso(bufferSource(b, 'bad.iso'))).tree();

  await assert.rejects(open(good.subarray(0, 20000)), expectCode('TRUNCATED'));
  await assert.rejects(open(good.subarray(0, 17 * 2048)), expectCode('TRUNCATED'));
  const noMagic = good.slice();
  noMagic[16 * 2048 + 1] = 0x58;
  await assert.rejects(open(noMagic), expectCode('CORRUPT_IMAGE'));

  // The directory "INNER" points back at the root directory: a loop.
  const loop = good.slice();
  const rootExtent = new DataView(loop.buffer).getUint32(16 * 2048 + 156 + 2, true);
  putBoth32(loop, findRecord(loop, 'INNER') + 2, rootExtent);
  await assert.rejects(open(loop), expectCode('LINK_LOOP'));

  // A file whose extent lies past the end.
  const past = good.slice();
  putBoth32(past, findRecord(past, 'HOSTNAME.;1') + 2, 0x7fffff);
  await assert.rejects(open(past), expectCode('OUT_OF_BOUNDS'));

  // A directory claiming 1 GiB.
  const huge = good.slice();
  putBoth32(huge, findRecord(huge, 'SUB') + 10, 0x40000000);
  await assert.rejects(open(huge), expectCode('OVERFLOW'));

  // The CE of the long symlink points at itself.
  const ce = good.slice();
  const rec = findRecord(ce, 'LINKDIR.;1');
  const ceAt = Buffer.from(ce).indexOf(Buffer.from('CE\x1c\x01', 'latin1'), rec);
  const target = new DataView(ce.buffer).getUint32(ceAt + 4, true) * 2048 + new DataView(ce.buffer).getUint32(ceAt + 12, true);
  ce.set(ce.subarray(ceAt, ceAt + 28), target);
  putBoth32(ce, ceAt + 4, Math.floor(target / 2048));
  putBoth32(ce, ceAt + 12, target % 2048);
  putBoth32(ce, target + 4, Math.floor(target / 2048));
  putBoth32(ce, target + 12, target % 2048);
  putBoth32(ce, target + 20, 28);
  await assert.rejects(open(ce), expectCode('CORRUPT_IMAGE'));

  // A boot catalog with a broken checksum.
  const image = await openIso(bufferSource(good, 'ok.iso'));
  assert.equal(image.bootCatalog?.entries[0]?.platformName, 'bios');
  const cat = good.slice();
  const sum = image.bootCatalog!.sector * 2048 + 28;
  cat[sum] = cat[sum]! ^ 0xff;
  await assert.rejects(openIso(bufferSource(cat, 'cat.iso')), expectCode('CORRUPT_IMAGE'));
});

test('fuzz: byte flips in a small image give only ReprimageErrors, quickly', async () => {
  const good = await isoBytes(isoSampleTree({ deep: 10 }), { relocateDeepDirectories: true, bios: { bootImage: 'bin/busybox' }, gpt: { diskGuid: '11111111-2222-3333-4444-555555555555', partitionGuids: ['11111111-2222-3333-4444-555555555556'] } });
  const start = 16 * 2048;
  let errors = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), fc.boolean(), async (flips, inMeta) => {
      const bad = good.slice();
      const metaEnd = Math.min(good.length, start + 40 * 2048);
      for (const [at, x] of flips) {
        const i = inMeta ? start + (at % (metaEnd - start)) : at;
        bad[i] = bad[i]! ^ x;
      }
      try {
        const image = await openIso(bufferSource(bad, 'fuzz.iso'));
        const tree = await image.tree();
        for (const { node } of tree.walk()) if (node.kind === 'file') for await (const _ of node.content.chunks()) void _;
      } catch (e) {
        if (!isReprimageError(e)) throw e;
        errors++;
      }
    }),
    { numRuns: 400 },
  );
  assert.ok(errors > 0, 'some flips must be detected');
});
