// Oracle tests of the ISO 9660 writer: xorriso, osirrox, isoinfo (genisoimage) and bsdtar must
// see exactly the Tree we wrote, with Rock Ridge metadata, and builds must be byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { writeIso, type IsoWriteOptions } from '../../src/formats/iso9660/index.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { ISO_EPOCH, expectedListing, isoSampleTree, parseXorrisoListing } from '../helpers/iso-sample.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

async function buildIso(t: import('node:test').TestContext, tree: Tree, options: Partial<IsoWriteOptions> = {}): Promise<string> {
  const out = join(tempDir(t), 'out.iso');
  await writeAtomically(out, (sink) => writeIso(tree, sink, { volumeId: 'REPRIMAGE_TEST', buildTime: ISO_EPOCH, ...options }));
  return out;
}

test('xorriso lists exactly the tree, with Rock Ridge modes, owners, devices and symlinks', async (t) => {
  if (!requireTool(t, 'xorriso')) return;
  for (const deep of [0, 12]) {
    const tree = isoSampleTree({ deep });
    const iso = await buildIso(t, tree);
    const listing = run('xorriso', ['-indev', iso, '-find', '/', '-exec', 'lsdl'], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.deepEqual(parseXorrisoListing(listing.stdout.toString('utf8')), expectedListing(tree));
  }
});

test('with relocation, deep directories are found again through CL/PL/RE (xorriso shows only rr_moved extra)', async (t) => {
  if (!requireTool(t, 'xorriso', 'bsdtar')) return;
  const tree = isoSampleTree({ deep: 12 });
  const iso = await buildIso(t, tree, { relocateDeepDirectories: true });
  const listing = run('xorriso', ['-indev', iso, '-find', '/', '-exec', 'lsdl'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const expected = [...expectedListing(tree), 'dr-xr-xr-x 0 0 0 /rr_moved'].sort();
  assert.deepEqual(parseXorrisoListing(listing.stdout.toString('utf8')), expected);
  const isoinfo = run('isoinfo', ['-l', '-i', iso]).stdout.toString('latin1');
  assert.match(isoinfo, /Directory listing of \/RR_MOVED\/D7\//, 'd7 (level 9) is relocated');
  // bsdtar hides rr_moved and puts relocated directories back.
  const names = run('bsdtar', ['-tf', iso]).stdout.toString('utf8').split('\n').filter(Boolean);
  assert.ok(names.includes('deep/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/leaf.txt'), names.join('\n'));
  assert.ok(!names.some((n) => n.startsWith('rr_moved')));
});

test('osirrox extracts byte-equal files with clamped mtimes, modes and owners', async (t) => {
  if (!requireTool(t, 'xorriso')) return;
  const tree = isoSampleTree({ deep: 3 });
  const iso = await buildIso(t, tree);
  const dir = join(tempDir(t), 'x');
  run('xorriso', ['-osirrox', 'on', '-osirrox', 'device_files', '-indev', iso, '-extract', '/', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const { path, node } of tree.walk()) {
    if (node.kind === 'socket') continue; // osirrox does not make sockets
    const full = join(dir, path);
    const st = lstatSync(full);
    assert.equal(st.mode & 0o7777, node.mode, `mode of ${path}`);
    assert.equal(st.uid, node.uid, `uid of ${path}`);
    assert.equal(st.gid, node.gid, `gid of ${path}`);
    if (node.kind !== 'symlink') assert.equal(Math.floor(st.mtimeMs / 1000), Math.min(node.mtime.sec, ISO_EPOCH), `mtime of ${path}`);
    if (node.kind === 'file') assert.deepEqual(readFileSync(full), Buffer.from(await readContent(node.content)), `content of ${path}`);
    if (node.kind === 'symlink') assert.equal(readlinkSync(full), node.target);
    if (node.kind === 'char' || node.kind === 'block') {
      assert.ok(node.kind === 'char' ? st.isCharacterDevice() : st.isBlockDevice());
      assert.equal(st.rdev, (node.major << 8) | node.minor);
    }
  }
});

test('isoinfo shows our identifiers and dates; Joliet and Rock Ridge are announced', async (t) => {
  if (!requireTool(t, 'isoinfo')) return;
  const iso = await buildIso(t, isoSampleTree(), { volumeId: 'MY_VOLUME', publisher: 'PUBLISHER', applicationId: 'APP', systemId: 'LINUX', volumeSetId: 'SET' });
  const text = run('isoinfo', ['-d', '-debug', '-i', iso]).stdout.toString('latin1');
  assert.match(text, /^Volume id: MY_VOLUME$/m);
  assert.match(text, /^System id: LINUX$/m);
  assert.match(text, /^Publisher id: PUBLISHER$/m);
  assert.match(text, /^Application id: APP$/m);
  assert.match(text, /^Volume set id: SET$/m);
  assert.match(text, /^Creation Date:\s+2023 11 14 22:13:20\.00$/m);
  assert.match(text, /^Modification Date: 2023 11 14 22:13:20\.00$/m);
  assert.match(text, /^Expiration Date:\s+0000 00 00 00:00:00\.00$/m);
  assert.match(text, /Joliet with UCS level 3 found/);
  assert.match(text, /Rock Ridge signatures version 1 found/);
  const size = Number(/^Volume size is: (\d+)$/m.exec(text)![1]);
  assert.equal(size * 2048, lstatSync(iso).size);
  const joliet = run('isoinfo', ['-J', '-l', '-i', iso]).stdout.toString('utf8');
  assert.match(joliet, /hostname;1/);
});

test('bsdtar lists the tree with link counts, hard links, devices and symlinks', async (t) => {
  if (!requireTool(t, 'bsdtar')) return;
  const tree = isoSampleTree();
  const iso = await buildIso(t, tree);
  const text = run('bsdtar', ['-tvf', iso]).stdout.toString('utf8');
  const lines = text.split('\n').filter(Boolean);
  const find = (name: string) => lines.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `)) ?? '';
  assert.match(find('etc'), /^drwxr-xr-x\s+2 0\s+0 /);
  assert.match(find('dev/null'), /^crw-rw-rw-\s+1 0\s+0\s+1,3 /);
  assert.match(find('bin/sh'), /-> busybox$/);
  assert.match(text, /hard-(a|b) link to hard-(a|b)/);
  const paths = lines.map((l) => l.replace(/^.*\d{4} /, '').replace(/ (->|link to) .*$/, ''));
  const expected = [...tree.walk()].map((e) => (e.path === '' ? '.' : e.path)).sort();
  assert.deepEqual([...paths].sort(), expected);
});

test('the same bytes under another TZ, umask and insertion order (child processes)', async (t) => {
  const dir = tempDir(t);
  const here = fileURLToPath(import.meta.url);
  const writer = new URL('../../src/formats/iso9660/index.js', import.meta.url).href;
  const sample = new URL('../helpers/iso-sample.js', import.meta.url).href;
  const atomic = new URL('../../src/io/atomic-output.js', import.meta.url).href;
  const hashes: string[] = [];
  for (const [tz, umask, reverse] of [['UTC', '022', false], ['Pacific/Kiritimati', '077', true], ['America/St_Johns', '002', false]] as const) {
    const out = join(dir, `${hashes.length}.iso`);
    const code = `
      const { writeIso } = await import(${JSON.stringify(writer)});
      const { isoSampleTree, ISO_EPOCH } = await import(${JSON.stringify(sample)});
      const { writeAtomically } = await import(${JSON.stringify(atomic)});
      process.umask(0o${umask});
      await writeAtomically(${JSON.stringify(out)}, (sink) => writeIso(isoSampleTree({ reverse: ${reverse}, deep: 10 }), sink,
        { volumeId: 'DET', buildTime: ISO_EPOCH, relocateDeepDirectories: true }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, TZ: tz, LANG: 'tr_TR.UTF-8' }, encoding: 'utf8', cwd: here.slice(0, here.lastIndexOf('/')) });
    assert.equal(r.status, 0, r.stderr);
    hashes.push(createHash('sha256').update(readFileSync(out)).digest('hex'));
  }
  assert.equal(new Set(hashes).size, 1, hashes.join(' '));
});
