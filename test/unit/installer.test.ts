// The installer ISO without external tools (docs/installer.md): the recipe output's schema, the
// compressed image (gzip members that decompress to the image, both hashes), the medium's layout
// read back with our readers (image.conf, the initramfs with busybox, the scripts and the modules
// in dependency order, the reserved kernel-command-line space), bytes identical under another TZ
// and umask; the GPT relocation and verify-disk on synthetic disks.
// test/oracle/installer-script.test.ts runs the installer script itself with busybox and sgdisk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadCpioSegments } from '../../src/formats/cpio/index.js';
import { decodeGptHeader } from '../../src/formats/gpt/gpt.js';
import { openIso } from '../../src/formats/iso9660/index.js';
import { relocateGpt } from '../../src/image/gpt-relocate.js';
import { INSTALLER_IMAGE_CHUNK, writeCompressedImage } from '../../src/image/installer-image.js';
import { INSTALLER_CONF, INSTALLER_INITRD, KARGS_RESERVED, writeInstallerIso, type InstallerIsoOptions } from '../../src/image/installer-iso.js';
import { installerModules } from '../../src/image/installer-modules.js';
import { verifyDisk } from '../../src/image/verify-disk.js';
import { MemorySink, type Sink } from '../../src/io/sink.js';
import { ReprimageError } from '../../src/errors.js';
import { bufferSource } from '../../src/io/source.js';
import { parseRecipe } from '../../src/recipe/recipe.js';
import { outputFormat, outputPath } from '../../src/recipe/schema.js';
import { readContent } from '../../src/tree/content.js';
import type { Tree } from '../../src/tree/tree.js';
import { gptImage } from '../helpers/gpt-image.js';
import { KERNEL_VERSION, blob, fakeBootLoaders, fileNode, liveRootTree } from '../helpers/live-root.js';
import { tempDir } from '../helpers/tools.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SHA = 'a'.repeat(64);
/** The installer ISO of buildIso() with the default seed. */
const INSTALLER_ISO_SHA256 = '5d198463a5d09880a34f89ba0688c925ff36f26b5c14882e1f24529b1517a6c6';
const HEAD = `name: demo
architecture: amd64
sources:
  - uri: http://deb.debian.org/debian
    suite: bookworm
    components: [main]
    keyring: /usr/share/keyrings/debian-archive-keyring.gpg
packages: [linux-image-amd64]
outputs:
`;

function recipeError(outputs: string): string {
  try {
    parseRecipe(HEAD + outputs, 'r.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

test('installer-iso output: the image pin, defaults, and errors naming the line and the key', () => {
  const o = parseRecipe(`${HEAD}  - type: installer-iso\n    volume_id: INST\n    image:\n      recipe: ../cloud/recipe.yaml\n      sha256: ${SHA}\n`, 'r.yaml').outputs[0]!;
  assert.deepEqual(o.image, { recipe: '../cloud/recipe.yaml', sha256: SHA });
  assert.equal(outputPath(o), 'installer.iso');
  assert.equal(outputFormat(o), 'iso9660 (installer, hybrid)');
  assert.equal(recipeError('  - type: installer-iso\n'), 'r.yaml:10: outputs[0].image: required: the disk image to install (recipe, output, sha256)');
  assert.equal(recipeError(`  - type: installer-iso\n    image:\n      recipe: r.yaml\n      sha256: ABC\n`), 'r.yaml:13: outputs[0].image.sha256: 64 lower-case hex digits');
  assert.equal(recipeError(`  - type: installer-iso\n    image:\n      recipe: r.yaml\n      sha256: ${SHA}\n      size: 1\n`), 'r.yaml:14: outputs[0].image.size: unknown key');
  assert.equal(recipeError(`  - type: installer-iso\n    size: 2G\n    image:\n      recipe: r.yaml\n      sha256: ${SHA}\n`), 'r.yaml:11: outputs[0].size: not a key of a installer-iso output');
  assert.equal(recipeError(`  - type: iso\n    image:\n      recipe: r.yaml\n      sha256: ${SHA}\n`), 'r.yaml:11: outputs[0].image: not a key of a iso output');
  assert.equal(recipeError(`  - type: disk\n    image:\n      recipe: r.yaml\n      sha256: ${SHA}\n`), 'r.yaml:11: outputs[0].image: not a key of a disk output');
});

test('compressed image: one gzip member per 4 MiB that together decompress to the image; both hashes', async () => {
  const image = new Uint8Array(INSTALLER_IMAGE_CHUNK * 2 + 12345);
  image.set(blob(300000, 5), 100);
  image.set(blob(200000, 6), INSTALLER_IMAGE_CHUNK * 2 - 190000);
  const sink = new MemorySink();
  const report = await writeCompressedImage(bufferSource(image, 'image'), sink);
  const gz = sink.bytes();
  assert.equal(report.size, image.length);
  assert.equal(report.sha256, sha(image));
  assert.equal(report.compressedSize, gz.length);
  assert.equal(report.compressedSha256, sha(gz));
  assert.equal(sha(gunzipSync(gz)), sha(image));
  // three members, each with the header gzip -n writes
  let members = 0;
  for (let i = 0; i + 10 <= gz.length; i++) if (gz[i] === 0x1f && gz[i + 1] === 0x8b && gz[i + 2] === 8 && gz[i + 9] === 3 && gz[i + 4] === 0) members++;
  assert.ok(members >= 3, `${members} member headers`);
  // the bytes are a function of the image alone
  const again = new MemorySink();
  await writeCompressedImage(bufferSource(image, 'image'), again);
  assert.equal(sha(again.bytes()), sha(gz));
});

const MODULE_DIR = `usr/lib/modules/${KERNEL_VERSION}`;

/** The live test root plus busybox and a modules tree: virtio_blk needs virtio_ring, sd_mod is built in. */
async function installerRoot(): Promise<Tree> {
  const root = await liveRootTree(fakeBootLoaders());
  const put = (path: string, bytes: Uint8Array | string) => root.set(path, fileNode(bytes), { mode: 0o755, uid: 0, gid: 0 });
  put('usr/bin/busybox', blob(100000, 21));
  put(`${MODULE_DIR}/modules.dep`, 'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_ring.ko:\nkernel/fs/isofs/isofs.ko:\nkernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko\nkernel/drivers/ata/libata.ko:\nkernel/drivers/unused.ko:\n');
  put(`${MODULE_DIR}/modules.builtin`, 'kernel/drivers/scsi/sd_mod.ko\n');
  for (const m of ['block/virtio_blk', 'virtio/virtio_ring', 'ata/ata_piix', 'ata/libata', 'unused']) put(`${MODULE_DIR}/kernel/drivers/${m}.ko`, blob(3000, m.length));
  put(`${MODULE_DIR}/kernel/fs/isofs/isofs.ko`, blob(3000, 99));
  return root;
}

test('installer modules: the wanted ones with their dependencies first; built-in ones need nothing; missing ones warned about', async () => {
  const warnings: string[] = [];
  const modules = await installerModules(await installerRoot(), KERNEL_VERSION, (m) => warnings.push(m), ['virtio_blk', 'sd_mod', 'ata_piix', 'isofs', 'nvme']);
  assert.deepEqual(modules.map((m) => m.name), ['virtio_ring.ko', 'virtio_blk.ko', 'libata.ko', 'ata_piix.ko', 'isofs.ko']);
  assert.deepEqual(warnings, [`installer ISO: kernel ${KERNEL_VERSION} has no module nvme; left out`]);
});

async function buildIso(t: import('node:test').TestContext, seed = 'installer-test'): Promise<{ bytes: Uint8Array; image: Uint8Array }> {
  const dir = tempDir(t, 'reprimage-installer-unit-');
  const image = gptImage(8);
  writeFileSync(join(dir, 'disk.img'), image);
  const options: InstallerIsoOptions = { name: 'installer-test', imageName: 'demo', buildTime: 1700000000, seed, tempDir: dir };
  const sink = new MemorySink();
  await writeInstallerIso(await installerRoot(), join(dir, 'disk.img'), sink, options);
  return { bytes: sink.bytes().slice(), image };
}

test('installer ISO: the medium holds the kernel, our initramfs, the compressed image and image.conf; menus keep space for words', async (t) => {
  const { bytes, image } = await buildIso(t);
  const iso = await openIso(bufferSource(bytes, 'installer.iso'));
  assert.deepEqual(iso.bootCatalog?.entries.map((e) => e.platform), [0, 0xef]);
  const tree = await iso.tree();
  const text = async (path: string) => Buffer.from(await readContent((tree.get(path) as { content: Parameters<typeof readContent>[0] }).content)).toString('utf8');
  const conf = Object.fromEntries((await text(INSTALLER_CONF)).trim().split('\n').map((l) => l.split('=') as [string, string]));
  const gz = await readContent((tree.get('install/disk.img.gz') as { content: Parameters<typeof readContent>[0] }).content);
  assert.deepEqual(conf, {
    IMAGE_NAME: 'demo', IMAGE_SIZE: String(image.length), IMAGE_SHA256: sha(image),
    COMPRESSED_FILE: 'install/disk.img.gz', COMPRESSED_CODEC: 'gzip', COMPRESSED_SIZE: String(gz.length), COMPRESSED_SHA256: sha(gz),
  });
  assert.equal(sha(gunzipSync(gz)), sha(image));
  for (const menu of ['isolinux/isolinux.cfg', 'boot/grub/grub.cfg']) {
    const cfg = await text(menu);
    assert.match(cfg, /install\/vmlinuz/);
    assert.ok(cfg.includes(`console=ttyS0,115200 console=tty0${' '.repeat(KARGS_RESERVED)}\n`), `${menu} reserves ${KARGS_RESERVED} spaces`);
  }
  // the initramfs: one gzip'd newc archive
  const initrd = await readContent((tree.get(INSTALLER_INITRD) as { content: Parameters<typeof readContent>[0] }).content);
  const [segment] = await loadCpioSegments(bufferSource(initrd, 'initrd'));
  assert.equal(segment!.segment.compression, 'gzip');
  const inner = segment!.tree;
  for (const path of ['init', 'bin/busybox', 'bin/reprimage-install', 'dev/console', 'lib/modules/virtio_blk.ko', 'lib/modules/ata_piix.ko']) assert.ok(inner.get(path), path);
  assert.equal(inner.get('lib/modules/unused.ko'), undefined, 'only the modules the installer needs');
  assert.equal((inner.get('init') as { mode: number }).mode & 0o777, 0o755);
  const installerConf = Buffer.from(await readContent((inner.get('etc/reprimage-installer.conf') as { content: Parameters<typeof readContent>[0] }).content)).toString();
  assert.match(installerConf, new RegExp(`^MEDIUM_IMAGE_SHA256=${sha(image)}\nMODULES="libata.ko ata_piix.ko isofs.ko virtio_ring.ko virtio_blk.ko"\n$`));
  await segment!.segment.source.close();
});

test('installer ISO bytes do not depend on TZ or umask; the seed sets the identifiers', async (t) => {
  const savedTz = process.env.TZ;
  const savedUmask = process.umask();
  try {
    process.env.TZ = 'UTC';
    process.umask(0o022);
    const a = await buildIso(t);
    process.env.TZ = 'Pacific/Kiritimati';
    process.umask(0o077);
    const b = await buildIso(t);
    assert.equal(sha(b.bytes), sha(a.bytes));
    // pinned: the medium's writers (cpio, FAT, ISO 9660 through the format registry) keep their bytes
    assert.equal(sha(a.bytes), INSTALLER_ISO_SHA256);
    const c = await buildIso(t, 'another seed');
    assert.notEqual(sha(c.bytes), sha(a.bytes));
  } finally {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
    process.umask(savedUmask);
  }
});

test('installer ISO: an aborted signal stops the medium at its next write, with an ABORTED error; the scratch directory is removed', async (t) => {
  const dir = tempDir(t, 'reprimage-installer-abort-');
  writeFileSync(join(dir, 'disk.img'), gptImage(8));
  const controller = new AbortController();
  const memory = new MemorySink();
  let writes = 0;
  // the sink the caller hands in: the signal aborts during the ISO's third write
  const sink: Sink = {
    get position() { return memory.position; },
    write: (b) => (++writes === 3 && controller.abort(new Error('stop here')), memory.write(b)),
    writeAt: (o, b) => memory.writeAt(o, b),
    flush: () => memory.flush(),
  };
  const options: InstallerIsoOptions = { name: 'installer-test', imageName: 'demo', buildTime: 1700000000, seed: 'installer-test', tempDir: dir, signal: controller.signal, subject: 'inst.iso' };
  await assert.rejects(writeInstallerIso(await installerRoot(), join(dir, 'disk.img'), sink, options), (e: unknown) => e instanceof ReprimageError && e.code === 'ABORTED' && /^inst\.iso: aborted: stop here$/.test(e.message));
  assert.ok(writes >= 3 && writes < 6, `stopped after ${writes} writes`);
  assert.deepEqual(readdirSync(dir), ['disk.img'], 'no scratch file or directory is left');
});

/** The image on a disk of `mib` MiB with the backup GPT relocated as the installer does. */
function installed(image: Uint8Array, mib: number): Uint8Array {
  const disk = new Uint8Array(mib << 20);
  disk.set(image);
  const moved = relocateGpt(image.subarray(512, 1024), disk.length / 512);
  const entries = image.subarray(1024, 1024 + moved.entrySectors * 512);
  disk.set(entries, moved.backupEntriesLba * 512);
  disk.set(moved.backup, disk.length - 512);
  disk.set(moved.primary, 512);
  return disk;
}

test('GPT relocation: both headers check out, point at each other and at the disk end; the entries are unchanged', () => {
  const image = gptImage(8);
  const sectors = (32 << 20) / 512;
  const moved = relocateGpt(image.subarray(512, 1024), sectors);
  const primary = decodeGptHeader(moved.primary, 'primary', 512);
  const backup = decodeGptHeader(moved.backup, 'backup', 0);
  const before = decodeGptHeader(image.subarray(512, 1024), 'image', 512);
  assert.deepEqual([primary.myLba, primary.alternateLba, primary.lastUsableLba, primary.entriesLba], [1, sectors - 1, sectors - 34, 2]);
  assert.deepEqual([backup.myLba, backup.alternateLba, backup.lastUsableLba, backup.entriesLba], [sectors - 1, 1, sectors - 34, sectors - 33]);
  assert.deepEqual([primary.entriesCrc, primary.diskGuid, primary.firstUsableLba], [before.entriesCrc, before.diskGuid, before.firstUsableLba]);
  // relocating onto the image's own size gives the image's header back
  assert.equal(sha(relocateGpt(moved.primary, image.length / 512).primary), sha(image.subarray(512, 1024)));
});

test('verify-disk: equal as written and after relocation; a changed byte named by offset and partition; a bad backup; manifests', async (t) => {
  const dir = tempDir(t, 'reprimage-verify-disk-');
  const image = gptImage(8);
  const file = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const imagePath = file('image.img', image);
  const same = await verifyDisk(file('same.img', image), imagePath);
  assert.deepEqual([same.equal, same.relocated], [true, false]);
  const disk = installed(image, 32);
  const moved = await verifyDisk(file('moved.img', disk), imagePath);
  assert.deepEqual([moved.equal, moved.relocated, moved.diskSize], [true, true, 32 << 20]);
  // not relocated on a larger disk is fine too: the image's extent is all that is compared
  const plain = new Uint8Array(32 << 20);
  plain.set(image);
  assert.equal((await verifyDisk(file('plain.img', plain), imagePath)).equal, true);

  const changed = disk.slice();
  changed[4096 * 512 + 1000] = changed[4096 * 512 + 1000]! ^ 1;
  const diff = await verifyDisk(file('changed.img', changed), imagePath);
  assert.equal(diff.equal, false);
  assert.equal(diff.firstDifference, 4096 * 512 + 1000);
  assert.equal(diff.difference, `first difference at byte ${4096 * 512 + 1000} (partition 2, root-x86-64, its byte 1000)`);
  const badBackup = disk.slice();
  badBackup[disk.length - 512 + 100] = badBackup[disk.length - 512 + 100]! ^ 1;
  assert.equal((await verifyDisk(file('bad-backup.img', badBackup), imagePath)).difference, 'the backup GPT header at the end of the disk is not the relocated primary header');
  const header = disk.slice();
  header[512 + 60] = header[512 + 60]! ^ 1; // the disk GUID: not a field relocation changes (so the header CRC differs first)
  assert.equal((await verifyDisk(file('header.img', header), imagePath)).difference, 'first difference at byte 528 (primary GPT header)');
  const short = await verifyDisk(file('short.img', image.subarray(0, 4 << 20)), imagePath);
  assert.equal(short.difference, `the disk has ${4 << 20} bytes, fewer than the image's ${8 << 20}`);

  // a manifest: the disk's extent with the relocation undone must hash to the image's SHA-256
  const manifest = (outputs: unknown[]) => file('manifest.json', new TextEncoder().encode(JSON.stringify({ reproducible: { outputs } })));
  const diskOutput = { path: 'disk.img', type: 'disk', format: 'raw disk (GPT, bios + uefi)', sha256: sha(image), size: image.length };
  assert.equal((await verifyDisk(join(dir, 'moved.img'), manifest([diskOutput]))).equal, true);
  const installerOutput = { path: 'installer.iso', type: 'installer-iso', format: 'iso9660 (installer, hybrid)', sha256: SHA, size: 1, image: { sha256: sha(image), size: image.length } };
  assert.equal((await verifyDisk(join(dir, 'moved.img'), manifest([installerOutput]))).equal, true);
  const viaManifest = await verifyDisk(join(dir, 'changed.img'), manifest([diskOutput]));
  assert.equal(viaManifest.equal, false);
  assert.match(viaManifest.difference ?? '', new RegExp(`hash to [0-9a-f]{64}, the manifest's image to ${sha(image)}`));
  await assert.rejects(verifyDisk(join(dir, 'moved.img'), manifest([{ ...diskOutput, format: 'qcow2 disk (GPT, bios + uefi)' }])), /lists no raw disk image/);
});
