// The initramfs repack's compressed main archive read by the reference tools: `gzip -t` and
// `zstd -t` accept it, `gzip -d` / `zstd -d` give exactly the cpio our reader found in it, and GNU
// cpio lists the same entries. (Whether the kernel accepts it was checked by booting Debian's
// kernel in QEMU with the repacked host initramfs, gzip and zstd: see docs/live-iso.md.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCpioSegments } from '../../src/formats/cpio/index.js';
import { repackInitramfs } from '../../src/image/initramfs-repack.js';
import { bufferSource } from '../../src/io/source.js';
import { LIVE_ROOT_EPOCH, makeInitrd } from '../helpers/live-root.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

for (const [compression, tool] of [
  ['gzip', 'gzip'],
  ['zstd', 'zstd'],
] as const) {
  test(`initramfs repack: ${tool} and GNU cpio read the ${compression} main archive`, async (t) => {
    if (!requireTool(t, tool, 'cpio')) return;
    const dir = tempDir(t);
    const { bytes } = await repackInitramfs(await makeInitrd(compression), 'initrd.img', LIVE_ROOT_EPOCH);
    const segments = await loadCpioSegments(bufferSource(bytes, 'repacked'));
    try {
      assert.deepEqual(segments.map((s) => s.segment.compression), [undefined, compression]);
      const main = segments[1]!.segment;
      const packed = join(dir, `main.${compression}`);
      writeFileSync(packed, bytes.subarray(main.offset, main.offset + main.compressedLength!));
      run(tool, ['-t', packed]);
      const plain = run(tool, ['-d', '-c', packed], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout;
      assert.ok(Buffer.from(await main.source.read(0, main.source.size)).equals(plain), `${tool} -d gives the cpio our reader decompressed`);
      const listed = run('cpio', ['-t', '--quiet'], { input: plain, stdio: ['pipe', 'pipe', 'pipe'] }).stdout.toString('utf8').trim().split('\n');
      const ours = [...segments[1]!.tree.walk()].map((e) => (e.path === '' ? '.' : e.path));
      assert.deepEqual(listed, ours);
    } finally {
      for (const { segment } of segments) if (segment.compression) await segment.source.close();
    }
  });
}
