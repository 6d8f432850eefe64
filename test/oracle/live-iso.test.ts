// Live ISO checked by the reference tools: xorriso describes the El Torito BIOS (isolinux from
// the host's Debian packages, placed in the root tree where the packages put it) and UEFI (the
// appended ESP) entries and the hybrid MBR/GPT; unsquashfs lists live/filesystem.squashfs as the
// root tree; fsck.fat and mtools read the ESP; zstd + cpio unpack the repacked initramfs's main
// archive after its uncompressed early archive.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCpioSegments } from '../../src/formats/cpio/index.js';
import { writeLiveIso } from '../../src/image/live-iso.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { bufferSource } from '../../src/io/source.js';
import { LIVE_ROOT_EPOCH, blob, liveRootTree } from '../helpers/live-root.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const ISOLINUX = '/usr/lib/ISOLINUX/isolinux.bin';
const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';
const LDLINUX = '/usr/lib/syslinux/modules/bios/ldlinux.c32';

function haveBootFiles(t: TestContext): boolean {
  if ([ISOLINUX, ISOHDPFX, LDLINUX].every((p) => existsSync(p))) return true;
  if (process.env.CI === 'true') throw new Error('isolinux files missing in CI (apt-get install isolinux syslinux-common)');
  t.skip('needs Debian packages isolinux and syslinux-common');
  return false;
}

const out = (cmd: string, args: string[]) => run(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.toString('utf8');

test('live ISO: El Torito BIOS+UEFI, hybrid MBR/GPT, SquashFS root, FAT ESP, repacked initramfs', async (t) => {
  if (!requireTool(t, 'xorriso', 'unsquashfs', 'fsck.fat', 'mdir', 'zstd', 'cpio') || !haveBootFiles(t)) return;
  const dir = tempDir(t);
  const boot = { isolinuxBin: readFileSync(ISOLINUX), isohybridMbr: readFileSync(ISOHDPFX), ldlinux: readFileSync(LDLINUX), shim: blob(900 * 1024, 14), grubCd: blob(1200 * 1024, 15) };
  const root = await liveRootTree(boot, 'zstd');
  const iso = join(dir, 'live.iso');
  const report = await writeAtomically(iso, (sink) => writeLiveIso(root, sink, { name: 'live-test', buildTime: LIVE_ROOT_EPOCH, seed: 'live-test', compressor: 'xz' }));

  const text = out('xorriso', ['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
  assert.match(text, /^El Torito cat path : \/isolinux\/boot\.cat$/m);
  assert.match(text, /^El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin$/m);
  assert.match(text, /^El Torito img opts :\s+1\s+boot-info-table isohybrid-suitable$/m);
  assert.match(text, /^El Torito boot img :\s+2\s+UEFI\s+y\s+none/m);
  assert.match(text, /^System area summary: MBR isohybrid cyl-align-all GPT$/m);
  assert.match(text, /^MBR partition {6}:\s+2\s+0x00\s+0xef\s/m);
  assert.match(text, /^GPT type GUID {6}:\s+2\s+28732ac11ff8d211ba4b00a0c93ec93b$/m);
  assert.match(out('xorriso', ['-indev', iso, '-pvd_info']), /^Volume Id\s+: LIVE_TEST$/m);

  // the files on the medium, as xorriso lists them
  const listing = out('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']);
  for (const p of ['/live/vmlinuz', '/live/initrd.img', '/live/filesystem.squashfs', '/isolinux/ldlinux.c32', '/isolinux/isolinux.cfg', '/boot/grub/grub.cfg', '/.disk/info']) {
    assert.ok(listing.includes(`'${p}'`), `${p} in ${listing}`);
  }
  const extract = (member: string, to: string) => run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', member, to], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sqfs = join(dir, 'filesystem.squashfs');
  extract('/live/filesystem.squashfs', sqfs);
  const lls = out('unsquashfs', ['-lls', '-n', sqfs]);
  assert.match(out('unsquashfs', ['-s', sqfs]), /Compression xz/);
  for (const { path } of root.walk()) if (path !== '') assert.ok(lls.includes(`squashfs-root/${path}`), `${path} in the SquashFS`);
  assert.match(lls, /^crw------- root\/root\s+5,\s+1 \S+ \S+ squashfs-root\/dev\/console$/m);

  // the ESP: partition 2 of the GPT, a FAT file system holding shim and GRUB
  const esp = join(dir, 'esp.img');
  const start = report.iso.appendedPartition!.start * 512;
  writeFileSync(esp, readFileSync(iso).subarray(start, start + report.iso.appendedPartition!.sectors * 512));
  run('fsck.fat', ['-n', esp], { stdio: ['ignore', 'pipe', 'pipe'] });
  const mdir = out('mdir', ['-i', esp, '-b', '::/EFI/boot']);
  for (const name of ['bootx64.efi', 'grubx64.efi', 'grub.cfg']) assert.ok(mdir.toLowerCase().includes(name), `${name} in ${mdir}`);
  const grubOut = join(dir, 'grubx64.efi');
  run('mcopy', ['-i', esp, '::/EFI/boot/grubx64.efi', grubOut]);
  assert.deepEqual(readFileSync(grubOut), Buffer.from(boot.grubCd));

  // the initramfs: uncompressed early archive, then a zstd main archive that zstd and cpio unpack
  const initrd = join(dir, 'initrd.img');
  extract('/live/initrd.img', initrd);
  const segments = await loadCpioSegments(bufferSource(readFileSync(initrd), 'initrd.img'));
  const mainOffset = segments[1]!.segment.offset;
  for (const s of segments) if (s.segment.compression) await s.segment.source.close();
  assert.equal(readFileSync(initrd).subarray(0, 6).toString('latin1'), '070701');
  const main = join(dir, 'main.zst');
  writeFileSync(main, readFileSync(initrd).subarray(mainOffset));
  const plain = run('zstd', ['-d', '-c', main], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).stdout;
  const list = run('cpio', ['-t', '--quiet'], { input: plain, stdio: ['pipe', 'pipe', 'pipe'] }).stdout.toString().trim().split('\n');
  assert.deepEqual(list, ['.', 'bin', 'bin/busybox', 'bin/sh', 'conf', 'conf/initramfs.conf', 'init', 'usr', 'usr/lib', 'usr/lib/modules', 'usr/lib/modules/6.1.0-99-amd64', 'usr/lib/modules/6.1.0-99-amd64/kernel', 'usr/lib/modules/6.1.0-99-amd64/kernel/fs', 'usr/lib/modules/6.1.0-99-amd64/kernel/fs/squashfs.ko']);
});
