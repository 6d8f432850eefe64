/**
 * Disk image benchmark: `reprimage disk` (an ESP from our FAT writer + an ext4 root from our ext4
 * writer + the GPT, one pass, sparse) against the usual tool chain doing the same, in one run:
 * `mkfs.fat` + `mcopy -s` for the ESP, `mke2fs -t ext4 -d` for the root (fixed UUID and hash seed,
 * E2FSPROGS_FAKE_TIME), `sfdisk` for the table, `dd conv=sparse,notrunc` to put both in place.
 * Input: the reference root file system (docs/benchmarks.md says where it comes from, or
 * REFERENCE_ROOTFS) and an ESP holding the host's kernel (or a 10 MB file). Prints the wall-time
 * ratio and peak memory of each, checks both disks with `sgdisk -v`, and shows allocated bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, printRatio, referenceRootfs } from './measure.js';

const EPOCH = '1700000000';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function allocated(path: string): string {
  const s = statSync(path);
  return `${(s.size / 2 ** 20).toFixed(0)} MiB apparent, ${((s.blocks * 512) / 2 ** 20).toFixed(0)} MiB allocated`;
}

const rootfs = referenceRootfs();
const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-disk-'));
try {
  const esp = join(work, 'esp');
  mkdirSync(join(esp, 'EFI/BOOT'), { recursive: true });
  const kernel = existsSync('/boot') ? readdirSync('/boot').find((n) => n.startsWith('vmlinuz-')) : undefined;
  if (kernel) copyFileSync(join('/boot', kernel), join(esp, 'vmlinuz'));
  else writeFileSync(join(esp, 'vmlinuz'), Buffer.alloc(10_000_000, 7));
  writeFileSync(join(esp, 'EFI/BOOT/BOOTX64.EFI'), Buffer.alloc(1_000_000, 1));

  // ours, once for the layout, then measured
  const ours = join(work, 'ours.img');
  const args = [CLI, 'disk', '-o', ours, '--source-date-epoch', EPOCH, '--seed', 'bench', '--json', '-p', `esp=${esp}`, '-p', `root-x86-64:ext4=${rootfs}`];
  const report = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as { size: number; partitions: Array<{ offset: number; size: number; uuid: string }> };
  const [p1, p2] = report.partitions as [{ offset: number; size: number; uuid: string }, { offset: number; size: number; uuid: string }];

  // the reference chain, with the same sizes and places
  const ref = join(work, 'ref.img');
  const script = join(work, 'reference.sh');
  writeFileSync(script, [
    'set -e',
    `cd ${work}`,
    'rm -f esp.img root.img ref.img',
    `mkfs.fat -C --invariant -i 12345678 esp.img ${p1.size / 1024} >/dev/null`,
    `mcopy -s -i esp.img ${esp}/* ::`,
    `E2FSPROGS_FAKE_TIME=${EPOCH} mke2fs -q -t ext4 -O ^resize_inode -U 6d1a3f52-8b1e-4c35-9a8e-2f5d7b9c0e11 -E hash_seed=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d -d ${rootfs} root.img ${p2.size / 1024}k`,
    `truncate -s ${report.size} ref.img`,
    `printf 'label: gpt\\nstart=${p1.offset / 512}, size=${p1.size / 512}, type=uefi\\nstart=${p2.offset / 512}, size=${p2.size / 512}, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\\n' | sfdisk --quiet ref.img`,
    `dd if=esp.img of=ref.img bs=1M seek=${p1.offset / 2 ** 20} conv=sparse,notrunc status=none`,
    `dd if=root.img of=ref.img bs=1M seek=${p2.offset / 2 ** 20} conv=sparse,notrunc status=none`,
    'rm -f esp.img root.img',
    '',
  ].join('\n'));

  const a = measure('reprimage disk (FAT+ext4+GPT)', [process.execPath, ...args]);
  const b = measure('mkfs.fat+mcopy+mke2fs+sfdisk+dd', ['bash', script]);
  printRatio(a, b);
  for (const [name, img] of [['ours', ours], ['reference', ref]] as const) {
    const v = spawnSync('sgdisk', ['-v', img], { encoding: 'utf8' });
    console.log(`${name}: ${allocated(img)}; sgdisk -v: ${/No problems found/.test(v.stdout) ? 'no problems' : v.stdout.trim()}`);
  }
  console.log(`input: ${rootfs} as the root, ${report.partitions.length} partitions, disk ${report.size} bytes`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
