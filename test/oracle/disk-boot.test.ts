// It boots: a GPT disk image written by `reprimage disk` (an ESP from our FAT writer holding
// GRUB's standalone BOOTX64.EFI from Debian's grub-efi-amd64-bin, a Debian kernel and a busybox
// initramfs made with our cpio writer; an ext4 root partition from our ext4 writer) boots in
// qemu-system-x86_64 with OVMF from the virtio disk. The initramfs loads the ext4 and virtio
// modules, finds the root partition by the file-system UUID reprimage derived (busybox findfs),
// prints the GPT partition names the kernel read, mounts the root read-only and prints a file
// from it; then the marker, then it powers off. A control boot of the same disk without the ESP's loader must not find the marker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

test('OVMF boots a GPT disk: GRUB on our FAT ESP, kernel + our cpio initramfs, our ext4 root mounted', { timeout: 240_000 }, async (t) => {
  if (!requireBootKit(t, 'grub-mkstandalone', 'sgdisk') || !requireQemu(t, 'uefi')) return;
  const dir = tempDir(t);
  const kernel = debianKernel();
  const esp = join(dir, 'esp');
  const root = join(dir, 'root');
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/motd'), `${ROOT_TEXT}\n`);
  grubEfi(dir, join(esp, 'EFI/BOOT/BOOTX64.EFI'));
  copyFileSync(kernel.vmlinuz, join(esp, 'vmlinuz'));

  // the ext4 UUID is derived from the seed; a first disk (without the initrd checking it) tells us which
  const common = ['--source-date-epoch', EPOCH, '--seed', 'disk-boot', '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${root}`];
  const probe = runCli(['disk', '-o', join(dir, 'probe.img'), '--json', ...common.slice(0, 4), '-p', `esp=${root}`, '-p', `root-x86-64:ext4=${root}`]);
  assert.equal(probe.status, 0, probe.stderr);
  const fsUuid = (JSON.parse(probe.stdout) as { partitions: Array<{ filesystemId: string }> }).partitions[1]!.filesystemId;

  const initrd = await makeInitramfs({ marker: MARKER, modules: ['virtio_pci', 'virtio_blk', 'ext4', 'crc32c_generic'], commands: rootCommands(fsUuid) });
  writeFileSync(join(esp, 'initrd.img'), initrd);
  const disk = join(dir, 'disk.img');
  const made = runCli(['disk', '-o', disk, '--json', ...common]);
  assert.equal(made.status, 0, made.stderr);
  const report = JSON.parse(made.stdout) as { size: number; partitions: Array<{ filesystemId: string; content: string }> };
  assert.equal(report.partitions[1]!.filesystemId, fsUuid, 'the root UUID depends on the seed and the partition, not on the ESP');
  assert.deepEqual(report.partitions.map((p) => p.content), ['fat', 'ext4']);
  run('sgdisk', ['-v', disk]);

  const started = Date.now();
  const result = await bootQemu({ firmware: 'uefi', disk, diskInterface: 'virtio', marker: MARKER, timeoutMs: 150_000 }, t);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.diagnostic(`boot with ${await qemuAccel()}: ${seconds} s, disk ${report.size} bytes`);
  assert.ok(result.found, describeBoot(result));
  assert.match(result.console, /reprimage\.via=disk-grub/, 'GRUB from the ESP started the kernel');
  assert.match(result.console, new RegExp(`root says: ${ROOT_TEXT}`), describeBoot(result));
  assert.match(result.console, /findfs: \/dev\/vda2/, describeBoot(result));
  assert.match(result.console, /vda1\/uevent:PARTNAME=esp/, 'the kernel reads our GPT partition names');
  assert.match(result.console, /vda2\/uevent:PARTNAME=root-x86-64/, describeBoot(result));
  assert.ok(!result.timedOut, describeBoot(result));

  // control: the same disk with an ESP that holds no loader does not boot to the marker
  const empty = join(dir, 'empty-esp');
  mkdirSync(empty);
  writeFileSync(join(empty, 'README'), 'no loader here\n');
  const control = join(dir, 'control.img');
  const c = runCli(['disk', '-o', control, '--source-date-epoch', EPOCH, '-p', `esp=${empty}`, '-p', `root-x86-64:ext4=${root}`]);
  assert.equal(c.status, 0, c.stderr);
  const failed = await bootQemu({ firmware: 'uefi', disk: control, diskInterface: 'virtio', marker: MARKER, timeoutMs: 10_000 }, t);
  assert.equal(failed.found, false, describeBoot(failed));
  assert.ok(readFileSync(disk).length > 0);
});
