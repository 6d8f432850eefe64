// It boots: a GPT disk image written by `reprimage disk` (an ESP from our FAT writer holding
// GRUB's standalone BOOTX64.EFI from Debian's grub-efi-amd64-bin, a Debian kernel and a busybox
// initramfs made with our cpio writer; an ext4 root partition from our ext4 writer) boots in
// qemu-system-x86_64 with OVMF from the virtio disk. The initramfs loads the ext4 and virtio
// modules, finds the root partition by the file-system UUID reprimage derived (busybox findfs),
// prints the GPT partition names the kernel read, mounts the root read-only and prints a file
// from it; then the marker, then it powers off. A control boot of the same disk without the
// ESP's loader must not find the marker. A second disk boots the same way through systemd-boot
// (systemd-boot-efi) and a Boot Loader Specification entry.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERIAL_CMDLINE, debianKernel, makeInitramfs, requireBootKit } from '../helpers/boot-kit.js';
import { bootQemu, describeBoot, qemuAccel, requireQemu } from '../helpers/qemu.js';
import { runCli } from '../helpers/cli.js';
import { run, tempDir } from '../helpers/tools.js';

const EPOCH = '1700000000';
const MARKER = 'REPRIMAGE-DISK-BOOTED-5c21';
const ROOT_TEXT = 'hello from the ext4 root partition';

/** GRUB as one EFI binary whose embedded grub.cfg finds the ESP by its kernel and boots it. */
function grubEfi(dir: string, out: string): void {
  const cfg = join(dir, 'grub.cfg');
  writeFileSync(cfg, [
    'set timeout=0',
    'search --no-floppy --file /vmlinuz --set=root',
    `linux /vmlinuz ${SERIAL_CMDLINE} reprimage.via=disk-grub`,
    'initrd /initrd.img',
    'boot',
    '',
  ].join('\n'));
  run('grub-mkstandalone', [
    '-O', 'x86_64-efi', '--locales=', '--themes=', '--fonts=', '--compress=xz',
    '--install-modules=linux normal search search_fs_file part_gpt fat configfile echo test',
    '--modules=linux search search_fs_file part_gpt fat',
    '-o', out, `boot/grub/grub.cfg=${cfg}`,
  ]);
}

/**
 * The init commands: wait for /dev/vda2, find it by its ext4 UUID, show what the kernel read from
 * our GPT, mount it and print a file from it. Each step fails the block by itself (`set -e` does
 * not apply inside the condition of the boot kit's `if`).
 */
function rootCommands(fsUuid: string): string {
  return [
    'echo "cmdline: $(cat /proc/cmdline)"',
    'i=0; while [ ! -b /dev/vda2 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done',
    `echo "findfs: $(findfs UUID=${fsUuid})"`,
    `[ "$(findfs UUID=${fsUuid})" = /dev/vda2 ] || exit 1`,
    'grep PARTNAME /sys/class/block/vda1/uevent /sys/class/block/vda2/uevent || exit 1',
    'mount -t ext4 -o ro /dev/vda2 /mnt || exit 1',
    'echo "root says: $(cat /mnt/etc/motd)"',
    'umount /mnt || exit 1',
  ].join('\n');
}

const SYSTEMD_BOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

/** systemd-boot from Debian's systemd-boot-efi with one Boot Loader Specification entry. */
function systemdBoot(esp: string): void {
  copyFileSync(SYSTEMD_BOOT, join(esp, 'EFI/BOOT/BOOTX64.EFI'));
  mkdirSync(join(esp, 'loader/entries'), { recursive: true });
  writeFileSync(join(esp, 'loader/loader.conf'), 'timeout 0\ndefault debian.conf\n');
  writeFileSync(join(esp, 'loader/entries/debian.conf'), `title Debian\nlinux /vmlinuz\ninitrd /initrd.img\noptions ${SERIAL_CMDLINE} reprimage.via=disk-systemd-boot\n`);
}

interface BootDisk {
  dir: string;
  disk: string;
  root: string;
  size: number;
}

/** ESP (loader, kernel, initramfs) + ext4 root, made by `reprimage disk`. */
async function bootDisk(dir: string, loader: 'grub' | 'systemd-boot'): Promise<BootDisk> {
  const kernel = debianKernel();
  const esp = join(dir, 'esp');
  const root = join(dir, 'root');
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/motd'), `${ROOT_TEXT}\n`);
  if (loader === 'grub') grubEfi(dir, join(esp, 'EFI/BOOT/BOOTX64.EFI'));
  else systemdBoot(esp);
  copyFileSync(kernel.vmlinuz, join(esp, 'vmlinuz'));

  // the ext4 UUID is derived from the seed and the partition's type and rank, not from the ESP's
  // content: a first disk made without the initramfs tells which UUID the initramfs must look for
  const seed = ['--source-date-epoch', EPOCH, '--seed', 'disk-boot'];
  const probe = runCli(['disk', '-o', join(dir, 'probe.img'), '--json', ...seed, '-p', `esp=${root}`, '-p', `root-x86-64:ext4=${root}`]);
  assert.equal(probe.status, 0, probe.stderr);
  const fsUuid = (JSON.parse(probe.stdout) as { partitions: Array<{ filesystemId: string }> }).partitions[1]!.filesystemId;

  const initrd = await makeInitramfs({ marker: MARKER, modules: ['virtio_pci', 'virtio_blk', 'ext4', 'crc32c_generic'], commands: rootCommands(fsUuid) });
  writeFileSync(join(esp, 'initrd.img'), initrd);
  const disk = join(dir, 'disk.img');
  const made = runCli(['disk', '-o', disk, '--json', ...seed, '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${root}`]);
  assert.equal(made.status, 0, made.stderr);
  const report = JSON.parse(made.stdout) as { size: number; partitions: Array<{ filesystemId: string; content: string }> };
  assert.equal(report.partitions[1]!.filesystemId, fsUuid, 'the root UUID depends on the seed and the partition, not on the ESP');
  assert.deepEqual(report.partitions.map((p) => p.content), ['fat', 'ext4']);
  assert.match(run('sgdisk', ['-v', disk]).stdout.toString(), /No problems found/);
  return { dir, disk, root, size: report.size };
}

/** Boots the disk and checks everything the initramfs printed. */
async function expectBoot(t: TestContext, d: BootDisk, via: string): Promise<void> {
  const started = Date.now();
  const result = await bootQemu({ firmware: 'uefi', disk: d.disk, diskInterface: 'virtio', marker: MARKER, timeoutMs: 150_000 }, t);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.diagnostic(`${via} boot with ${await qemuAccel()}: ${seconds} s, disk ${d.size} bytes`);
  assert.ok(result.found, describeBoot(result));
  assert.match(result.console, new RegExp(`reprimage\\.via=${via}`), `the loader on the ESP started the kernel\n${describeBoot(result)}`);
  assert.match(result.console, new RegExp(`root says: ${ROOT_TEXT}`), describeBoot(result));
  assert.match(result.console, /findfs: \/dev\/vda2/, describeBoot(result));
  assert.match(result.console, /vda1\/uevent:PARTNAME=esp/, 'the kernel reads our GPT partition names');
  assert.match(result.console, /vda2\/uevent:PARTNAME=root-x86-64/, describeBoot(result));
  assert.ok(!result.timedOut, describeBoot(result));
}

test('OVMF boots a GPT disk: GRUB on our FAT ESP, kernel + our cpio initramfs, our ext4 root mounted', { timeout: 240_000 }, async (t) => {
  if (!requireBootKit(t, 'grub-mkstandalone', 'sgdisk') || !requireQemu(t, 'uefi')) return;
  const d = await bootDisk(tempDir(t), 'grub');
  await expectBoot(t, d, 'disk-grub');

  // control: the same disk with an ESP that holds no loader does not boot to the marker
  const empty = join(d.dir, 'empty-esp');
  mkdirSync(empty);
  writeFileSync(join(empty, 'README'), 'no loader here\n');
  const control = join(d.dir, 'control.img');
  const c = runCli(['disk', '-o', control, '--source-date-epoch', EPOCH, '-p', `esp=${empty}`, '-p', `root-x86-64:ext4=${d.root}`]);
  assert.equal(c.status, 0, c.stderr);
  const failed = await bootQemu({ firmware: 'uefi', disk: control, diskInterface: 'virtio', marker: MARKER, timeoutMs: 10_000 }, t);
  assert.equal(failed.found, false, describeBoot(failed));
});

test('OVMF boots a GPT disk with systemd-boot and a Boot Loader Specification entry on our FAT ESP', { timeout: 240_000 }, async (t) => {
  if (!requireBootKit(t, 'sgdisk') || !requireQemu(t, 'uefi')) return;
  if (!existsSync(SYSTEMD_BOOT)) {
    if (process.env.CI === 'true') throw new Error(`${SYSTEMD_BOOT} missing in CI (systemd-boot-efi)`);
    t.skip('needs systemd-boot-efi');
    return;
  }
  await expectBoot(t, await bootDisk(tempDir(t), 'systemd-boot'), 'disk-systemd-boot');
});
