/**
 * Root file system fix-ups on synthetic trees that have each problem: the fixed tree holds the
 * deterministic result, two trees that differ only in build-time state come out identical, the
 * report lists what changed, and a second run changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyFixups, fixShadowText, sortBlankLineRecords, sortLineRecords, type FixupOptions } from '../../src/normalize/fixups/index.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { newMeta, Tree, type FileNode, type Node } from '../../src/tree/tree.js';
import { ReprimageError } from '../../src/errors.js';

const T = 1700000000; // 2023-11-14, day 19675
const DAY = 19675;
const LATER = { sec: T + 5000, nsec: 123 };
const OPTIONS: FixupOptions = { buildTime: T };

function fixture(name: string): Uint8Array {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', 'normalize', name);
    if (existsSync(candidate)) return readFileSync(candidate);
  }
  throw new Error(`fixture ${name} not found`);
}

function file(text: string | Uint8Array, meta: Partial<ReturnType<typeof newMeta>> = {}): FileNode {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return { kind: 'file', ...newMeta({ mode: 0o644, mtime: LATER, ...meta }), content: bytesContent(bytes) };
}

function put(tree: Tree, path: string, node: Node): void {
  tree.set(path, node, { mtime: LATER });
}

async function text(tree: Tree, path: string): Promise<string> {
  const node = tree.get(path);
  assert.equal(node?.kind, 'file', `${path} is a file`);
  return Buffer.from(await readContent((node as FileNode).content)).toString('latin1');
}

/** Everything of a tree that an image would hold: paths, kinds, metadata and contents. */
async function listing(tree: Tree): Promise<string[]> {
  const out: string[] = [];
  for (const { path, node, linkTo } of tree.walk()) {
    let what = `${path} ${node.kind} ${node.mode.toString(8)} ${node.uid}:${node.gid} ${node.mtime.sec}.${node.mtime.nsec}`;
    if (linkTo !== undefined) what += ` link-to ${linkTo}`;
    else if (node.kind === 'file') what += ` ${Buffer.from(await readContent(node.content)).toString('base64')}`;
    else if (node.kind === 'symlink') what += ` -> ${node.target}`;
    out.push(what);
  }
  return out;
}

const LOADERS_HEAD = '# GdkPixbuf Image Loader Modules file\n# Automatically generated file, do not edit\n#\n';
const LOADER_PNG = '"/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders/libpixbufloader-png.so"\n"png" 5 "gdk-pixbuf" "PNG" "LGPL"\n"image/png" ""\n"png" ""\n"\\211PNG\\r\\n\\032\\n" "" 100\n';
const LOADER_ANI = '"/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders/libpixbufloader-ani.so"\n"ani" 4 "gdk-pixbuf" "Windows animated cursor" "LGPL"\n"application/x-navi-animation" ""\n"ani" ""\n"RIFF    ACON" "    xxxx    " 100\n';

/**
 * A root tree as one build left it. `run` changes every build-time value (random ids, dates,
 * log lines, record orders) the way two real builds differ.
 */
function builtTree(run: number): Tree {
  const tree = new Tree();
  const late = { sec: T + 1000 * run, nsec: run };
  const day = DAY + 10 + run;
  put(tree, 'etc/shadow', file(`root:*:${day}:0:99999:7:::\nmessagebus:!:${day}::::::\nnobody:*::0:99999:7:::\n`, { mode: 0o640, gid: 42 }));
  put(tree, 'etc/shadow-', file(`root:*:${day}:0:99999:7:::\n`, { mode: 0o600, gid: 42 }));
  put(tree, 'etc/machine-id', file(`${run.toString(16).padStart(32, 'a')}\n`, { mode: 0o444 }));
  put(tree, 'var/lib/dbus/machine-id', file(`${run.toString(16).padStart(32, 'b')}\n`));
  put(tree, 'var/lib/systemd/random-seed', file(`seed${run}`, { mode: 0o600 }));
  put(tree, 'var/cache/ldconfig/aux-cache', file(`ino ${run}`, { mode: 0o600 }));
  put(tree, 'var/cache/fontconfig/0a1b-le64.cache-9', file(`cache ${run}`));
  put(tree, 'var/cache/fontconfig/CACHEDIR.TAG', file('Signature: 8a477f597d28d172789f06886806bc55\n', { mtime: { sec: T - 10, nsec: 0 } }));
  const loaders = run % 2 ? LOADER_PNG + '\n' + LOADER_ANI + '\n' : LOADER_ANI + '\n' + LOADER_PNG + '\n';
  put(tree, 'usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache', file(LOADERS_HEAD + loaders));
  const gio = ['libgvfsdbus.so: gio-vfs', 'libdconfsettings.so: gsettings-backend', 'libgiognutls.so: gio-tls-backend'];
  if (run % 2) gio.reverse();
  put(tree, 'usr/lib/x86_64-linux-gnu/gio/modules/giomodule.cache', file(gio.join('\n') + '\n'));
  const im = ['"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-am-et.so" \n"am-et" "Amharic (EZ+)" "gtk30" "/usr/share/locale" "am:ti" \n', '"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-ipa.so" \n"ipa" "IPA" "gtk30" "/usr/share/locale" "" \n'];
  if (run % 2) im.reverse();
  put(tree, 'usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules.cache', file('# GTK+ Input Method Modules file\n#\n' + im.map((r) => r + '\n').join('')));
  const mime = ['text/plain=gedit.desktop;vim.desktop;', 'image/png=eog.desktop;', 'application/pdf=evince.desktop;'];
  if (run % 2) mime.reverse();
  put(tree, 'usr/share/applications/mimeinfo.cache', file('[MIME Cache]\n' + mime.join('\n') + '\n'));
  for (const p of ['pwd', 'pwi', 'hwm']) put(tree, `var/cache/cracklib/cracklib_dict.${p}`, file(`dict ${p}`, { mtime: late }));
  put(tree, 'var/log/dpkg.log', file(`2023-12-0${run} 10:00:00 install foo\n`));
  put(tree, 'var/log/apt/history.log', file(`Start-Date: run ${run}\n`, { mode: 0o600 }));
  put(tree, 'var/log/wtmp', file('', { mode: 0o664, gid: 43 }));
  put(tree, 'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease', file(`Date: run ${run}`));
  put(tree, 'var/lib/apt/lists/lock', file('', { mode: 0o640 }));
  tree.ensureDir('var/lib/apt/lists/partial', { mtime: late });
  put(tree, 'var/cache/apt/pkgcache.bin', file(`cache ${run}`));
  put(tree, 'var/cache/apt/archives/lock', file(''));
  put(tree, 'var/cache/apt/archives/foo_1.0_all.deb', file('!<arch>\n'));
  put(tree, 'var/cache/debconf/config.dat-old', file(`old ${run}`));
  put(tree, 'var/cache/debconf/config.dat', file('Name: foo\n'));
  put(tree, 'var/lib/dpkg/status-old', file(`status ${run}`));
  put(tree, 'var/lib/dpkg/status', file('Package: foo\n'));
  put(tree, 'usr/lib/python3/dist-packages/foo/__pycache__/bar.cpython-311.pyc', file(`pyc ${run}`));
  put(tree, 'usr/lib/python3/dist-packages/foo/bar.py', file('x = 1\n', { mtime: { sec: T - 100, nsec: 0 } }));
  put(tree, 'usr/share/doc/foo/changelog.gz', file(fixture('gzip-named.gz'), { mtime: { sec: T - 100, nsec: 0 } }));
  put(tree, 'srv/build-note', file(`built on host${run}\n`));
  put(tree, 'srv/keep-but-empty', file(`run ${run}\n`, { mode: 0o600, uid: 7 }));
  const shared = file('shared\n', { mtime: late });
  put(tree, 'usr/bin/a', shared);
  put(tree, 'usr/bin/b', shared);
  return tree;
}

const RECIPE: FixupOptions = { buildTime: T, remove: ['srv/build-note'], empty: ['srv/keep-but-empty'] };

test('two builds that differ only in build-time state are identical after the fix-ups', async () => {
  const a = builtTree(1);
  const b = builtTree(2);
  assert.notDeepEqual(await listing(a), await listing(b));
  await applyFixups(a, RECIPE);
  await applyFixups(b, RECIPE);
  assert.deepEqual(await listing(a), await listing(b));
});

test('each fix-up leaves the deterministic result it documents', async () => {
  const tree = builtTree(3);
  const report = await applyFixups(tree, RECIPE);
  assert.equal(await text(tree, 'etc/shadow'), `root:*:${DAY}:0:99999:7:::\nmessagebus:!:${DAY}::::::\nnobody:*::0:99999:7:::\n`);
  assert.equal(await text(tree, 'etc/shadow-'), `root:*:${DAY}:0:99999:7:::\n`);
  assert.equal((tree.get('etc/shadow') as FileNode).mode, 0o640, 'mode kept');
  assert.equal((tree.get('etc/shadow') as FileNode).gid, 42, 'group kept');
  assert.equal(await text(tree, 'etc/machine-id'), 'uninitialized\n');
  const dbus = tree.get('var/lib/dbus/machine-id');
  assert.equal(dbus?.kind, 'symlink');
  assert.equal(dbus?.kind === 'symlink' && dbus.target, '/etc/machine-id');
  for (const gone of ['var/lib/systemd/random-seed', 'var/cache/ldconfig/aux-cache', 'var/cache/fontconfig/0a1b-le64.cache-9',
    'var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease', 'var/cache/apt/pkgcache.bin', 'var/cache/debconf/config.dat-old',
    'var/lib/dpkg/status-old', 'usr/lib/python3/dist-packages/foo/__pycache__', 'srv/build-note']) {
    assert.equal(tree.get(gone), undefined, `${gone} removed`);
  }
  for (const kept of ['var/cache/fontconfig/CACHEDIR.TAG', 'var/lib/apt/lists/lock', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/lock',
    'var/cache/debconf/config.dat', 'var/lib/dpkg/status', 'usr/lib/python3/dist-packages/foo/bar.py', 'var/cache/cracklib/cracklib_dict.pwd']) {
    assert.ok(tree.get(kept), `${kept} kept`);
  }
  assert.equal(await text(tree, 'usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache'), LOADERS_HEAD + LOADER_ANI + '\n' + LOADER_PNG + '\n');
  assert.equal(await text(tree, 'usr/lib/x86_64-linux-gnu/gio/modules/giomodule.cache'),
    'libdconfsettings.so: gsettings-backend\nlibgiognutls.so: gio-tls-backend\nlibgvfsdbus.so: gio-vfs\n');
  assert.match(await text(tree, 'usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules.cache'), /^# GTK\+ Input Method Modules file\n#\n"[^\n]*im-am-et\.so" \n[^\n]*\n\n"[^\n]*im-ipa\.so" \n[^\n]*\n\n$/);
  assert.equal(await text(tree, 'usr/share/applications/mimeinfo.cache'), '[MIME Cache]\napplication/pdf=evince.desktop;\nimage/png=eog.desktop;\ntext/plain=gedit.desktop;vim.desktop;\n');
  for (const log of ['var/log/dpkg.log', 'var/log/apt/history.log']) assert.equal(await text(tree, log), '', `${log} emptied`);
  assert.equal((tree.get('var/log/apt/history.log') as FileNode).mode, 0o600, 'log mode kept');
  const kept = tree.get('srv/keep-but-empty') as FileNode;
  assert.equal(kept.content.size, 0);
  assert.equal(kept.uid, 7);
  // normalize ran over the files: the gzip lost its name and time
  const gz = Buffer.from(await readContent((tree.get('usr/share/doc/foo/changelog.gz') as FileNode).content));
  assert.equal(gz[3]! & 0x08, 0, 'FNAME removed');
  assert.ok(gz.readUInt32LE(4) <= T, 'MTIME clamped');
  assert.ok(report.normalize.some((r) => r.path === 'usr/share/doc/foo/changelog.gz' && r.status === 'changed' && r.handler === 'gzip'));
  // times: everything later than T is T, earlier times stay
  for (const { path, node } of tree.walk()) assert.ok(node.mtime.sec <= T && (node.mtime.sec < T || node.mtime.nsec === 0), `${path} clamped`);
  assert.equal(tree.get('usr/lib/python3/dist-packages/foo/bar.py')!.mtime.sec, T - 100);
  // hard links stay one node
  assert.equal(tree.get('usr/bin/a'), tree.get('usr/bin/b'));
  // the report names every change with its fix-up
  const by = (fixup: string) => report.changes.filter((c) => c.fixup === fixup).map((c) => `${c.action} ${c.path}`);
  assert.deepEqual(by('shadow'), ['rewritten etc/shadow', 'rewritten etc/shadow-']);
  assert.deepEqual(by('apt-lists'), [
    'removed var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease',
    'removed var/cache/apt/pkgcache.bin',
    'removed var/cache/apt/archives/foo_1.0_all.deb',
  ]);
  assert.deepEqual(by('pyc'), ['removed usr/lib/python3/dist-packages/foo/__pycache__/bar.cpython-311.pyc', 'removed usr/lib/python3/dist-packages/foo/__pycache__']);
  assert.deepEqual(by('listed-paths'), ['emptied srv/keep-but-empty', 'removed srv/build-note']);
  assert.deepEqual(by('dbus-machine-id'), ['replaced-by-symlink var/lib/dbus/machine-id']);
  assert.ok((report.counts['clamp-times'] ?? 0) > 10);
  assert.equal(report.counts['clamp-times'], report.clampedTimes);
});

test('a second run changes nothing', async () => {
  const tree = builtTree(4);
  await applyFixups(tree, RECIPE);
  const before = await listing(tree);
  const again = await applyFixups(tree, RECIPE);
  assert.deepEqual(again.changes, []);
  assert.equal(again.clampedTimes, 0);
  assert.deepEqual(await listing(tree), before);
});

test('options: machine-id empty or removed, fontconfig kept, pyc normalized, fix-ups skipped', async () => {
  const a = builtTree(5);
  await applyFixups(a, { buildTime: T, machineId: 'empty', fontconfig: 'keep', pyc: 'normalize', skip: ['shadow', 'logs'] });
  assert.equal(await text(a, 'etc/machine-id'), '');
  assert.equal((a.get('etc/machine-id') as FileNode).mode, 0o444);
  assert.ok(a.get('var/cache/fontconfig/0a1b-le64.cache-9'));
  assert.ok(a.get('usr/lib/python3/dist-packages/foo/__pycache__/bar.cpython-311.pyc'));
  assert.match(await text(a, 'etc/shadow'), new RegExp(`^root:\\*:${DAY + 15}:`), 'shadow skipped');
  assert.notEqual(await text(a, 'var/log/dpkg.log'), '', 'logs skipped');
  const b = builtTree(5);
  await applyFixups(b, { buildTime: T, machineId: 'remove' });
  assert.equal(b.get('etc/machine-id'), undefined);
  await assert.rejects(applyFixups(builtTree(5), { buildTime: T, skip: ['no-such' as never] }), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && /no-such/.test(e.message));
  await assert.rejects(applyFixups(builtTree(5), { buildTime: 1.5 }), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE');
});

test('an incomplete cracklib dictionary is removed whole; a complete one is kept byte for byte', async () => {
  const tree = builtTree(6);
  tree.remove('var/cache/cracklib/cracklib_dict.hwm');
  const report = await applyFixups(tree, OPTIONS);
  assert.equal(tree.get('var/cache/cracklib/cracklib_dict.pwd'), undefined);
  assert.equal(tree.get('var/cache/cracklib/cracklib_dict.pwi'), undefined);
  assert.deepEqual(report.changes.filter((c) => c.fixup === 'cracklib').map((c) => c.path), ['var/cache/cracklib/cracklib_dict.pwd', 'var/cache/cracklib/cracklib_dict.pwi']);
  const whole = builtTree(6);
  await applyFixups(whole, OPTIONS);
  assert.equal(await text(whole, 'var/cache/cracklib/cracklib_dict.pwd'), 'dict pwd');
});

test('text helpers: shadow fields, record sorting keeps sorted files as they are', () => {
  assert.equal(fixShadowText('a:x:1:2\n# comment:x:3\nb:x::\nshort\n', 5), 'a:x:5:2\n# comment:x:3\nb:x::\nshort\n');
  const sorted = LOADERS_HEAD + LOADER_ANI + '\n' + LOADER_PNG + '\n';
  assert.equal(sortBlankLineRecords(sorted), sorted);
  assert.equal(sortBlankLineRecords(LOADERS_HEAD + LOADER_PNG + '\n' + LOADER_ANI + '\n'), sorted);
  assert.equal(sortLineRecords('[A]\nb=1\na=2\n\n[B]\nz\ny'), '[A]\na=2\nb=1\n\n[B]\ny\nz');
  assert.equal(sortLineRecords('x\n'), 'x\n');
});

test('real caches written by the query tools: records in any order sort back to exactly their bytes', async () => {
  for (const [name, sort, split] of [
    ['fixup-loaders.cache', sortBlankLineRecords, (s: string) => s.split('\n\n')],
    ['fixup-giomodule.cache', sortLineRecords, (s: string) => s.split('\n')],
  ] as const) {
    const real = Buffer.from(fixture(name)).toString('latin1');
    assert.equal(sort(real), real, `${name}: a clean (sorting) run's file is left as it is`);
    // the same records in another order, as an unsorting tool or another readdir order writes them
    const header = name.endsWith('loaders.cache') ? real.slice(0, real.indexOf('"')) : '';
    const records = split(real.slice(header.length).replace(/\n+$/, '')).reverse();
    const shuffled = header + records.join(name.endsWith('loaders.cache') ? '\n\n' : '\n') + /\n+$/.exec(real)![0];
    assert.notEqual(shuffled, real);
    assert.equal(sort(shuffled), real, `${name}: reordered records come back to the clean run's bytes`);
    const tree = new Tree();
    put(tree, `usr/lib/x86_64-linux-gnu/${name.endsWith('loaders.cache') ? 'gdk-pixbuf-2.0/2.10.0/loaders.cache' : 'gio/modules/giomodule.cache'}`, file(shuffled));
    const report = await applyFixups(tree, OPTIONS);
    assert.equal(report.changes.filter((c) => c.action === 'rewritten').length, 1);
  }
});
