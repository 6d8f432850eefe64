/**
 * SquashFS benchmark: reprimage's writer against `mksquashfs -processors 2` on the reference
 * root file system (docs/benchmarks.md), same compressor, 128 KiB
 * blocks, same metadata policy (-all-root -all-time E -no-xattrs). Prints wall-time ratio,
 * output-size ratio and peak memory of each, for gzip, xz and zstd (or those named on the
 * command line; `gzip-zlib` is gzip with `deflate: 'zlib'`, the slower pako path whose bytes
 * equal mksquashfs's; its images and xz's are also compared byte for byte). REFERENCE_ROOTFS=DIR
 * measures another tree (e.g. ~1 GiB for the memory target). `node dist/bench/squashfs.js write
 * DIR OUT COMP` is the measured child.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSink } from '../src/io/sink.js';
import { writeSquashfs } from '../src/formats/squashfs/index.js';
import { SQUASHFS_CODEC_IMPLEMENTATIONS, type SquashfsCompressorName } from '../src/formats/squashfs/index.js';
import { measure, printRatio, referenceRootfs } from './measure.js';
import { loadMksquashfsTree } from './mksquashfs-tree.js';

const EPOCH = 1700000000;

/** One run of each: the trees are large, and the CPU ratio measure() reports is the steadier figure. */
const measureOnce = (label: string, argv: string[]) => measure(label, argv, 1);

/** `gzip-zlib` is gzip through pako (mksquashfs's bytes); every other name is a compressor. */
type BenchCodec = SquashfsCompressorName | 'gzip-zlib';

async function writeChild(dir: string, out: string, codec: BenchCodec): Promise<void> {
  const fh = await open(out, 'w');
  const compressor: SquashfsCompressorName = codec === 'gzip-zlib' ? 'gzip' : codec;
  try {
    await writeSquashfs(loadMksquashfsTree(dir, EPOCH), new FileSink(fh, out), {
      compressor,
      deflate: codec === 'gzip-zlib' ? 'zlib' : undefined,
      buildTime: EPOCH,
      noXattrs: true,
      workers: 2,
    });
  } finally {
    await fh.close();
  }
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'write') return writeChild(rest[0]!, rest[1]!, rest[2] as BenchCodec);
  const comps = (mode ? [mode, ...rest] : ['gzip', 'xz', 'zstd']) as BenchCodec[];
  const root = referenceRootfs();
  const work = mkdtempSync(join(tmpdir(), 'reprimage-bench-sqfs-'));
  try {
    for (const comp of comps) {
      const ours = join(work, `ours-${comp}.sqfs`);
      const theirs = join(work, `theirs-${comp}.sqfs`);
      const mkComp = comp === 'gzip-zlib' ? 'gzip' : comp;
      const impl = comp === 'gzip-zlib' ? 'pako 2.1.0' : SQUASHFS_CODEC_IMPLEMENTATIONS[comp];
      console.log(`${comp}: reprimage uses ${impl}; ${execFileSync('uptime').toString().trim()}`);
      const a = measureOnce(`reprimage (${comp})`, [process.execPath, fileURLToPath(import.meta.url), 'write', root, ours, comp]);
      const b = measureOnce(`mksquashfs -processors 2 (${mkComp})`, [
        'mksquashfs', root, theirs, '-noappend', '-comp', mkComp, '-processors', '2', '-mkfs-time', String(EPOCH),
        '-all-time', String(EPOCH), '-all-root', '-no-xattrs', '-quiet', '-no-progress',
      ]);
      const sizeRatio = statSync(ours).size / statSync(theirs).size;
      printRatio(a, b, `, ${sizeRatio.toFixed(4)}x size (${statSync(ours).size} vs ${statSync(theirs).size} bytes)`);
      console.log(`CPU (user+sys): ${a.cpu.toFixed(1)} s vs ${b.cpu.toFixed(1)} s, ratio ${(a.cpu / b.cpu).toFixed(2)}x`);
      if (comp === 'gzip-zlib' || comp === 'xz') {
        // Both call the same library function with the same settings: pako is zlib's deflate, and
        // the xz codec is liblzma's lzma_stream_buffer_encode (5.8.2 in WebAssembly vs the host's).
        const same = execFileSync('sh', ['-c', `cmp -s ${ours} ${theirs} && echo byte-identical || echo differs`]).toString().trim();
        console.log(`${comp} image vs mksquashfs: ${same} (expected: byte-identical${comp === 'xz' ? ' while the host liblzma encodes as 5.8.2 does' : ''})`);
      }
      rmSync(ours, { force: true });
      rmSync(theirs, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
