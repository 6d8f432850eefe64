// `reprimage build` of a recipe whose `type: disk` output cannot be made (docs/cloud-disk.md,
// "Errors"), as a user meets it: a tree without a kernel, an ESP or a root file system too small
// for the tree. Each is one line on stderr naming the file and the problem, exit status 2, and
// nothing is left behind: no output directory, no temporary file, no scratch directory.
//
// No network and no real root tree: the recipe's archive is made in the test (as in
// recipe.test.ts), and a stand-in `mmdebstrap` first on PATH prints a tar of a small tree made
// here (a kernel, an initramfs, shim and the signed GRUB as placeholder bytes). Everything after
// mmdebstrap — lock check, verification, fix-ups, the disk output and the command's error
// handling — is the real code. The ESP and root cases get past the kernel, initramfs and boot
// file checks to the file systems, so they also show that the stand-in's tree is one the disk
// output takes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { requireTool, tempDir } from '../helpers/tools.js';
import { generateSigningKey, writeArchive, writeKeyring, type TestPackage } from '../helpers/apt-archive.js';

const PACKAGES: TestPackage[] = [{ name: 'base-files', version: '12.4', architecture: 'amd64', essential: true, body: Buffer.from('base-files') }];

/** A newc archive of one file (`init`) and its trailer: an initramfs the repack can read. */
function smallInitramfs(): Buffer {
  const entry = (name: string, mode: number, data: string): string => {
    const fields = [1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const head = `070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}${name}\0`;
    const pad = (n: number) => '\0'.repeat((4 - (n % 4)) % 4);
    return head + pad(head.length) + data + pad(data.length);
  };
  const archive = entry('init', 0o100755, '#!/bin/sh\n') + entry('TRAILER!!!', 0, '');
  return Buffer.from(archive.padEnd(512, '\0'), 'latin1');
}

/** A root tree with what a UEFI-only disk needs; `big` adds files of that many MiB to the ESP's shim or to /srv. */
function makeTree(dir: string, o: { kernel?: boolean; bigShimMiB?: number; bigRootMiB?: number } = {}): string {
  const root = join(dir, 'tree');
  for (const d of ['boot', 'etc', 'srv', 'usr/lib/shim', 'usr/lib/grub/x86_64-efi-signed']) mkdirSync(join(root, d), { recursive: true });
  if (o.kernel !== false) {
    writeFileSync(join(root, 'boot/vmlinuz-6.1.0-test'), 'kernel');
    writeFileSync(join(root, 'boot/initrd.img-6.1.0-test'), smallInitramfs());
  }
  writeFileSync(join(root, 'usr/lib/shim/shimx64.efi.signed'), o.bigShimMiB ? Buffer.alloc(o.bigShimMiB << 20, 2) : 'shim');
  writeFileSync(join(root, 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed'), 'grub');
  writeFileSync(join(root, 'etc/hostname'), 'debian\n');
  if (o.bigRootMiB) writeFileSync(join(root, 'srv/big'), Buffer.alloc(o.bigRootMiB << 20, 1));
  return root;
}

/** A directory holding an executable `mmdebstrap` that prints `tree` as a tar on stdout, whatever it is asked. */
function standInMmdebstrap(dir: string, tree: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const script = join(bin, 'mmdebstrap');
  writeFileSync(script, `#!/bin/sh\nexec tar -C '${tree}' --owner=0 --group=0 --numeric-owner --sort=name -cf - .\n`);
  chmodSync(script, 0o755);
  return bin;
}

/** One signed archive and one lock for every case (the lock does not depend on the outputs). */
let archive: Promise<{ dir: string; head: string; lock: string; cache: string }> | undefined;
const archiveDir = mkdtempSync(join(tmpdir(), 'reprimage-cli-cloud-'));
after(() => rmSync(archiveDir, { recursive: true, force: true }));

function lockedArchive(): Promise<{ dir: string; head: string; lock: string; cache: string }> {
  archive ??= (async () => {
    const dir = archiveDir;
    const key = await generateSigningKey('ed25519', 'archive');
    const uri = await writeArchive(join(dir, 'archive'), 'testing', PACKAGES, key);
    writeKeyring(join(dir, 'keyring.gpg'), [key]);
    const head = `name: t\narchitecture: amd64\nsources:\n  - uri: ${uri}\n    suite: testing\n    components: [main]\n    keyring: ${join(dir, 'keyring.gpg')}\npackages: [base-files]\nsource_date_epoch: 1783764997\n`;
    const recipe = join(dir, 'recipe.yaml');
    writeFileSync(recipe, head);
    const cache = join(dir, 'cache');
    const locked = runCli(['lock', recipe, '--cache', cache]);
    assert.equal(locked.status, 0, locked.stderr);
    return { dir, head, lock: readFileSync(`${recipe}.lock`, 'utf8'), cache };
  })();
  return archive;
}

/** Builds a recipe whose one output is a UEFI-only disk with the keys `disk`, from a stand-in tree. */
async function build(t: import('node:test').TestContext, disk: string, tree: { kernel?: boolean; bigShimMiB?: number; bigRootMiB?: number }) {
  const a = await lockedArchive();
  const dir = tempDir(t, 'reprimage-cli-cloud-');
  const recipe = join(dir, 'recipe.yaml');
  writeFileSync(recipe, `${a.head}outputs:\n  - type: disk\n    boot: [uefi]\n${disk}`);
  writeFileSync(`${recipe}.lock`, a.lock);
  const bin = standInMmdebstrap(dir, makeTree(dir, tree));
  // the build's scratch directories go here, so that the test sees any it leaves
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const out = join(dir, 'out');
  const r = runCli(['build', recipe, '-o', out, '--cache', a.cache, '--quiet'], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, TMPDIR: tmp } });
  return { r, out, tmp, recipe };
}

function assertNothingLeft(s: { out: string; tmp: string }): void {
  assert.equal(existsSync(s.out), false, `the output directory was left: ${existsSync(s.out) ? readdirSync(s.out).join(', ') : ''}`);
  assert.deepEqual(readdirSync(s.tmp), [], 'a scratch directory or temporary was left');
}

test('build: a disk output without a kernel in the tree is one line naming the file and its package, exit 2, nothing written', async (t) => {
  if (!requireTool(t, 'apt-get', 'tar')) return;
  const s = await build(t, '    size: 64M\n    esp_size: 8M\n', { kernel: false });
  assert.equal(s.r.status, 2, s.r.stderr);
  assert.equal(s.r.stderr, 'reprimage: /boot/vmlinuz-*: no kernel in the root tree (add linux-image-cloud-amd64 or linux-image-amd64 to the recipe)\n');
  assertNothingLeft(s);
});

test('build: an ESP or a root file system too small for the tree is one line naming the disk and the key to raise, exit 2, nothing written', async (t) => {
  if (!requireTool(t, 'apt-get', 'tar')) return;
  const esp = await build(t, '    size: 64M\n    esp_size: 1M\n', { bigShimMiB: 3 });
  assert.equal(esp.r.status, 2, esp.r.stderr);
  assert.match(esp.r.stderr, /^reprimage: \S+\/out\/disk\.img: the ESP \(raise esp_size\) is too small: fat: the tree needs \d+ clusters of \d+ bytes, but a 1048576-byte FAT12 volume has \d+\n$/);
  assertNothingLeft(esp);

  const root = await build(t, '    size: 32M\n    esp_size: 8M\n', { bigRootMiB: 40 });
  assert.equal(root.r.status, 2, root.r.stderr);
  assert.match(root.r.stderr, /^reprimage: \S+\/out\/disk\.img: the root file system \(raise size\) is too small: the tree does not fit in the ext4 file system\n$/);
  assertNothingLeft(root);
});
