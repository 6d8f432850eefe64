// Extended attributes in ISO 9660 as AAIP "AL" entries, checked against xorriso both ways:
// osirrox extracts the attributes we wrote (getfattr on the extracted files shows them), and
// our reader finds the attributes xorriso -xattr on wrote from a directory made with setfattr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openIso, writeIso } from '../../src/formats/iso9660/index.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { openFileSource } from '../../src/io/source.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const EPOCH = 1700000000;
const BIG = 'v'.repeat(700);

/** getfattr -d -m - -e hex -R, as { path: { name: hex } } relative to `dir`. */
function getfattr(dir: string): Record<string, Record<string, string>> {
  const text = run('getfattr', ['-d', '-m', '-', '-e', 'hex', '-R', '--absolute-names', dir]).stdout.toString();
  const out: Record<string, Record<string, string>> = {};
  let current = '';
  for (const line of text.split('\n')) {
    const file = /^# file: (.*)$/.exec(line);
    if (file) {
      current = file[1]!.slice(dir.length).replace(/^\//, '');
      out[current] = {};
      continue;
    }
    const attr = /^([^=]+)=0x([0-9a-f]*)$/.exec(line);
    if (attr) out[current]![attr[1]!] = attr[2]!;
  }
  return out;
}

const hex = (s: string | Uint8Array) => Buffer.from(s).toString('hex');

test('osirrox -xattr any restores the attributes reprimage wrote (files, directories, root, long values)', async (t) => {
  if (!requireTool(t, 'xorriso', 'getfattr')) return;
  const dir = tempDir(t);
  const m = (mode: number, xattrs: Array<[string, string | Uint8Array]>) => ({ mode, uid: 0, gid: 0, mtime: { sec: EPOCH - 5, nsec: 0 }, xattrs: new Map(xattrs.map(([k, v]) => [k, Buffer.from(v)] as [string, Uint8Array])) });
  const tree = new Tree(newDir(m(0o755, [['user.root', 'r']])));
  tree.set('etc', newDir(m(0o755, [['user.dir', 'directory attribute']])));
  tree.set('etc/f', { kind: 'file', ...m(0o644, [['user.a', 'b'], ['user.big', BIG], ['user.bin', Uint8Array.of(0, 1, 2, 255)]]), content: bytesContent(Buffer.from('x\n')) });
  tree.set('etc/plain', { kind: 'file', ...m(0o644, []), content: bytesContent(Buffer.from('no attributes\n')) });
  const iso = join(dir, 'xa.iso');
  await writeAtomically(iso, (sink) => writeIso(tree, sink, { volumeId: 'XA', buildTime: EPOCH }));

  const listing = run('xorriso', ['-xattr', 'any', '-indev', iso, '-getfattr_r', '/', '--'], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.toString();
  assert.match(listing, /# file: etc\/f\nuser\.a="b"\nuser\.big="v{700}"\nuser\.bin="\\000\\001\\002\\377"/);

  const out = join(dir, 'out');
  run('xorriso', ['-osirrox', 'on', '-xattr', 'any', '-indev', iso, '-extract', '/', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  const got = getfattr(out);
  assert.deepEqual(got[''], { 'user.root': hex('r') });
  assert.deepEqual(got['etc'], { 'user.dir': hex('directory attribute') });
  assert.deepEqual(got['etc/f'], { 'user.a': hex('b'), 'user.big': hex(BIG), 'user.bin': '000102ff' });
  assert.equal(got['etc/plain'], undefined, 'no attributes where there were none');
});

test('our reader finds the attributes xorriso -xattr on wrote', async (t) => {
  if (!requireTool(t, 'xorriso', 'setfattr')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd/f'), 'hi\n');
  run('setfattr', ['-n', 'user.greeting', '-v', 'hello', join(src, 'd/f')]);
  run('setfattr', ['-n', 'user.big', '-v', BIG, join(src, 'd/f')]);
  run('setfattr', ['-n', 'user.dirattr', '-v', 'dv', join(src, 'd')]);
  const iso = join(dir, 'x.iso');
  run('xorriso', ['-xattr', 'on', '-outdev', iso, '-map', src, '/'], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const source = await openFileSource(iso);
  t.after(() => source.close());
  const tree = await (await openIso(source)).tree();
  const attrs = (p: string) => Object.fromEntries([...tree.get(p)!.xattrs].map(([k, v]) => [k, Buffer.from(v).toString()]));
  assert.deepEqual(attrs('d/f'), { 'user.greeting': 'hello', 'user.big': BIG });
  assert.deepEqual(attrs('d'), { 'user.dirattr': 'dv' });
  assert.deepEqual(attrs(''), {}, "the root's isofs.* attributes are libisofs's own, not file xattrs");
});
