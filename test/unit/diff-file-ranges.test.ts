// Members of two archives on disk are compared in place, as byte ranges of the two files (reused
// buffers, no copies): the ranges must be the members' own, at their own offsets, whatever
// the offsets of the same members in the other file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { writeTar } from '../../src/formats/tar/index.js';
import { diffPaths } from '../../src/diff/engine.js';
import { fileBlob, sameBytes } from '../../src/diff/blob.js';
import { LATE_BUILD_TIME } from '../helpers/sample-tree.js';

const meta = { mode: 0o644, uid: 0, gid: 0, mtime: { sec: 1700000000, nsec: 0 }, xattrs: new Map<string, Uint8Array>() };

function big(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function tarOf(files: Array<[string, Uint8Array]>): Promise<Uint8Array> {
  const tree = new Tree(newDir(meta));
  for (const [name, bytes] of files) tree.set(name, { kind: 'file', ...meta, content: bytesContent(bytes) });
  const sink = new MemorySink();
  await writeTar(tree, sink, { format: 'gnu', namePrefix: '', buildTime: LATE_BUILD_TIME });
  return sink.bytes();
}

/** The names of the members a difference tree reports. */
function named(d: { source1: string; details: Array<{ source1: string; details: unknown[] }> } | undefined): string[] {
  return (d?.details ?? []).map((x) => x.source1);
}

test('equal members at other offsets are equal; a member differing in its last byte is found', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-ranges-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const same = big(1, 5 << 20); // larger than one comparison step
  const late = big(2, 6 << 20);
  const lateB = late.slice();
  lateB[lateB.length - 1]! ^= 1;
  // b has an extra member first, so every member sits at another offset than in a
  const a = await tarOf([['m-same', same], ['z-late', late]]);
  const b = await tarOf([['a-extra', new Uint8Array(3000)], ['m-same', same], ['z-late', lateB]]);
  writeFileSync(join(dir, 'a.tar'), a);
  writeFileSync(join(dir, 'b.tar'), b);
  const d = (await diffPaths(join(dir, 'a.tar'), join(dir, 'b.tar'))) as never;
  // the added member shows in the file list and as a new file; the moved equal one not at all
  assert.deepEqual(named(d), ['file list', '/dev/null', './z-late']);
  // and two files compared from offset 0 still tell a one-byte difference at the very end
  writeFileSync(join(dir, 'c.tar'), b);
  const c = Buffer.from(b);
  c[c.length - 1]! ^= 1;
  writeFileSync(join(dir, 'd.tar'), c);
  assert.equal(await sameBytes(fileBlob(join(dir, 'b.tar'), b.length), fileBlob(join(dir, 'c.tar'), b.length)), true);
  assert.equal(await sameBytes(fileBlob(join(dir, 'b.tar'), b.length), fileBlob(join(dir, 'd.tar'), b.length)), false);
});
