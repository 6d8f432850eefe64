// The VM image writers (qcow2, VHD fixed and dynamic, streamOptimized VMDK, GCE tarball) on a
// synthetic raw disk held in memory: stored SHA-256 of each output (the bytes must not change
// with the Node.js version or the platform: pako is the only codec), our readers give back the
// raw bytes, and damaged images are one ReprimageError naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ReprimageError } from '../../src/errors.js';
import { MemorySink } from '../../src/io/sink.js';
import { bufferSource, type RandomAccessSource } from '../../src/io/source.js';
import { openQcow2, writeQcow2 } from '../../src/formats/qcow2/index.js';
import { openVhd, writeVhd } from '../../src/formats/vhd/index.js';
import { openVmdk, writeVmdk } from '../../src/formats/vmdk/index.js';
import { openGceTarball, writeGceTarball } from '../../src/formats/gce/index.js';
import { openVmDisk } from '../../src/image/vm-disk.js';
import { convertDisk } from '../../src/image/convert-disk.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const MIB = 1 << 20;
const SEED = 'vm-formats-test';
const EPOCH = 1700000000;

/** 6 MiB + 192 KiB: data at the start, in the middle of a cluster, across a 2 MiB boundary and in the last partial unit. */
function rawDisk(size = 6 * MIB + 192 * 1024): Uint8Array {
  const b = new Uint8Array(size);
  let x = 0x12345678;
  const random = (from: number, n: number) => {
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      b[from + i] = x & 0xff;
    }
  };
  random(0, 70000);
  b.fill(0x41, 1 * MIB + 1000, 1 * MIB + 3000); // compressible
  random(2 * MIB - 5000, 10000);
  random(size - 700, 200);
  return b;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function write(f: (sink: MemorySink) => Promise<unknown>): Promise<Uint8Array> {
  const sink = new MemorySink();
  await f(sink);
  return sink.bytes().slice();
}

async function readAll(disk: RandomAccessSource): Promise<Uint8Array> {
  try {
    return await disk.read(0, disk.size);
  } finally {
    await disk.close();
  }
}

const raw = rawDisk();
const raw6 = raw.subarray(0, 6 * MIB);

test('each writer gives its stored bytes, and our reader gives the raw disk back', async () => {
  const cases: Array<[string, Uint8Array, (b: Uint8Array) => Promise<Uint8Array>]> = [
    ['qcow2', await write((s) => writeQcow2(bufferSource(raw, 'raw'), s)), async (b) => readAll((await openQcow2(bufferSource(b, 'x.qcow2'))).disk)],
    ['qcow2 compressed', await write((s) => writeQcow2(bufferSource(raw, 'raw'), s, { compress: true })), async (b) => readAll((await openQcow2(bufferSource(b, 'x.qcow2'))).disk)],
    ['vhd fixed', await write((s) => writeVhd(bufferSource(raw6, 'raw'), s, { type: 'fixed', seed: SEED, buildTime: EPOCH })), async (b) => readAll((await openVhd(bufferSource(b, 'x.vhd'))).disk)],
    ['vhd dynamic', await write((s) => writeVhd(bufferSource(raw, 'raw'), s, { type: 'dynamic', seed: SEED, buildTime: EPOCH })), async (b) => readAll((await openVhd(bufferSource(b, 'x.vhd'))).disk)],
    ['vmdk', await write((s) => writeVmdk(bufferSource(raw, 'raw'), s, { seed: SEED })), async (b) => readAll((await openVmdk(bufferSource(b, 'x.vmdk'))).disk)],
    ['gce', await write((s) => writeGceTarball(bufferSource(raw, 'raw'), s, { buildTime: EPOCH })), async (b) => readAll(await openGceTarball(bufferSource(b, 'x.tar.gz')))],
  ];
  const hashes: Record<string, string> = {};
  for (const [name, bytes, read] of cases) {
    hashes[name] = sha(bytes);
    const back = await read(bytes);
    assert.equal(sha(back), sha(name === 'vhd fixed' ? raw6 : raw), `${name}: read back`);
  }
  assert.deepEqual(hashes, STORED);
});

// Made by this writer set on Node 20 (pako 2.1.0); a change here changes every published image of that format.
const STORED: Record<string, string> = {
  qcow2: '163560dbb47058cdb70004a01b16c26f300d5f8ea40e5d0db1d638edbcd7aa39',
  'qcow2 compressed': '07f0cddb134abde02b9ec5d55305e0416bd48a617a084e64f8346f6454523b12',
  'vhd fixed': 'bbb3888df4eb9dde4006f19445274298b0637243131d82438c8b79775c0a3662',
  'vhd dynamic': 'c3f34f526ab5588d79feae68834e913326d3fdce3a5050a5781d813ab15a100b',
  vmdk: 'f65623b5e57de73c61f593eac8058369eb36780e6af9a7208ab9e50638e75a0f',
  gce: '6db1463be5023b252fadce04984980da1e4964cdc468a2e350d8a05d1a8253d3',
};

test('compressed qcow2 and VMDK are the same bytes with 1 worker or 3', async () => {
  for (const workers of [1, 3]) {
    assert.equal(sha(await write((s) => writeQcow2(bufferSource(raw, 'raw'), s, { compress: true, workers }))), STORED['qcow2 compressed'], `qcow2, ${workers} workers`);
    assert.equal(sha(await write((s) => writeVmdk(bufferSource(raw, 'raw'), s, { seed: SEED, workers }))), STORED.vmdk, `vmdk, ${workers} workers`);
  }
});

test('convertDisk takes a path or a stream of raw bytes and writes the same image', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-vm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'raw.img');
  writeFileSync(path, raw);
  const options = { seed: SEED, buildTime: EPOCH };
  await convertDisk(path, 'vmdk', { ...options, output: join(dir, 'a.vmdk') });
  const chunks = function* () {
    for (let at = 0; at < raw.length; at += 100000) yield raw.subarray(at, at + 100000);
  };
  await convertDisk(Readable.from(chunks()), 'vmdk', { ...options, output: join(dir, 'b.vmdk'), size: raw.length });
  // the descriptor names the file: compare everything but that line
  const strip = (b: Buffer) => b.toString('latin1').replace(/SPARSE "[ab]\.vmdk"/, '');
  assert.equal(strip(readFileSync(join(dir, 'b.vmdk'))), strip(readFileSync(join(dir, 'a.vmdk'))));
  await assert.rejects(convertDisk(Readable.from(chunks()), 'qcow2', { ...options, output: join(dir, 'c.qcow2'), size: 5 }), /the stream held \d+ bytes, not the 5 announced/);
  assert.deepEqual(readdirSync(dir).sort(), ['a.vmdk', 'b.vmdk', 'raw.img']);
});

test('a fixed VHD is a whole number of MiB; a VMDK whole sectors', async () => {
  await assert.rejects(write((s) => writeVhd(bufferSource(raw, 'raw'), s, { type: 'fixed', seed: SEED, buildTime: EPOCH, subject: 'out.vhd' })), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && /out\.vhd: .*whole number of MiB/.test(e.message));
  await assert.rejects(write((s) => writeVmdk(bufferSource(raw.subarray(0, 1000), 'raw'), s, { seed: SEED, subject: 'out.vmdk' })), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && /out\.vmdk: /.test(e.message));
});

test('the VHD footer carries the epoch, the seeded id and the force_size geometry', async () => {
  const bytes = await write((s) => writeVhd(bufferSource(raw6, 'raw'), s, { type: 'fixed', seed: SEED, buildTime: EPOCH }));
  const { footer } = await openVhd(bufferSource(bytes, 'x.vhd'));
  assert.equal(footer.timeStamp, EPOCH - 946684800);
  assert.deepEqual([footer.cylinders, footer.heads, footer.sectorsPerTrack], [65535, 16, 255]);
  assert.equal(footer.currentSize, BigInt(6 * MIB));
  const other = await write((s) => writeVhd(bufferSource(raw6, 'raw'), s, { type: 'fixed', seed: 'another', buildTime: EPOCH }));
  assert.notDeepEqual((await openVhd(bufferSource(other, 'y.vhd'))).footer.uniqueId, footer.uniqueId);
});

/** Every damaged image is one ReprimageError whose message starts with the file's name. */
async function assertDamaged(bytes: Uint8Array, name: string, pattern: RegExp): Promise<void> {
  const source = bufferSource(bytes, name);
  await assert.rejects(
    (async () => {
      const vm = await openVmDisk(source);
      assert.ok(vm, `${name} is recognized`);
      await readAll(vm.disk);
    })(),
    (e: unknown) => {
      assert.ok(e instanceof ReprimageError, `${name}: ${String(e)}`);
      assert.match(e.message, new RegExp(`^${name.replace('.', '\\.')}(: | ▸ )`));
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('damaged qcow2, VHD and VMDK images are refused naming the file and the problem', async () => {
  const qcow2 = await write((s) => writeQcow2(bufferSource(raw, 'raw'), s));
  const v = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length);
  let b = qcow2.slice();
  v(b).setUint32(4, 7); // version
  await assertDamaged(b, 'bad-version.qcow2', /version 7/);
  b = qcow2.slice();
  v(b).setBigUint64(40, 1n << 40n); // L1 table offset
  await assertDamaged(b, 'bad-l1.qcow2', /L1 table .* outside the file/);
  await assertDamaged(qcow2.slice(0, 3 * 65536), 'short.qcow2', /outside the file/);
  b = qcow2.slice();
  v(b).setBigUint64(8, 4096n); // a backing file
  await assertDamaged(b, 'overlay.qcow2', /backing file/);

  const vhd = await write((s) => writeVhd(bufferSource(raw, 'raw'), s, { type: 'dynamic', seed: SEED, buildTime: EPOCH }));
  b = vhd.slice();
  b[b.length - 512 + 50] = b[b.length - 512 + 50]! ^ 1; // footer current size, checksum now wrong
  await assertDamaged(b, 'bad-sum.vhd', /checksum/);
  await assertDamaged(vhd.slice(0, vhd.length - 100), 'short.vhd', /footer at the end is missing/);

  const vmdk = await write((s) => writeVmdk(bufferSource(raw, 'raw'), s, { seed: SEED }));
  await assertDamaged(vmdk.slice(0, vmdk.length - 2048), 'short.vmdk', /footer marker/);
  b = vmdk.slice();
  b[128 * 512 + 20] = b[128 * 512 + 20]! ^ 0xff; // inside the first grain's zlib data
  await assertDamaged(b, 'bad-grain.vmdk', /grain 0/);
});
