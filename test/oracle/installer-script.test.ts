// The installer script (installer/reprimage-install.sh) run by the host's busybox (busybox-static,
// the same 1.35 as the installer medium's) against disk image files (--allow-file), on a medium
// directory laid out as the ISO's install/ (image.conf + the image as our writer compresses it):
// - onto a larger disk: exit 0, the disk's extent is the image, the backup GPT sits at the disk's
//   end exactly where and as `sgdisk -e` puts it (same bytes but for the protective MBR record,
//   which sgdisk also rewrites and the installer leaves as the image has it), `sgdisk -v` is clean, and
//   `reprimage verify-disk` says equal (exit 0) — and, after a byte of the root partition is
//   changed, different (exit 1) naming the partition; a missing file is exit 2;
// - refusals: a disk too small, the disk that is the medium, a damaged image on the medium —
//   exit 2, one line saying why, and the target still all zeros.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCompressedImage } from '../../src/image/installer-image.js';
import { imageConf } from '../../src/image/installer-iso.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { REPO, runCli } from '../helpers/cli.js';
import { gptImage } from '../helpers/gpt-image.js';
import { requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';

const SCRIPT = join(REPO, 'installer/reprimage-install.sh');
const MIB = 1 << 20;

async function medium(dir: string, image: Uint8Array): Promise<string> {
  const root = join(dir, 'medium');
  mkdirSync(join(root, 'install'), { recursive: true });
  const sink = new MemorySink();
  const report = await writeCompressedImage(bufferSource(image, 'image'), sink);
  writeFileSync(join(root, 'install/disk.img.gz'), sink.bytes());
  writeFileSync(join(root, 'install/image.conf'), imageConf('demo', report));
  return root;
}

function install(root: string, target: string, extra: string[] = []) {
  return run('busybox', ['sh', SCRIPT, '--medium', root, '--target', target, '--allow-file', ...extra], { allowFail: true });
}

const allZero = (path: string) => readFileSync(path).every((b) => b === 0);

test('the installer script writes, verifies and relocates the backup GPT as sgdisk -e does; verify-disk agrees', async (t) => {
  if (!requireTool(t, 'busybox', 'sgdisk')) return;
  const dir = tempDir(t, 'reprimage-installer-script-');
  const image = gptImage(8);
  const imagePath = join(dir, 'image.img');
  writeFileSync(imagePath, image);
  const root = await medium(dir, image);
  const disk = join(dir, 'disk.img');
  writeFileSync(disk, new Uint8Array(24 * MIB));
  const r = install(root, disk);
  const out = r.stdout.toString();
  assert.equal(r.status, 0, `${out}${r.stderr}`);
  assert.match(out, /verified: SHA-256 [0-9a-f]{64}\n/);
  assert.match(out, /moving the backup GPT to the end of .* \(sector 49151\)/);
  assert.match(run('sgdisk', ['-v', disk]).stdout.toString(), /No problems found/);

  // sgdisk -e on the image grown to the same size: the same bytes, but for the protective MBR's
  // 0xEE record, whose size and CHS end sgdisk also rewrites (the installer leaves the MBR alone)
  const reference = join(dir, 'reference.img');
  copyFileSync(imagePath, reference);
  run('truncate', ['-s', String(24 * MIB), reference]);
  run('sgdisk', ['-e', reference]);
  const ours = readFileSync(disk);
  const theirs = readFileSync(reference);
  const outsideMbrRecord = (b: Buffer) => createHash('sha256').update(b.subarray(0, 446)).update(b.subarray(462)).digest('hex');
  assert.equal(outsideMbrRecord(ours), outsideMbrRecord(theirs), 'the disk equals the image moved by sgdisk -e');
  assert.notEqual(createHash('sha256').update(ours.subarray(512, 1024)).digest('hex'), createHash('sha256').update(image.subarray(512, 1024)).digest('hex'), 'the primary header changed');

  const equal = runCli(['verify-disk', disk, imagePath]);
  assert.equal(equal.status, 0, equal.stderr);
  assert.equal(equal.stdout, `${disk}: equal to ${imagePath} (${8 * MIB} bytes; backup GPT relocated to the end of the disk)\n`);
  const changed = Buffer.from(ours);
  changed[5000 * 512] = changed[5000 * 512]! ^ 0xff;
  writeFileSync(disk, changed);
  const differs = runCli(['verify-disk', disk, imagePath]);
  assert.equal(differs.status, 1, differs.stderr);
  assert.equal(differs.stdout, `${disk}: differs from ${imagePath}: first difference at byte ${5000 * 512} (partition 2, root-x86-64, its byte ${904 * 512})\n`);
  const missing = runCli(['verify-disk', join(dir, 'nothing.img'), imagePath]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /nothing\.img/);
});

test('the installer script refuses a disk too small, the boot medium and a damaged image: one line, nothing written', async (t) => {
  if (!requireTool(t, 'busybox')) return;
  const dir = tempDir(t, 'reprimage-installer-refusals-');
  const image = gptImage(8);
  const root = await medium(dir, image);
  const refusal = (r: ReturnType<typeof install>, target: string, why: RegExp) => {
    assert.equal(r.status, 2, r.stdout.toString());
    const lines = r.stdout.toString().split('\n').filter((l) => l.includes('refused'));
    assert.equal(lines.length, 1, r.stdout.toString());
    assert.match(lines[0]!, why);
    assert.match(lines[0]!, /nothing was written$/);
    assert.ok(allZero(target), `${target} must still be all zeros`);
  };

  const small = join(dir, 'small.img');
  writeFileSync(small, new Uint8Array(4 * MIB));
  refusal(install(root, small), small, /small\.img is too small: 4194304 bytes \(4\.0 MiB\), the image needs 8388608 \(8\.0 MiB\)/);

  const itself = join(dir, 'medium.img');
  writeFileSync(itself, new Uint8Array(16 * MIB));
  refusal(install(root, itself, ['--medium-device', itself]), itself, /medium\.img is the boot medium/);

  const target = join(dir, 'target.img');
  writeFileSync(target, new Uint8Array(16 * MIB));
  const gz = join(root, 'install/disk.img.gz');
  const damaged = readFileSync(gz);
  damaged[damaged.length >> 1] = damaged[damaged.length >> 1]! ^ 1;
  writeFileSync(gz, damaged);
  refusal(install(root, target), target, /the image on the medium is damaged: SHA-256 of install\/disk\.img\.gz is [0-9a-f]{64}, expected [0-9a-f]{64}/);
});

test('the installer script refuses a target that is mounted: one line, nothing written', async (t) => {
  if (!requireTool(t, 'busybox', 'mount', 'umount')) return;
  // the check reads /proc/mounts; a tmpfs whose source is the target's path puts it there
  if (process.getuid?.() !== 0) return skipOrFailInCi(t, 'mounting needs root');
  const dir = tempDir(t, 'reprimage-installer-mounted-');
  const root = await medium(dir, gptImage(8));
  const target = join(dir, 'mounted.img');
  writeFileSync(target, new Uint8Array(16 * MIB));
  const at = join(dir, 'at');
  mkdirSync(at);
  run('mount', ['-t', 'tmpfs', '-o', 'size=1m', target, at]);
  try {
    const r = install(root, target);
    assert.equal(r.status, 2, r.stdout.toString());
    const lines = r.stdout.toString().split('\n').filter((l) => l.includes('refused'));
    assert.equal(lines.length, 1, r.stdout.toString());
    assert.match(lines[0]!, /mounted\.img is mounted.*nothing was written$/);
  } finally {
    run('umount', [at]);
  }
  assert.ok(allZero(target), `${target} must still be all zeros`);
});

test('without a target the installer script lists the disks with size and model and asks once; Enter cancels, nothing written', async (t) => {
  if (!requireTool(t, 'busybox')) return;
  const dir = tempDir(t, 'reprimage-installer-ask-');
  const root = await medium(dir, gptImage(8));
  const r = run('busybox', ['sh', SCRIPT, '--medium', root], { allowFail: true, input: '\n' });
  const out = r.stdout.toString();
  assert.equal(r.status, 2, out);
  if (/no disk to install onto/.test(out)) return t.diagnostic('this machine has no disk to list');
  assert.match(out, /^Disks:\n( {2}\/dev\/\S+ {2}[\d.]+ (B|KiB|MiB|GiB|TiB) {2}.+\n)+Install demo \(8\.0 MiB\) onto which disk\? Everything on it is lost\.\nType its name \(e\.g\. \/dev\/\S+\), or press Enter to cancel: reprimage-install: refused: cancelled; nothing was written\n$/m);
});
