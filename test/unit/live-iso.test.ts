// Live ISO assembly without external tools: the initramfs repack (layout, compressor, clamped
// times, idempotence), the boot menus, errors for missing boot files, and byte-identical ISOs
// under varied TZ, umask and worker count. test/oracle/live-iso.test.ts checks the images with
// xorriso, unsquashfs and cpio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import { createZstdCompressor } from '../../src/compress/zstd/compressor.js';
import { loadCpioSegments, writeCpio } from '../../src/formats/cpio/index.js';
import { openIso } from '../../src/formats/iso9660/index.js';
import { openSquashfs } from '../../src/formats/squashfs/index.js';
import { grubCfg, isolinuxCfg, liveCmdline } from '../../src/image/boot-menus.js';
import { repackInitramfs } from '../../src/image/initramfs-repack.js';
import { writeLiveIso, type LiveIsoOptions } from '../../src/image/live-iso.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource } from '../../src/io/source.js';
import { bytesContent, readContent } from '../../src/tree/content.js';
import { Tree, newDir } from '../../src/tree/tree.js';
import { ReprimageError } from '../../src/errors.js';
import { KERNEL_VERSION, LIVE_ROOT_EPOCH, fakeBootLoaders, liveRootTree, makeInitrd } from '../helpers/live-root.js';
import { LATE_BUILD_TIME } from '../helpers/sample-tree.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

for (const compression of ['gzip', 'zstd'] as const) {
  test(`initramfs repack keeps the early archive uncompressed and the main one ${compression}, times clamped, idempotent`, async () => {
    const input = await makeInitrd(compression);
    const once = await repackInitramfs(input, 'initrd.img', LIVE_ROOT_EPOCH);
    assert.deepEqual(once.segments, ['none', compression]);
    assert.notEqual(sha(once.bytes), sha(input), 'the input was compressed at level 1 with unclamped times');
    // the early archive must come first and uncompressed: the kernel looks for microcode there
    assert.equal(Buffer.from(once.bytes.subarray(0, 6)).toString('latin1'), '070701');
    const segments = await loadCpioSegments(bufferSource(once.bytes, 'repacked'));
    assert.equal(segments.length, 2);
    assert.equal(segments[0]!.segment.compression, undefined);
    assert.equal(segments[1]!.segment.compression, compression);
    assert.equal(segments[0]!.segment.offset % 512, 0);
    const before = await loadCpioSegments(bufferSource(input, 'input'));
    for (let i = 0; i < 2; i++) {
      const paths = (t: (typeof segments)[number]['tree']) => [...t.walk()].map((e) => `${e.path}:${e.node.kind}`);
      assert.deepEqual(paths(segments[i]!.tree), paths(before[i]!.tree));
      for (const { path, node } of segments[i]!.tree.walk()) {
        assert.ok(node.mtime.sec <= LIVE_ROOT_EPOCH, `${path} clamped`);
        const old = before[i]!.tree.get(path)!;
        if (node.kind === 'file' && old.kind === 'file') assert.equal(sha(await readContent(node.content)), sha(await readContent(old.content)), path);
        if (node.kind === 'symlink' && old.kind === 'symlink') assert.equal(node.target, old.target);
        assert.equal(node.mode, old.mode, path);
      }
    }
    for (const s of [...segments, ...before]) if (s.segment.compression) await s.segment.source.close();
    const twice = await repackInitramfs(once.bytes, 'initrd.img', LIVE_ROOT_EPOCH);
    assert.equal(sha(twice.bytes), sha(once.bytes));
  });
}

/** A fixed initramfs, built here so the stored hashes below depend on nothing but the repack. */
async function fixedInitrd(compression: 'gzip' | 'zstd'): Promise<Uint8Array> {
  const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: { sec: LIVE_ROOT_EPOCH + 99, nsec: 0 }, xattrs: new Map<string, Uint8Array>() });
  const tree = new Tree(newDir(meta(0o755)));
  let x = 1;
  const module = new Uint8Array(300_000).map((_, i) => ((x = (x * 1103515245 + 12345) >>> 0), i % 3 === 0 ? x >>> 24 : 0x41 + (i % 23)));
  tree.set('init', { kind: 'file', ...meta(0o755), content: bytesContent(Buffer.from('#!/bin/sh\nexec /sbin/init\n')) }, meta(0o755));
  tree.set('usr/lib/modules/x/kernel/a.ko', { kind: 'file', ...meta(0o644), content: bytesContent(module) }, meta(0o755));
  tree.set('usr/lib/modules/x/kernel/b.ko', { kind: 'file', ...meta(0o644), content: bytesContent(module.map((b) => b ^ 1)) }, meta(0o755));
  const sink = new MemorySink();
  await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME });
  const main = sink.bytes().slice();
  return compression === 'gzip' ? gzipSync(main, { level: 1 }) : (await createZstdCompressor(1))(main);
}

// The repack's codecs (libdeflate and @hpcc-js/wasm-zstd, pinned, at the levels the repack
// sets): a version or level change shows up here as a new hash, on purpose.
const REPACKED_SHA256 = {
  gzip: '009f2d4f4345f76d818b0098af1b480bf1c222266e709eabe10fa72119cb63ee',
  zstd: '506b725aa4f29b7dbbf9863ce889d1b0d4419b4c405b5d2c08a49f5b5489b33b',
};

test('initramfs repack output is fixed by its input: stored SHA-256 for gzip (libdeflate) and zstd, readable by other decoders', async () => {
  for (const compression of ['gzip', 'zstd'] as const) {
    const input = await fixedInitrd(compression);
    const { bytes, segments } = await repackInitramfs(input, 'fixed.img', LIVE_ROOT_EPOCH);
    assert.deepEqual(segments, [compression]);
    assert.equal(sha(bytes), REPACKED_SHA256[compression], `${compression} repack bytes`);
    const plain = compression === 'gzip' ? gunzipSync(bytes) : fzstdDecompress(bytes);
    if (compression === 'gzip') {
      // the header gzip -n writes: deflate, no flags, MTIME 0, XFL 0, OS 3 (Unix)
      assert.deepEqual([...bytes.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    } else {
      // one frame, content size present (descriptor bits 6-7), no checksum (bit 2)
      assert.equal(bytes[4]! & 0x04, 0);
      assert.notEqual(bytes[4]! >> 6, 0);
    }
    const reread = await loadCpioSegments(bufferSource(plain, 'plain'));
    assert.deepEqual([...reread[0]!.tree.walk()].map((e) => e.path), ['', 'init', 'usr', 'usr/lib', 'usr/lib/modules', 'usr/lib/modules/x', 'usr/lib/modules/x/kernel', 'usr/lib/modules/x/kernel/a.ko', 'usr/lib/modules/x/kernel/b.ko']);
  }
});

test('initramfs repack refuses what it cannot write or read, naming the file', async () => {
  const initrd = await makeInitrd('gzip');
  await assert.rejects(repackInitramfs(new Uint8Array(100), 'zeros.img', LIVE_ROOT_EPOCH), (e: unknown) => e instanceof ReprimageError && /zeros\.img/.test(e.message));
  const truncated = initrd.subarray(0, initrd.length - 40);
  await assert.rejects(repackInitramfs(truncated, 'cut.img', LIVE_ROOT_EPOCH), (e: unknown) => e instanceof ReprimageError && /cut\.img/.test(e.message));
});

test('boot menus hold the live-boot command line and nothing of the build host', () => {
  const cmdline = liveCmdline('console=ttyS0 quiet');
  assert.equal(cmdline, 'boot=live components console=ttyS0 quiet');
  assert.equal(liveCmdline(undefined), 'boot=live components console=ttyS0,115200 console=tty0');
  const vars = { title: 'demo "x"\n', cmdline };
  const iso = isolinuxCfg(vars);
  const grub = grubCfg(vars);
  assert.match(iso, /APPEND initrd=\/live\/initrd\.img boot=live components console=ttyS0 quiet\n/);
  assert.match(grub, /linux \/live\/vmlinuz boot=live components console=ttyS0 quiet\n/);
  assert.match(grub, /menuentry "demo _x__"/, 'quotes and newlines cannot break out of the title');
  assert.equal(isolinuxCfg(vars), iso);
  assert.doesNotMatch(iso + grub, /20\d\d|\d\d:\d\d/);
});

/** The live ISO of build() with its default options (SquashFS gzip). */
const LIVE_ISO_SHA256 = 'e8a0ac791987878f7c2b639fd6dbd9a20eaa138be89b8fba19adb90f2101357b';

function options(extra: Partial<LiveIsoOptions> = {}): LiveIsoOptions {
  return { name: 'live-test', buildTime: LIVE_ROOT_EPOCH, seed: 'live-test', compressor: 'gzip', ...extra };
}

async function build(extra: Partial<LiveIsoOptions> = {}, boot = fakeBootLoaders()): Promise<{ bytes: Uint8Array; report: Awaited<ReturnType<typeof writeLiveIso>> }> {
  const sink = new MemorySink();
  const report = await writeLiveIso(await liveRootTree(boot), sink, options(extra));
  return { bytes: sink.bytes().slice(), report };
}

test('live ISO: medium layout, squashfs of the root tree, repacked initramfs, ESP appended', async () => {
  const { bytes, report } = await build();
  // pinned: the SquashFS, ESP and ISO 9660 writers, reached through the format registry, keep their bytes
  assert.equal(sha(bytes), LIVE_ISO_SHA256);
  assert.equal(report.kernelVersion, KERNEL_VERSION);
  assert.deepEqual(report.initramfsSegments, ['none', 'zstd']);
  assert.equal(report.uefi, true);
  assert.ok(report.iso.appendedPartition, 'ESP appended as partition 2');
  assert.equal(report.iso.gptPartitions.length, 2);
  const iso = await openIso(bufferSource(bytes, 'live.iso'));
  const tree = await iso.tree();
  const names = [...tree.walk()].filter((e) => e.node.kind === 'file').map((e) => e.path);
  assert.deepEqual(names, ['.disk/info', 'boot/grub/grub.cfg', 'isolinux/boot.cat', 'isolinux/isolinux.bin', 'isolinux/isolinux.cfg', 'isolinux/ldlinux.c32', 'live/filesystem.squashfs', 'live/initrd.img', 'live/vmlinuz']);
  for (const { path, node } of tree.walk()) assert.ok(node.mtime.sec <= LIVE_ROOT_EPOCH, path);
  const root = await liveRootTree(fakeBootLoaders());
  const kernel = root.get(`boot/vmlinuz-${KERNEL_VERSION}`);
  const onIso = tree.get('live/vmlinuz');
  assert.ok(kernel?.kind === 'file' && onIso?.kind === 'file');
  assert.equal(sha(await readContent(onIso.content)), sha(await readContent(kernel.content)));
  const sqfsNode = tree.get('live/filesystem.squashfs');
  assert.ok(sqfsNode?.kind === 'file');
  const sqfs = await openSquashfs(bufferSource(await readContent(sqfsNode.content), 'filesystem.squashfs'));
  const inner = [...(await sqfs.tree()).walk()].map((e) => e.path);
  const expected = [...root.walk()].map((e) => e.path);
  assert.deepEqual(inner, expected, 'the SquashFS holds the whole root tree');
  const cfg = tree.get('isolinux/isolinux.cfg');
  assert.ok(cfg?.kind === 'file');
  assert.match(Buffer.from(await readContent(cfg.content)).toString(), /boot=live components/);
});

test('a live ISO carries its build record beside live/, outside the SquashFS, when given one', async () => {
  const record = new TextEncoder().encode('{"reproducible":{}}\n');
  const bundle = new Uint8Array(1024).fill(7);
  const { bytes } = await build({ mediumFiles: [{ path: '.reprimage/manifest.json', bytes: record }, { path: '.reprimage/recipe-inputs.tar', bytes: bundle }] });
  const tree = await (await openIso(bufferSource(bytes, 'live.iso'))).tree();
  const manifest = tree.get('.reprimage/manifest.json');
  const tar = tree.get('.reprimage/recipe-inputs.tar');
  assert.ok(manifest?.kind === 'file' && tar?.kind === 'file');
  assert.deepEqual(await readContent(manifest.content), record);
  assert.deepEqual(await readContent(tar.content), bundle);
  assert.ok(manifest.mtime.sec <= LIVE_ROOT_EPOCH && manifest.mode === 0o644 && manifest.uid === 0);
  const sqfsNode = tree.get('live/filesystem.squashfs');
  assert.ok(sqfsNode?.kind === 'file');
  const inner = (await openSquashfs(bufferSource(await readContent(sqfsNode.content), 'filesystem.squashfs'))).tree();
  assert.equal((await inner).get('.reprimage'), undefined, 'the record is on the medium, not in the live system');
  // without it the medium is the one it always was
  const plain = await build();
  assert.equal((await (await openIso(bufferSource(plain.bytes, 'live.iso'))).tree()).get('.reprimage'), undefined);
});

test('live ISO without shim and GRUB boots BIOS only, with a warning', async () => {
  const { shim: _s, grubCd: _g, ...bios } = fakeBootLoaders();
  const warnings: string[] = [];
  const { report } = await build({ warn: (m) => warnings.push(m) }, bios);
  assert.equal(report.uefi, false);
  assert.equal(report.iso.appendedPartition, undefined);
  assert.ok(warnings.some((w) => /BIOS only/.test(w)));
});

test('live ISO names the missing boot file and its package', async () => {
  const root = await liveRootTree(fakeBootLoaders());
  root.remove('usr/lib/syslinux/modules/bios/ldlinux.c32');
  await assert.rejects(writeLiveIso(root, new MemorySink(), options()), (e: unknown) => e instanceof ReprimageError && e.code === 'NOT_FOUND' && /ldlinux\.c32.*syslinux-common/.test(e.message));
  const noKernel = await liveRootTree(fakeBootLoaders());
  noKernel.remove(`boot/vmlinuz-${KERNEL_VERSION}`);
  await assert.rejects(writeLiveIso(noKernel, new MemorySink(), options()), (e: unknown) => e instanceof ReprimageError && /linux-image-amd64/.test(e.message));
});

test('live ISO bytes do not depend on TZ, umask or worker count; the seed sets the identifiers', async () => {
  const savedTz = process.env.TZ;
  const savedUmask = process.umask();
  try {
    process.env.TZ = 'UTC';
    process.umask(0o022);
    const a = await build({ workers: 1, compressor: 'xz' });
    process.env.TZ = 'Pacific/Kiritimati';
    process.umask(0o077);
    const b = await build({ workers: 3, compressor: 'xz' });
    assert.equal(sha(b.bytes), sha(a.bytes));
    const c = await build({ workers: 1, compressor: 'xz', seed: 'another seed' });
    assert.notEqual(sha(c.bytes), sha(a.bytes));
    assert.notDeepEqual(c.report.iso.gptPartitions.map((p) => p.guid), a.report.iso.gptPartitions.map((p) => p.guid));
  } finally {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
    process.umask(savedUmask);
  }
});
