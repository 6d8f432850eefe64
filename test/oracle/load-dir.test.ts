/**
 * loadDirectory on trees made with the real tools (mknod, mkfifo, setfattr, setcap, touch -d,
 * chown, ln), checked against what `find -printf` and `stat` report and against the attribute
 * values the tools were told to set.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { treeToJson, type EntryJson } from '../../src/tree/describe.js';
import type { Tree } from '../../src/tree/tree.js';
import { applyPolicy } from '../../src/tree/policy.js';
import { hasTool, requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';
import { runNodeUnprivileged, unprivilegedTempDir } from '../helpers/unprivileged.js';

const CAP_NET_RAW_EP = '0100000200200000000000000000000000000000';

/** Each step is run in the tree's root; the builder runs them forwards or backwards. */
function steps(root: string): Array<() => void> {
  const sh = (script: string) => () => void run('sh', ['-euc', script], { cwd: root });
  return [
    sh("printf 'root:x:0:0::/root:/bin/sh\\n' > etc/passwd && chmod 644 etc/passwd"),
    sh("printf 'ELF' > usr/bin/tool && chmod 755 usr/bin/tool && ln usr/bin/tool bin/tool && chown 0:0 usr/bin/tool"),
    sh("printf 'sudo' > usr/bin/sudo && chmod 4755 usr/bin/sudo"),
    sh("printf 'ping' > usr/bin/ping && chmod 755 usr/bin/ping"),
    sh('ln -s ../usr/bin/tool bin/sh && chown -h 1234:5678 bin/sh'),
    sh('mknod -m 666 dev/null c 1 3 && mknod -m 600 dev/big c 4095 1048575'),
    sh('mknod -m 660 dev/sda b 8 1 && chown 0:6 dev/sda'),
    sh('mkfifo -m 600 run/initctl'),
    () => void run(process.execPath, ['-e', "require('net').createServer().listen('run/sock', () => process.exit(0))"], { cwd: root }),
    sh("printf '' > 'with space/empty' && chmod 640 'with space/empty' && chown 1000:1000 'with space/empty'"),
    sh("printf 'n' > \"$(printf 'new\\nline')\" && chmod 644 \"$(printf 'new\\nline')\""),
    sh("printf 'x' > old && chmod 444 old"),
  ];
}

function xattrSteps(root: string): Array<() => void> {
  const set = (...args: string[]) => () => void run('setfattr', args, { cwd: root });
  return [
    set('-n', 'user.comment', '-v', 'hello', 'etc/passwd'),
    set('-n', 'user.empty', 'etc/passwd'),
    set('-n', 'user.with space=and equals', '-v', '0x00ff00', 'with space/empty'),
    set('-h', '-n', 'trusted.on-link', '-v', '1', 'bin/sh'),
    set('-n', 'trusted.on-device', '-v', '2', 'dev/null'),
    set('-n', 'user.on-root', '-v', 'r', '.'),
    set('-n', 'user.on-dir', '-v', '0x0a', 'etc'),
    set('-n', 'user.newline', '-v', '0x6e6c', 'new\nline'),
    set('-n', 'user.on-link', '-v', 'shared', 'usr/bin/tool'),
    hasTool('setcap')
      ? () => void run('setcap', ['cap_net_raw+ep', 'usr/bin/ping'], { cwd: root })
      : set('-n', 'security.capability', '-v', `0x${CAP_NET_RAW_EP}`, 'usr/bin/ping'),
  ];
}

/** Times last, children before their directories, so that no later step moves them. */
function setTimes(root: string): void {
  const touch = (when: string, ...paths: string[]) => run('touch', ['-h', '-d', when, '--', ...paths], { cwd: root });
  touch('@1700000000.123456789', 'etc/passwd', 'usr/bin/tool', 'usr/bin/sudo', 'usr/bin/ping', 'dev/null', 'dev/big', 'dev/sda', 'run/initctl', 'run/sock', 'with space/empty', 'new\nline');
  touch('@1600000000.000000001', 'bin/sh');
  touch('@-1.25', 'old');
  touch('@1500000000.5', 'bin', 'dev', 'etc', 'run', 'usr/bin', 'usr', 'with space', 'empty-dir', 'tmp', '.');
}

const DIRS = ['bin', 'dev', 'etc', 'run', 'tmp', 'usr/bin', 'with space', 'empty-dir'];

function build(root: string, backwards: boolean): void {
  const order = <T>(xs: T[]) => (backwards ? [...xs].reverse() : xs);
  for (const d of order(DIRS)) mkdirSync(join(root, d), { recursive: true });
  run('chmod', ['755', root, ...DIRS.map((d) => join(root, d)), join(root, 'usr')]);
  run('chmod', ['1777', join(root, 'tmp')]);
  run('chmod', ['2750', join(root, 'empty-dir')]);
  for (const step of order(steps(root))) step();
  for (const step of order(xattrSteps(root))) step();
  setTimes(root);
}

const EXPECTED: Array<Omit<EntryJson, 'uid' | 'gid'> & { owner?: [number, number] }> = [
  { path: '.', type: 'dir', mode: '0755', mtime: '1500000000.500000000', xattrs: { 'user.on-root': '72' } },
  { path: 'bin', type: 'dir', mode: '0755', mtime: '1500000000.500000000' },
  { path: 'bin/sh', type: 'symlink', mode: '0777', mtime: '1600000000.000000001', target: '../usr/bin/tool', owner: [1234, 5678], xattrs: { 'trusted.on-link': '31' } },
  { path: 'bin/tool', type: 'file', mode: '0755', mtime: '1700000000.123456789', size: 3, xattrs: { 'user.on-link': '736861726564' } },
  { path: 'dev', type: 'dir', mode: '0755', mtime: '1500000000.500000000' },
  { path: 'dev/big', type: 'char', mode: '0600', mtime: '1700000000.123456789', device: [4095, 1048575] },
  { path: 'dev/null', type: 'char', mode: '0666', mtime: '1700000000.123456789', device: [1, 3], xattrs: { 'trusted.on-device': '32' } },
  { path: 'dev/sda', type: 'block', mode: '0660', mtime: '1700000000.123456789', device: [8, 1], owner: [0, 6] },
  { path: 'empty-dir', type: 'dir', mode: '2750', mtime: '1500000000.500000000' },
  { path: 'etc', type: 'dir', mode: '0755', mtime: '1500000000.500000000', xattrs: { 'user.on-dir': '0a' } },
  { path: 'etc/passwd', type: 'file', mode: '0644', mtime: '1700000000.123456789', size: 26, xattrs: { 'user.comment': '68656c6c6f', 'user.empty': '' } },
  { path: 'new\nline', type: 'file', mode: '0644', mtime: '1700000000.123456789', size: 1, xattrs: { 'user.newline': '6e6c' } },
  { path: 'old', type: 'file', mode: '0444', mtime: '-2.750000000', size: 1 },
  { path: 'run', type: 'dir', mode: '0755', mtime: '1500000000.500000000' },
  { path: 'run/initctl', type: 'fifo', mode: '0600', mtime: '1700000000.123456789' },
  { path: 'run/sock', type: 'socket', mode: '', mtime: '1700000000.123456789' },
  { path: 'tmp', type: 'dir', mode: '1777', mtime: '1500000000.500000000' },
  { path: 'usr', type: 'dir', mode: '0755', mtime: '1500000000.500000000' },
  { path: 'usr/bin', type: 'dir', mode: '0755', mtime: '1500000000.500000000' },
  { path: 'usr/bin/ping', type: 'file', mode: '0755', mtime: '1700000000.123456789', size: 4, xattrs: { 'security.capability': CAP_NET_RAW_EP } },
  { path: 'usr/bin/sudo', type: 'file', mode: '4755', mtime: '1700000000.123456789', size: 4 },
  { path: 'usr/bin/tool', type: 'file', mode: '0755', mtime: '1700000000.123456789', size: 3, xattrs: { 'user.on-link': '736861726564' }, hardlinkTo: 'bin/tool' },
  { path: 'with space', type: 'dir', mode: '0755', mtime: '1500000000.500000000' },
  { path: 'with space/empty', type: 'file', mode: '0640', mtime: '1700000000.123456789', size: 0, owner: [1000, 1000], xattrs: { 'user.with space=and equals': '00ff00' } },
];

function needsTools(t: TestContext): boolean {
  return requireTool(t, 'mknod', 'mkfifo', 'setfattr', 'getfattr', 'touch', 'find', 'stat');
}

async function made(t: TestContext, backwards: boolean): Promise<{ root: string; tree: Tree }> {
  const root = join(tempDir(t), 'root');
  mkdirSync(root);
  build(root, backwards);
  return { root, tree: await loadDirectory(root, { warn: (m) => assert.fail(m) }) };
}

test('every entry type, owner, mode, nanosecond time, device number, hard link and xattr is loaded', async (t) => {
  if (process.getuid!() !== 0) return t.skip('mknod, chown and trusted.* xattrs need root');
  if (!needsTools(t)) return;
  const { tree } = await made(t, false);
  const json = treeToJson(tree);
  const sockMode = json.find((e) => e.path === 'run/sock')!.mode; // the socket's mode comes from the umask of bind(2)
  const expected = EXPECTED.map(({ owner, ...e }) => ({
    ...e,
    mode: e.path === 'run/sock' ? sockMode : e.mode,
    uid: owner?.[0] ?? 0,
    gid: owner?.[1] ?? 0,
  }));
  const sortKeys = (e: object) => Object.fromEntries(Object.entries(e).sort(([a], [b]) => (a < b ? -1 : 1)));
  assert.deepEqual(json.map(sortKeys), expected.map(sortKeys));
  assert.equal(tree.get('bin/tool'), tree.get('usr/bin/tool'), 'a hard link is the same node');
});

test('the listing agrees with find -printf and stat', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root');
  if (!needsTools(t)) return;
  const { root, tree } = await made(t, false);
  const find = run('find', [root, '-printf', '%P\\0%y\\0%m\\0%U\\0%G\\0%T@\\0%s\\0%l\\0%n\\0']).stdout.toString('utf8').split('\0');
  const theirs: string[] = [];
  for (let i = 0; i + 9 <= find.length; i += 9) {
    const [path, type, mode, uid, gid, time, size, target, nlink] = find.slice(i, i + 9) as string[];
    const [sec, frac] = time!.split('.') as [string, string];
    theirs.push([path === '' ? '.' : path, type, mode!.padStart(4, '0'), uid, gid, `${sec}.${frac.slice(0, 9)}`, type === 'f' ? size : '-', target, type === 'd' ? '-' : nlink].join(' | '));
  }
  const letter: Record<string, string> = { file: 'f', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };
  const counts = tree.linkCounts();
  const ours = [...tree.walk()].map(({ path, node }) => {
    const time = `${node.mtime.sec}.${String(node.mtime.nsec).padStart(9, '0')}`;
    const size = node.kind === 'file' ? String(node.content.size) : '-';
    const target = node.kind === 'symlink' ? node.target : '';
    const nlink = node.kind === 'dir' ? '-' : String(counts.get(node));
    return [path === '' ? '.' : path, letter[node.kind], node.mode.toString(8).padStart(4, '0'), node.uid, node.gid, time, size, target, nlink].join(' | ');
  });
  assert.deepEqual(ours.sort(), theirs.sort());
  for (const dev of ['dev/big', 'dev/null', 'dev/sda']) {
    const [major, minor] = run('stat', ['-c', '%Hr %Lr', join(root, dev)]).stdout.toString().trim().split(' ').map(Number);
    const node = tree.get(dev)!;
    assert.deepEqual(node.kind === 'char' || node.kind === 'block' ? [node.major, node.minor] : [], [major, minor], dev);
  }
});

test('the same tree made in the opposite order, attributes set in the opposite order, loads the same', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root');
  if (!needsTools(t)) return;
  const a = treeToJson((await made(t, false)).tree);
  const b = treeToJson((await made(t, true)).tree);
  assert.deepEqual(b, a);
  assert.equal(JSON.stringify(b), JSON.stringify(a), 'same key order too');
});

test('xattrs: false reads none and runs no getfattr', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root');
  if (!needsTools(t)) return;
  const { root } = await made(t, false);
  const tree = await loadDirectory(root, { xattrs: false });
  assert.deepEqual(treeToJson(tree).filter((e) => e.xattrs), []);
});

test('oneFileSystem: a mount point becomes an empty directory, a bind-mounted file is left out', async (t) => {
  if (process.getuid!() !== 0) return t.skip('mount needs root');
  const root = mkdtempSync(join(tmpdir(), 'reprimage-mounts-'));
  // one hook, so that the mounts go before the directory does
  t.after(() => {
    run('umount', [join(root, 'target')], { allowFail: true });
    run('umount', [join(root, 'mnt')], { allowFail: true });
    rmSync(root, { recursive: true, force: true });
  });
  mkdirSync(join(root, 'mnt'), { recursive: true });
  writeFileSync(join(root, 'file'), 'x');
  writeFileSync(join(root, 'target'), 'y');
  if (run('mount', ['-t', 'tmpfs', '-o', 'mode=0711', 'tmpfs', join(root, 'mnt')], { allowFail: true }).status !== 0) return skipOrFailInCi(t, 'cannot mount a tmpfs here');
  writeFileSync(join(root, 'mnt', 'inside'), 'z');
  const bound = run('mount', ['--bind', join(root, 'mnt', 'inside'), join(root, 'target')], { allowFail: true }).status === 0;
  const all = treeToJson(await loadDirectory(root, { xattrs: false })).map((e) => e.path);
  assert.deepEqual(all, ['.', 'file', 'mnt', 'mnt/inside', 'target']);
  const xattrs = hasTool('setfattr') && hasTool('getfattr');
  if (xattrs) run('setfattr', ['-n', 'trusted.here', '-v', '1', join(root, 'file')]);
  const one = treeToJson(await loadDirectory(root, { xattrs, oneFileSystem: true, warn: (m) => assert.fail(m) }));
  if (xattrs) assert.deepEqual(one.find((e) => e.path === 'file')!.xattrs, { 'trusted.here': '31' });
  assert.deepEqual(one.map((e) => e.path), bound ? ['.', 'file', 'mnt'] : ['.', 'file', 'mnt', 'target']);
  assert.equal(one.find((e) => e.path === 'mnt')!.mode, '0711', 'the mount point keeps the mounted root metadata');
});

test('trees made by the same script under umask 022, 002, 027 and 077 are equal after normalize', async (t) => {
  if (!requireTool(t, 'sh', 'install', 'touch')) return;
  const script = [
    'mkdir -p usr/bin etc/ssl tmp var/log',
    "printf '#!/bin/sh\\n' > usr/bin/tool && chmod +x usr/bin/tool",
    "printf 'conf' > etc/app.conf",
    "printf 'secret' > etc/ssl/key && chmod go-rwx etc/ssl/key",
    'chmod +t tmp',
    "printf 'x' > usr/bin/sudo && chmod 755 usr/bin/sudo && chmod u+s usr/bin/sudo",
    'install -m 2755 usr/bin/tool usr/bin/sgid',
    "touch -d @1700000000.5 usr/bin/tool etc/app.conf etc/ssl/key usr/bin/sudo usr/bin/sgid tmp var/log var usr/bin usr etc/ssl etc .",
  ].join(' && ');
  const results: unknown[] = [];
  const raw: string[] = [];
  for (const umask of ['022', '002', '027', '077']) {
    const root = join(tempDir(t), 'root');
    mkdirSync(root);
    run('sh', ['-euc', `umask ${umask} && ${script}`], { cwd: root });
    const tree = await loadDirectory(root, { xattrs: false });
    raw.push(treeToJson(tree).map((e) => e.mode).join(' '));
    applyPolicy(tree, { buildTime: 1_600_000_000, clampMtime: true, owner: 'root', permissions: 'normalize', excludes: [], emptyFiles: [] });
    results.push(treeToJson(tree));
  }
  assert.equal(new Set(raw).size, 4, 'the umasks did make four different trees');
  for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
  const modes = Object.fromEntries((results[0] as EntryJson[]).map((e) => [e.path, e.mode]));
  assert.deepEqual(modes, {
    '.': '0755', etc: '0755', 'etc/app.conf': '0644', 'etc/ssl': '0755', 'etc/ssl/key': '0644', tmp: '1777', usr: '0755', 'usr/bin': '0755',
    'usr/bin/sgid': '2755', 'usr/bin/sudo': '4755', 'usr/bin/tool': '0755', var: '0755', 'var/log': '0755',
  });
  assert.ok((results[0] as EntryJson[]).every((e) => e.mtime === '1600000000' && e.uid === 0 && e.gid === 0));
});

test('an unreadable directory is an IO error naming it (loaded as an unprivileged user)', (t) => {
  // as root the load runs as REPRIMAGE_TEST_USER (nobody), from a build that user can read
  const dir = unprivilegedTempDir(t);
  mkdirSync(join(dir, 'root/locked'), { recursive: true });
  chmodSync(join(dir, 'root/locked'), 0o000);
  const script = `const m = await import(new URL('src/tree/load-dir.js', DIST).href);
    await m.loadDirectory(${JSON.stringify(join(dir, 'root'))}, { xattrs: false }).then(() => console.log('loaded'), (e) => console.log(e.name, e.code, e.message));`;
  const r = runNodeUnprivileged(script);
  chmodSync(join(dir, 'root/locked'), 0o755); // so that the temporary directory can be removed
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `ReprimageError IO ${join(dir, 'root/locked')}: permission denied`);
});
