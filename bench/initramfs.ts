/**
 * Initramfs repack benchmark: our repack of a real initramfs (the live ISO's
 * /live/initrd.img) against the shell equivalent with the reference tools, in one run; prints
 * the ratio and both sizes.
 *
 *   node dist/bench/initramfs.js [INITRD] [RUNS]
 *
 * INITRD defaults to the newest /boot/initrd.img-*. The reference does the same steps per
 * segment: cut the segment out (`tail -c` / `head -c`), decompress it (`zstd -d` / `gzip -d`),
 * unpack it (`cpio -i`), pack it again in sorted order (`find | sort | cpio -o -H newc`) and
 * compress it at the levels the repack uses (`zstd -3`, `gzip -n -6`). It does a little less than
 * we do (no clamping of times, no hard-link bookkeeping), which the comparison accepts.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCpioSegments } from '../src/formats/cpio/index.js';
import { INITRAMFS_CODECS, INITRAMFS_GZIP_LEVEL, INITRAMFS_ZSTD_LEVEL, repackInitramfs } from '../src/image/initramfs-repack.js';
import { openFileSource } from '../src/io/source.js';
import { measure, printRatio } from './measure.js';

const EPOCH = 1700000000;

function newestHostInitrd(): string {
  const names = readdirSync('/boot').filter((n) => n.startsWith('initrd.img-') && !/\.(dpkg-bak|new|old)$/.test(n)).sort();
  if (names.length === 0) throw new Error('no /boot/initrd.img-*; give an initramfs file');
  return join('/boot', names[names.length - 1]!);
}

async function repackChild(input: string, output: string): Promise<void> {
  const { bytes } = await repackInitramfs(readFileSync(input), input, EPOCH);
  writeFileSync(output, bytes);
}

/** The shell script doing the repack with the reference tools, segment by segment. */
async function referenceScript(input: string, work: string, output: string): Promise<string> {
  const source = await openFileSource(input);
  const lines = ['set -e', `: > ${output}`];
  try {
    const segments = await loadCpioSegments(source);
    segments.forEach(({ segment }, i) => {
      const end = segment.compression ? segment.offset + segment.compressedLength! : (segments[i + 1]?.segment.offset ?? source.size);
      const cut = `tail -c +${segment.offset + 1} ${input} | head -c ${end - segment.offset}`;
      const dir = join(work, `segment-${i}`);
      const [unpack, pack] =
        segment.compression === undefined ? ['cat', 'cat']
        : segment.compression === 'zstd' ? ['zstd -q -d -c', `zstd -q -${INITRAMFS_ZSTD_LEVEL} -c`]
        : segment.compression === 'gzip' ? ['gzip -d -c', `gzip -n -${INITRAMFS_GZIP_LEVEL} -c`]
        : [undefined, undefined];
      if (unpack === undefined) throw new Error(`${input}: a ${segment.compression} segment; the bench handles none, gzip and zstd`);
      lines.push(
        `mkdir ${dir}`,
        `${cut} | ${unpack} | (cd ${dir} && cpio -i -d --quiet --no-absolute-filenames)`,
        `(cd ${dir} && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) | ${pack} >> ${output}`,
        `rm -rf ${dir}`,
      );
    });
    for (const { segment } of segments) if (segment.compression) await segment.source.close();
  } finally {
    await source.close();
  }
  const script = join(work, 'reference.sh');
  writeFileSync(script, lines.join('\n') + '\n');
  return script;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'repack') return repackChild(args[1]!, args[2]!);
  const input = args[0] || newestHostInitrd();
  const runs = Number(args[1] ?? 3);
  const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-initramfs-'));
  try {
    const ours = join(work, 'ours.img');
    const theirs = join(work, 'theirs.img');
    const script = await referenceScript(input, work, theirs);
    console.log(`initramfs repack of ${input} (${statSync(input).size} bytes), ${runs} run(s); ${execFileSync('uptime').toString().trim()}`);
    console.log(`ours: gzip ${INITRAMFS_CODECS.gzip}; zstd ${INITRAMFS_CODECS.zstd}`);
    const a = measure('reprimage repack', [process.execPath, fileURLToPath(import.meta.url), 'repack', input, ours], runs);
    const b = measure('zstd/gzip + cpio (shell)', ['sh', script], runs);
    printRatio(a, b, `, ${(statSync(ours).size / statSync(theirs).size).toFixed(4)}x size (${statSync(ours).size} vs ${statSync(theirs).size} bytes)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
