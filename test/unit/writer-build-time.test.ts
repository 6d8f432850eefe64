/**
 * Every Tree writer of the public API clamps times to its build time by default: a Tree whose
 * files were touched after the build time (as one loaded from a directory made today is) is
 * stored with those times lowered to the build time, and the caller's Tree is left as it was.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bufferSource } from '../../src/io/source.js';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, newMeta, type Time } from '../../src/tree/tree.js';
import { loadTar, writeTar } from '../../src/formats/tar/index.js';
import { loadCpio, writeCpio } from '../../src/formats/cpio/index.js';
import { openSquashfs, writeSquashfs } from '../../src/formats/squashfs/index.js';
import { openExt4, writeExt4 } from '../../src/formats/ext4/index.js';
import { openFat, writeFat } from '../../src/formats/fat/index.js';
import { openIso, writeIso } from '../../src/formats/iso9660/index.js';
import { writeImage } from '../../src/image/write-image.js';

const BUILD_TIME = 1_700_000_000;
const LATER: Time = { sec: BUILD_TIME + 86_400 * 400, nsec: 123_456_789 };
const EARLIER: Time = { sec: BUILD_TIME - 3600, nsec: 0 };

/** A Tree with one file and one directory after the build time, one file before it, and a hard link. */
function touchedToday(): Tree {
  const tree = new Tree(newDir({ mode: 0o755, mtime: LATER }));
  const file = (text: string, mtime: Time) => ({ kind: 'file' as const, ...newMeta({ mode: 0o644, mtime }), content: bytesContent(new TextEncoder().encode(text)) });
  tree.set('etc', { kind: 'dir', ...newMeta({ mode: 0o755, mtime: LATER }), children: new Map() });
  const hostname = file('example\n', LATER);
  tree.set('etc/hostname', hostname);
  tree.set('etc/hostname.link', hostname);
  tree.set('etc/old', file('old\n', EARLIER));
  return tree;
}

/** The mtimes of the named entries after a round trip, in seconds. */
function times(tree: Tree): Map<string, number> {
  return new Map([...tree.walk()].filter((e) => e.path.startsWith('etc')).map((e) => [e.path, e.node.mtime.sec]));
}

const writers: Array<[string, (tree: Tree, sink: MemorySink) => Promise<unknown>, (bytes: Uint8Array) => Promise<Tree>]> = [
  ['tar (pax)', (t, s) => writeTar(t, s, { format: 'pax', buildTime: BUILD_TIME }), (b) => loadTar(bufferSource(b, 'x.tar'))],
  ['tar (gnu)', (t, s) => writeTar(t, s, { format: 'gnu', buildTime: BUILD_TIME }), (b) => loadTar(bufferSource(b, 'x.tar'))],
  ['cpio', (t, s) => writeCpio(t, s, { buildTime: BUILD_TIME }), (b) => loadCpio(bufferSource(b, 'x.cpio'))],
  ['squashfs', (t, s) => writeSquashfs(t, s, { buildTime: BUILD_TIME, workers: 1 }), async (b) => (await openSquashfs(bufferSource(b, 'x.sqfs'))).tree()],
  ['ext4', (t, s) => writeExt4(t, s, { buildTime: BUILD_TIME, size: 16 << 20, blockSize: 1024, uuid: '0a0b0c0d-0000-4000-8000-000000000001', hashSeed: '0a0b0c0d-0000-4000-8000-000000000002', journalUuid: '0a0b0c0d-0000-4000-8000-000000000003' }), async (b) => (await openExt4(bufferSource(b, 'x.ext4'))).tree()],
  ['fat', (t, s) => writeFat(t, s, { buildTime: BUILD_TIME, volumeSerial: 0x1234 }), async (b) => (await openFat(bufferSource(b, 'x.fat'))).tree()],
  ['iso9660', (t, s) => writeIso(t, s, { buildTime: BUILD_TIME, volumeId: 'T' }), async (b) => (await openIso(bufferSource(b, 'x.iso'))).tree()],
  ['writeImage (policy: false)', (t, s) => writeImage(t, 'squashfs', s, { buildTime: BUILD_TIME, policy: false }), async (b) => (await openSquashfs(bufferSource(b, 'x.sqfs'))).tree()],
];

for (const [name, write, read] of writers) {
  test(`${name}: times after the build time are stored as the build time, earlier ones kept; the caller's Tree unchanged`, async () => {
    const tree = touchedToday();
    const sink = new MemorySink();
    await write(tree, sink);
    const back = times(await read(sink.bytes()));
    assert.equal(back.get('etc'), BUILD_TIME);
    assert.equal(back.get('etc/hostname'), BUILD_TIME);
    assert.equal(back.get('etc/hostname.link'), BUILD_TIME);
    // FAT stores local time in 2-second steps: the earlier time may come back rounded down
    assert.ok(Math.abs(back.get('etc/old')! - EARLIER.sec) <= 1, `etc/old came back as ${back.get('etc/old')}`);
    assert.deepEqual(tree.get('etc/hostname')!.mtime, LATER);
    assert.deepEqual(tree.root.mtime, LATER);
  });
}

test('a Tree with no time after the build time gives the same bytes as before (no copy, no change)', async () => {
  const clamped = touchedToday();
  for (const { node } of clamped.walk()) if (node.mtime.sec > BUILD_TIME) node.mtime = { sec: BUILD_TIME, nsec: 0 };
  const a = new MemorySink();
  const b = new MemorySink();
  await writeTar(clamped, a, { format: 'pax', buildTime: BUILD_TIME });
  await writeTar(touchedToday(), b, { format: 'pax', buildTime: BUILD_TIME });
  assert.deepEqual(a.bytes(), b.bytes());
});

test('a writer refuses a build time that is not a whole number of seconds', async () => {
  await assert.rejects(writeTar(touchedToday(), new MemorySink(), { format: 'gnu', buildTime: -1 }), /buildTime/);
  await assert.rejects(writeCpio(touchedToday(), new MemorySink(), { buildTime: 1.5 }), /buildTime/);
});
