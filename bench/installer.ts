/**
 * The installer (docs/installer.md) on an installer ISO (default: examples/out/installer-minimal):
 *
 *   node dist/bench/installer.js [INSTALLER_ISO] [RUNS] [--no-qemu]
 *
 * 1. image write speed on this host: the installer's write step (busybox `gunzip -c | dd bs=4M`)
 *    against GNU `dd bs=4M` of the same raw bytes onto a file, then the whole installer script
 *    (medium check, write, read-back SHA-256, GPT relocation) against the same dd;
 * 2. the install time of the example under QEMU TCG (SeaBIOS, the ISO as a CD, an empty 8 GiB
 *    virtio disk, `reprimage.install=/dev/vda`), from qemu's start to the installer's end line.
 * The load average is printed: the machine may be shared.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openIso } from '../src/formats/iso9660/index.js';
import { DEFAULT_INSTALLER_CMDLINE, INSTALLER_CONF, INSTALLER_IMAGE, KARGS_RESERVED } from '../src/image/installer-iso.js';
import { openFileSource } from '../src/io/source.js';
import { readContent } from '../src/tree/content.js';
import { bootQemu } from '../test/helpers/qemu.js';
import { measure, printRatio } from './measure.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const iso = args[0] ?? join(REPO, 'examples/out/installer-minimal/installer.iso');
const runs = Number(args[1] ?? 3);
const withQemu = !process.argv.includes('--no-qemu');
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const dir = mkdtempSync(join(tmpdir(), 'reprimage-bench-installer-'));
try {
  // the medium's install/ directory, and the raw image for dd
  const source = await openFileSource(iso);
  const tree = await (await openIso(source)).tree();
  mkdirSync(join(dir, 'medium/install'), { recursive: true });
  for (const path of [INSTALLER_IMAGE, INSTALLER_CONF]) {
    const node = tree.get(path);
    if (node?.kind !== 'file') throw new Error(`${iso}: no ${path}`);
    writeFileSync(join(dir, 'medium', path), await readContent(node.content));
  }
  await source.close();
  const raw = join(dir, 'raw.img');
  spawnSync('sh', ['-c', `gunzip -c '${join(dir, 'medium', INSTALLER_IMAGE)}' > '${raw}'`], { stdio: 'inherit' });
  const target = join(dir, 'target.img');
  const fresh = `rm -f '${target}' && truncate -s 8G '${target}'`;
  const script = join(REPO, 'installer/reprimage-install.sh');

  console.log(`load average before: ${load()}`);
  const dd = measure('GNU dd bs=4M (raw bytes)', ['sh', '-c', `${fresh} && dd if='${raw}' of='${target}' bs=4M conv=notrunc,fsync status=none`], runs);
  const write = measure('installer write step', ['sh', '-c', `${fresh} && busybox gunzip -c '${join(dir, 'medium', INSTALLER_IMAGE)}' | busybox dd of='${target}' bs=4M conv=notrunc,fsync status=none`], runs);
  printRatio(write, dd, `; load average ${load()}`);
  const whole = measure('whole installer script', ['sh', '-c', `${fresh} && busybox sh '${script}' --medium '${join(dir, 'medium')}' --target '${target}' --allow-file >/dev/null`], runs);
  printRatio(whole, dd, ` (the script also hashes the medium and reads the image back); load average ${load()}`);

  if (withQemu) {
    const bytes = readFileSync(iso);
    const reserved = Buffer.from(`${DEFAULT_INSTALLER_CMDLINE}${' '.repeat(KARGS_RESERVED)}`);
    const filled = Buffer.from(`${DEFAULT_INSTALLER_CMDLINE} reprimage.install=/dev/vda console=ttyS0,115200`.padEnd(reserved.length, ' '));
    for (let at = bytes.indexOf(reserved); at >= 0; at = bytes.indexOf(reserved, at + 1)) filled.copy(bytes, at);
    const unattended = join(dir, 'unattended.iso');
    writeFileSync(unattended, bytes);
    spawnSync('sh', ['-c', fresh]);
    const started = Date.now();
    const r = await bootQemu({ firmware: 'bios', cdrom: unattended, disk: target, diskInterface: 'virtio', snapshot: false, marker: 'REPRIMAGE-INSTALLER-END status=', memoryMiB: 1024, timeoutMs: 60 * 60_000 });
    const status = /REPRIMAGE-INSTALLER-END status=(\d)/.exec(r.console)?.[1];
    console.log(`install under QEMU (SeaBIOS, CD, 8 GiB virtio disk): ${((Date.now() - started) / 1000).toFixed(0)} s, installer status ${status ?? 'none'}; load average ${load()}`);
    for (const line of r.console.split(/\r?\n/).filter((l) => l.startsWith('reprimage-install:'))) console.log(`  ${line}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
