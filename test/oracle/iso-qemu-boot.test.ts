// It boots: one hybrid ISO written by reprimage (Debian kernel, a busybox initramfs made with our
// cpio writer, isolinux for BIOS, GRUB's BOOTX64.EFI in an ESP made by our FAT writer for UEFI)
// boots in qemu-system-x86_64 with SeaBIOS and with OVMF, each as CD-ROM and as hard disk. Every
// boot must print the initramfs's marker on the serial console, and the kernel command line the
// init script echoes shows which boot loader started it. Each boot is bounded (90 s).
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFat } from '../../src/formats/fat/index.js';
import { writeIso, type IsoWriteOptions } from '../../src/formats/iso9660/index.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { SERIAL_CMDLINE, debianKernel, makeInitramfs, requireBootKit } from '../helpers/boot-kit.js';
import { bootQemu, describeBoot, requireQemu } from '../helpers/qemu.js';
import { run } from '../helpers/tools.js';

const EPOCH = 1700000000;
const MARKER = 'REPRIMAGE-ISO-BOOTED-7f3a';
const ISOLINUX = '/usr/lib/ISOLINUX/isolinux.bin';
const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';
const LDLINUX = '/usr/lib/syslinux/modules/bios/ldlinux.c32';

const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: { sec: EPOCH - 1, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
const file = (bytes: Uint8Array, mode = 0o644) => ({ kind: 'file' as const, ...meta(mode), content: bytesContent(bytes) });

function haveBootFiles(t: TestContext): boolean {
  const missing = [ISOLINUX, ISOHDPFX, LDLINUX].filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`missing in CI: ${missing.join(', ')} (isolinux, syslinux-common)`);
  t.skip(`needs ${missing.join(', ')}`);
  return false;
}

/** GRUB as a standalone EFI binary whose embedded grub.cfg finds the ISO by its kernel and boots it. */
function grubEfi(dir: string): Uint8Array {
  const cfg = join(dir, 'grub.cfg');
  writeFileSync(cfg, [
    'set timeout=0',
    'search --no-floppy --file /boot/vmlinuz --set=root',
    `linux /boot/vmlinuz ${SERIAL_CMDLINE} reprimage.via=grub`,
    'initrd /boot/initrd.img',
    'boot',
    '',
  ].join('\n'));
  const out = join(dir, 'BOOTX64.EFI');
  run('grub-mkstandalone', [
    '-O', 'x86_64-efi', '--locales=', '--themes=', '--fonts=', '--compress=xz',
    '--install-modules=linux normal search search_fs_file iso9660 part_gpt part_msdos fat configfile echo test',
    '--modules=linux search search_fs_file iso9660 part_gpt part_msdos fat',
    '-o', out, `boot/grub/grub.cfg=${cfg}`,
  ]);
  return readFileSync(out);
}

/** The ESP: EFI/BOOT/BOOTX64.EFI in a FAT image written by reprimage's FAT writer. */
async function espImage(bootx64: Uint8Array): Promise<Uint8Array> {
  const tree = new Tree(newDir(meta(0o755)));
  tree.set('EFI', newDir(meta(0o755)));
  tree.set('EFI/BOOT', newDir(meta(0o755)));
  tree.set('EFI/BOOT/BOOTX64.EFI', file(bootx64));
  const sink = new MemorySink();
  await writeFat(tree, sink, { volumeSerial: 0x1234abcd, buildTime: EPOCH, label: 'ESP' });
  return sink.bytes().slice();
}

async function bootTree(dir: string): Promise<Tree> {
  const kernel = debianKernel();
  // The init script echoes the command line, so the console says which loader booted it.
  const initrd = await makeInitramfs({ marker: MARKER, commands: 'echo "cmdline: $(cat /proc/cmdline)"' });
  const tree = new Tree(newDir(meta(0o755)));
  tree.set('isolinux', newDir(meta(0o755)));
  tree.set('isolinux/isolinux.bin', file(readFileSync(ISOLINUX)));
  tree.set('isolinux/ldlinux.c32', file(readFileSync(LDLINUX)));
  tree.set('isolinux/isolinux.cfg', file(Buffer.from([
    'default linux',
    'prompt 0',
    'timeout 0',
    'label linux',
    '  kernel /boot/vmlinuz',
    `  append initrd=/boot/initrd.img ${SERIAL_CMDLINE} reprimage.via=isolinux`,
    '',
  ].join('\n'))));
  tree.set('boot', newDir(meta(0o755)));
  tree.set('boot/vmlinuz', file(readFileSync(kernel.vmlinuz)));
  tree.set('boot/initrd.img', file(initrd));
  tree.set('boot/grub', newDir(meta(0o755)));
  tree.set('boot/grub/efi.img', file(await espImage(grubEfi(dir))));
  return tree;
}

async function writeBootIso(tree: Tree, path: string, options: Partial<IsoWriteOptions>): Promise<void> {
  await writeAtomically(path, (sink) =>
    writeIso(tree, sink, {
      volumeId: 'REPRIMAGE_BOOT', buildTime: EPOCH,
      bios: { bootImage: 'isolinux/isolinux.bin', loadSize: 4, bootInfoTable: true },
      hybridMbr: readFileSync(ISOHDPFX), mbrId: 0x5eed1234,
      sortWeights: new Map([['isolinux/isolinux.bin', 2], ['boot/grub/efi.img', 1]]),
      ...options,
    }),
  );
}

async function expectBoot(t: TestContext, how: { firmware: 'bios' | 'uefi'; as: 'cdrom' | 'disk'; image: string; via: string }): Promise<void> {
  const result = await bootQemu({ firmware: how.firmware, [how.as]: how.image, marker: MARKER, timeoutMs: 90_000 }, t);
  assert.ok(result.found, `no marker on the serial console\n${describeBoot(result)}`);
  assert.match(result.console, new RegExp(`cmdline: .*reprimage\\.via=${how.via}`), describeBoot(result));
}

interface BootImages {
  /** BIOS isolinux + the ESP appended as partition 2 with a GPT (Debian's layout). */
  gptIso: string;
  /** BIOS isolinux + the ESP as a file inside the ISO, MBR only. */
  mbrIso: string;
  /** BIOS isolinux without the hybrid MBR: bootable as CD only. */
  plainIso: string;
  /** UEFI only: protective MBR + GPT, the ESP appended (xorriso -appended_part_as_gpt). */
  uefiAppendedIso: string;
  /** UEFI only: protective MBR + GPT, the ESP inside the ISO between two ISO partitions. */
  uefiInsideIso: string;
}

let built: Promise<BootImages> | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'reprimage-iso-boot-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The images all boot tests share, written once per run. */
function bootImages(): Promise<BootImages> {
  built ??= (async () => {
    const tree = await bootTree(scratch);
    const esp = tree.get('boot/grub/efi.img');
    assert.ok(esp?.kind === 'file');
    // Debian's layout: the ESP appended after the ISO as GPT/MBR partition 2, which the El Torito
    // UEFI entry also points at (xorriso -append_partition 2 0xef … -e --interval:appended_partition_2).
    const gptIso = join(scratch, 'gpt.iso');
    tree.remove('boot/grub/efi.img');
    await writeBootIso(tree, gptIso, {
      efi: { appendedImage: esp.content },
      gpt: { diskGuid: '9d7c1d54-5c4c-4e3b-9b43-7c2d1c0e5a11', partitionGuids: ['0a1b2c3d-0000-4000-8000-000000000001', '0a1b2c3d-0000-4000-8000-000000000002'] },
    });
    // The ESP inside the ISO as a file, with only an MBR (xorriso -e boot/grub/efi.img, no GPT).
    tree.set('boot/grub/efi.img', esp);
    const mbrIso = join(scratch, 'mbr.iso');
    await writeBootIso(tree, mbrIso, { efi: { bootImage: 'boot/grub/efi.img' } });
    const plainIso = join(scratch, 'plain.iso');
    await writeBootIso(tree, plainIso, { hybridMbr: undefined, mbrId: undefined });
    const uefiOnly = { bios: undefined, hybridMbr: undefined, mbrId: 0x0badcafe, sortWeights: undefined };
    const guids = { diskGuid: '9d7c1d54-5c4c-4e3b-9b43-7c2d1c0e5a12', partitionGuids: ['0a1b2c3d-0000-4000-8000-000000000011', '0a1b2c3d-0000-4000-8000-000000000012', '0a1b2c3d-0000-4000-8000-000000000013'] };
    const uefiInsideIso = join(scratch, 'uefi-inside.iso');
    await writeBootIso(tree, uefiInsideIso, { ...uefiOnly, efi: { bootImage: 'boot/grub/efi.img' }, gpt: guids });
    tree.remove('boot/grub/efi.img');
    const uefiAppendedIso = join(scratch, 'uefi-appended.iso');
    await writeBootIso(tree, uefiAppendedIso, { ...uefiOnly, efi: { appendedImage: esp.content }, gpt: guids });
    return { gptIso, mbrIso, plainIso, uefiAppendedIso, uefiInsideIso };
  })();
  return built;
}

function ready(t: TestContext): boolean {
  return requireBootKit(t, 'grub-mkstandalone') && haveBootFiles(t);
}

test('SeaBIOS boots the hybrid ISO as CD-ROM and as hard disk (isolinux), and not without the hybrid MBR', async (t) => {
  if (!ready(t) || !requireQemu(t, 'bios')) return;
  const { gptIso, mbrIso, plainIso } = await bootImages();
  await t.test('CD-ROM (El Torito BIOS entry, boot info table)', (t) => expectBoot(t, { firmware: 'bios', as: 'cdrom', image: gptIso, via: 'isolinux' }));
  await t.test('hard disk (isohybrid MBR with a GPT)', (t) => expectBoot(t, { firmware: 'bios', as: 'disk', image: gptIso, via: 'isolinux' }));
  await t.test('hard disk (isohybrid MBR only)', (t) => expectBoot(t, { firmware: 'bios', as: 'disk', image: mbrIso, via: 'isolinux' }));
  // The control that shows these boots can fail: without the isohybrid MBR the disk is not bootable.
  await t.test('control: no hybrid MBR, no disk boot', async (t) => {
    const result = await bootQemu({ firmware: 'bios', disk: plainIso, marker: MARKER, timeoutMs: 10_000 }, t);
    assert.equal(result.found, false, describeBoot(result));
    assert.match(result.console, /No bootable device|Boot failed/, describeBoot(result));
  });
});

test('OVMF boots the hybrid ISO as CD-ROM and as hard disk (GRUB BOOTX64.EFI in our FAT ESP)', async (t) => {
  if (!ready(t) || !requireQemu(t, 'uefi')) return;
  const { gptIso, mbrIso } = await bootImages();
  await t.test('CD-ROM (El Torito UEFI entry on the appended ESP)', (t) => expectBoot(t, { firmware: 'uefi', as: 'cdrom', image: gptIso, via: 'grub' }));
  await t.test('hard disk (GPT EFI system partition)', (t) => expectBoot(t, { firmware: 'uefi', as: 'disk', image: gptIso, via: 'grub' }));
  await t.test('CD-ROM (El Torito UEFI entry on efi.img inside the ISO)', (t) => expectBoot(t, { firmware: 'uefi', as: 'cdrom', image: mbrIso, via: 'grub' }));
});

test('OVMF boots UEFI-only ISOs with a protective MBR and a GPT from disk (ESP appended, ESP inside) and as CD', async (t) => {
  if (!ready(t) || !requireQemu(t, 'uefi')) return;
  const { uefiAppendedIso, uefiInsideIso } = await bootImages();
  await t.test('hard disk, ESP appended after the ISO', (t) => expectBoot(t, { firmware: 'uefi', as: 'disk', image: uefiAppendedIso, via: 'grub' }));
  await t.test('hard disk, ESP inside the ISO as its own GPT partition', (t) => expectBoot(t, { firmware: 'uefi', as: 'disk', image: uefiInsideIso, via: 'grub' }));
  await t.test('CD-ROM, ESP inside the ISO', (t) => expectBoot(t, { firmware: 'uefi', as: 'cdrom', image: uefiInsideIso, via: 'grub' }));
});
