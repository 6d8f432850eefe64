/**
 * normalize without external tools: every handler on its fixture gives the bytes
 * strip-nondeterminism gave (set mode), is idempotent, clamps in clamp mode; the file driver keeps
 * metadata, hard links and untouched files; bad input is refused with the right error and the
 * file left as it was; mutated fixtures never crash the handlers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { normalizeFile, type NormalizeOptions } from '../../src/normalize/file.js';
import { normalizePaths } from '../../src/normalize/walk.js';
import { comparePo } from '../../src/normalize/po-changed.js';
import { normalizeJavadocBytes } from '../../src/normalize/javadoc.js';
import { normalizePropertiesBytes } from '../../src/normalize/pom-properties.js';
import { normalizeManifestBytes } from '../../src/normalize/zip.js';
import { dosToUnix, unixToDos } from '../../src/formats/zip/layout.js';
import { parseTimestamp } from '../../src/cli/normalize.js';
import { ReprimageError } from '../../src/errors.js';

const T = 1700000000;
const SET: NormalizeOptions = { buildTime: T, clamp: false };
const CLAMP: NormalizeOptions = { buildTime: T, clamp: true };

function fixtures(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures', 'normalize');
    if (existsSync(candidate)) return candidate;
  }
  return join(process.cwd(), 'test', 'fixtures', 'normalize');
}
const FIX = fixtures();

function temp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-normalize-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function copyFixture(dir: string, name: string, as = name): string {
  const path = join(dir, as);
  copyFileSync(join(FIX, name), path);
  return path;
}

const PAIRS: Array<[string, string, string]> = [
  ['zip-infozip.zip', 'zip-infozip.out.zip', 'zip'],
  ['jar-openjdk.jar', 'jar-openjdk.out.jar', 'jar'],
  ['gzip-named.gz', 'gzip-named.out.gz', 'gzip'],
  ['ar-static.a', 'ar-static.out.a', 'ar'],
  ['png-time.png', 'png-time.out.png', 'png'],
  ['mo-dated.mo', 'mo-dated.out.mo', 'gettext-mo'],
];

for (const [input, expected, handler] of PAIRS) {
  test(`${input}: set mode gives strip-nondeterminism's bytes, then nothing changes`, async (t) => {
    const dir = temp(t);
    const path = copyFixture(dir, input);
    const first = await normalizeFile(path, SET);
    assert.equal(first.handler, handler);
    assert.equal(first.status, 'changed', JSON.stringify(first));
    assert.deepEqual(readFileSync(path), readFileSync(join(FIX, expected)));
    const again = await normalizeFile(path, SET);
    assert.equal(again.status, 'unchanged');
    assert.deepEqual(readdirSync(dir), [input], 'no temporary file left behind');
  });
}

test('zip in clamp mode: times after T are lowered, earlier ones kept', async (t) => {
  const dir = temp(t);
  const late = copyFixture(dir, 'zip-infozip.zip', 'late.zip');
  assert.equal((await normalizeFile(late, CLAMP)).status, 'changed');
  // every entry of the fixture is dated 2030, so clamping gives what setting gives
  assert.deepEqual(readFileSync(late), readFileSync(join(FIX, 'zip-infozip.out.zip')));
  // with T in 2033 every entry time is earlier: kept, in the DOS fields and the UT fields
  const early = copyFixture(dir, 'zip-infozip.zip', 'early.zip');
  const times = (zip: Buffer) =>
    centralHeaders(zip).map((p) => {
      const nameLength = zip.readUInt16LE(p + 28);
      const name = zip.subarray(p + 46, p + 46 + nameLength).toString();
      const extra = zip.subarray(p + 46 + nameLength, p + 46 + nameLength + zip.readUInt16LE(p + 30));
      const ut = extra.indexOf('UT');
      return `${name} ${zip.readUInt32LE(p + 12)} ${extra.readInt32LE(ut + 5)}`;
    }).sort();
  const before = times(readFileSync(early));
  assert.equal((await normalizeFile(early, { buildTime: 2000000000, clamp: true })).status, 'changed');
  assert.deepEqual(times(readFileSync(early)), before);
  assert.ok(before.some((line) => line.endsWith(' 1893553445')), before.join('\n'));
  assert.ok(before.every((line) => Number(line.split(' ')[2]) < 2000000000), before.join('\n'));
});

test('DOS time conversions are UTC and saturate outside 1980–2107', () => {
  assert.deepEqual(unixToDos(T), { dosDate: ((2023 - 1980) << 9) | (11 << 5) | 14, dosTime: (22 << 11) | (13 << 5) | 10 });
  assert.equal(dosToUnix(unixToDos(T).dosDate, unixToDos(T).dosTime), T);
  assert.deepEqual(unixToDos(0), { dosDate: 33, dosTime: 0 });
});

test('gzip clamp mode keeps an earlier MTIME and MTIME 0', async (t) => {
  const dir = temp(t);
  const path = copyFixture(dir, 'gzip-named.gz');
  const mtime = readFileSync(path).readUInt32LE(4);
  await normalizeFile(path, { buildTime: mtime + 100, clamp: true });
  const out = readFileSync(path);
  assert.equal(out.readUInt32LE(4), mtime);
  assert.equal(out[3]! & 0x08, 0, 'name flag cleared');
  assert.equal(out[9], 3, 'OS is Unix');
  const zero = Buffer.from(out);
  zero.writeUInt32LE(0, 4);
  writeFileSync(path, zero);
  assert.equal((await normalizeFile(path, SET)).status, 'unchanged', 'MTIME 0 means no time and stays');
});

test('gzip: every member of a multi-member file is normalized; trailing zeros are kept', async (t) => {
  const dir = temp(t);
  const one = readFileSync(join(FIX, 'gzip-named.gz'));
  const path = join(dir, 'multi.gz');
  writeFileSync(path, Buffer.concat([one, one, Buffer.alloc(7)]));
  assert.equal((await normalizeFile(path, SET)).status, 'changed');
  const single = readFileSync(join(FIX, 'gzip-named.out.gz'));
  assert.deepEqual(readFileSync(path), Buffer.concat([single, single, Buffer.alloc(7)]));
});

test('png: tIME and date text chunks normalized, other chunks and CRCs intact', async (t) => {
  const dir = temp(t);
  const path = copyFixture(dir, 'png-time.png');
  await normalizeFile(path, CLAMP);
  const out = readFileSync(path);
  assert.ok(out.includes(Buffer.from('Comment\0kept')));
  assert.ok(out.includes(Buffer.from('date:create\x002023-11-14T22:13:20-00:00')));
  const time = out.indexOf(Buffer.from('tIME'));
  assert.deepEqual([...out.subarray(time + 4, time + 11)], [0x07, 0xe7, 11, 14, 22, 13, 20]);
});

test('po: POT-Creation-Date clamped, PO-Revision-Date kept', async (t) => {
  const dir = temp(t);
  const path = copyFixture(dir, 'po-dated.po');
  assert.equal((await normalizeFile(path, CLAMP)).status, 'changed');
  const text = readFileSync(path, 'latin1');
  assert.match(text, /"POT-Creation-Date: 2023-11-14 22:13\+0000\\n"/);
  assert.match(text, /"PO-Revision-Date: 2031-01-01 10:00\+0100\\n"/);
  assert.equal(text.length, readFileSync(join(FIX, 'po-dated.po')).length);
  assert.equal((await normalizeFile(path, CLAMP)).status, 'unchanged');
  const earlier = copyFixture(dir, 'po-dated.po', 'early.po');
  assert.equal((await normalizeFile(earlier, { buildTime: 2000000000, clamp: true })).status, 'unchanged');
});

test('pyc: the mtime field of a timestamp pyc is clamped; hash-based pycs are left', async (t) => {
  const dir = temp(t);
  const path = copyFixture(dir, 'pyc-timestamp.pyc');
  const before = readFileSync(path);
  assert.equal(before.readUInt32LE(8), 2000000000);
  assert.equal((await normalizeFile(path, CLAMP)).status, 'changed');
  const after = readFileSync(path);
  assert.equal(after.readUInt32LE(8), T);
  assert.deepEqual(after.subarray(12), before.subarray(12));
  const hashed = Buffer.from(before);
  hashed.writeUInt32LE(1, 4);
  writeFileSync(path, hashed);
  assert.equal((await normalizeFile(path, CLAMP)).status, 'unchanged');
});

test('text helpers: javadoc, pom.properties, manifest', () => {
  const page = Buffer.from('<!DOCTYPE HTML>\n<!-- Generated by javadoc (17) on Mon Jan 01 -->\n<html lang="de">\n<head>\n<meta name="date" content="2030-01-01">\n</head>\n<!-- Generated by javadoc (17) on x -->\n');
  assert.equal(
    Buffer.from(normalizeJavadocBytes(page, { buildTime: T, clamp: true })!).toString(),
    '<!DOCTYPE HTML>\n<html>\n<head>\n<meta name="date" content="2023-11-14">\n</head>\n<!-- Generated by javadoc (17) on x -->\n',
  );
  const props = Buffer.from('#Generated by Maven\n#Tue Feb 14 12:34:56 UTC 2017\nversion=1\n');
  assert.equal(Buffer.from(normalizePropertiesBytes(props)!).toString(), '#Generated by Maven\nversion=1\n');
  assert.equal(normalizePropertiesBytes(Buffer.from('#just a comment\nk=v\n')), undefined);
  const manifest = Buffer.from('Manifest-Version: 1.0\r\nBuilt-By: a very long user name that goes on\r\n  and on\r\nMain-Class: x\r\n\r\n');
  assert.equal(Buffer.from(normalizeManifestBytes(manifest)!).toString(), 'Manifest-Version: 1.0\r\nMain-Class: x\r\n\r\n');
});

test('metadata: mode, owner and mtime restored; untouched files keep everything', async (t) => {
  const dir = temp(t);
  const path = copyFixture(dir, 'zip-infozip.zip');
  chmodSync(path, 0o4751);
  utimesSync(path, 1234567890, 1234567891.5);
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, 'nothing to do');
  utimesSync(plain, 1111111111, 1111111112);
  const before = statSync(path);
  const plainBefore = statSync(plain, { bigint: true });
  await normalizePaths([dir], { ...SET, workers: 1 });
  const after = statSync(path);
  assert.equal(after.mode, before.mode);
  assert.equal(after.uid, before.uid);
  assert.equal(after.gid, before.gid);
  assert.equal(after.mtimeMs, 1234567891500);
  assert.notEqual(after.ino, before.ino, 'rewritten through a new inode (atomic rename)');
  const plainAfter = statSync(plain, { bigint: true });
  assert.equal(plainAfter.mtimeNs, plainBefore.mtimeNs);
  assert.equal(plainAfter.ino, plainBefore.ino);
});

test('hard links stay hard links and share the normalized bytes', async (t) => {
  const dir = temp(t);
  const a = copyFixture(dir, 'jar-openjdk.jar', 'a.jar');
  mkdirSync(join(dir, 'sub'));
  const b = join(dir, 'sub', 'b.jar');
  linkSync(a, b);
  const ino = statSync(a).ino;
  const report = await normalizePaths([dir], { ...SET, workers: 2 });
  assert.deepEqual(report.results.map((r) => [r.path, r.status]), [[a, 'changed'], [b, 'changed']]);
  assert.equal(statSync(a).ino, ino);
  assert.equal(statSync(b).ino, ino);
  assert.equal(statSync(a).nlink, 2);
  assert.deepEqual(readFileSync(b), readFileSync(join(FIX, 'jar-openjdk.out.jar')));
});

test('check mode writes nothing and reports what would change', async (t) => {
  const dir = temp(t);
  for (const [input] of PAIRS) copyFixture(dir, input);
  const report = await normalizePaths([dir], { ...SET, check: true, workers: 1 });
  assert.deepEqual(report.results.map((r) => r.status), PAIRS.map(() => 'would-change'));
  for (const [input] of PAIRS) assert.deepEqual(readFileSync(join(dir, input)), readFileSync(join(FIX, input)));
});

test('worker count, order of creation and time zone do not change the output', async (t) => {
  const outputs: string[] = [];
  for (const [workers, tz, reverse] of [[1, 'UTC', false], [4, 'Asia/Kolkata', true]] as const) {
    const dir = temp(t);
    const names = PAIRS.map(([i]) => i);
    for (const n of reverse ? [...names].reverse() : names) copyFixture(dir, n);
    process.env.TZ = tz;
    await normalizePaths([dir], { ...CLAMP, workers });
    outputs.push(names.map((n) => readFileSync(join(dir, n)).toString('base64')).join(','));
  }
  delete process.env.TZ;
  assert.equal(outputs[0], outputs[1]);
});

/** Builds a mutated copy of the zip fixture and returns the error code normalizing it gives. */
async function errorFor(t: { after(fn: () => void): void }, bytes: Uint8Array, name = 'bad.zip'): Promise<string | undefined> {
  const dir = temp(t);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const r = await normalizeFile(path, SET);
  assert.deepEqual(readFileSync(path), Buffer.from(bytes), 'a file that fails is left as it was');
  if (r.status === 'error') assert.ok(r.error!.message.startsWith(path), r.error!.message);
  return r.error?.code;
}

function centralHeaders(zip: Buffer): number[] {
  const at: number[] = [];
  for (let p = zip.indexOf('PK\x01\x02'); p >= 0; p = zip.indexOf('PK\x01\x02', p + 4)) at.push(p);
  return at;
}

test('bad zips: truncated, overlapping entries, bomb ratio, no end record', async (t) => {
  const zip = readFileSync(join(FIX, 'zip-infozip.zip'));
  assert.equal(await errorFor(t, zip.subarray(0, zip.length - 30)), 'CORRUPT_IMAGE');
  assert.equal(await errorFor(t, zip.subarray(0, 10)), 'TRUNCATED');
  const overlap = Buffer.from(zip);
  const cds = centralHeaders(overlap);
  overlap.writeUInt32LE(overlap.readUInt32LE(cds[0]! + 42), cds[1]! + 42); // second entry points at the first
  assert.equal(await errorFor(t, overlap), 'CORRUPT_IMAGE');
  const bomb = Buffer.from(zip);
  const deflated = cds.find((p) => bomb.readUInt16LE(p + 10) === 8)!;
  bomb.writeUInt32LE(0xfffffff0, deflated + 24); // uncompressed size far beyond 1032:1
  assert.equal(await errorFor(t, bomb), 'OVERFLOW');
  const stored = Buffer.from(zip);
  const s = cds.find((p) => stored.readUInt16LE(p + 10) === 0 && stored.readUInt32LE(p + 20) > 0)!;
  stored.writeUInt32LE(stored.readUInt32LE(s + 24) + 1, s + 24);
  assert.equal(await errorFor(t, stored), 'CORRUPT_IMAGE');
});

test('bad inputs of the other formats: bad PNG CRC, truncated gzip, ar and pyc', async (t) => {
  const png = Buffer.from(readFileSync(join(FIX, 'png-time.png')));
  png[png.indexOf('IDAT') + 6]! ^= 0xff;
  assert.equal(await errorFor(t, png, 'bad.png'), 'CORRUPT_IMAGE');
  const gz = readFileSync(join(FIX, 'gzip-named.gz'));
  assert.equal(await errorFor(t, gz.subarray(0, gz.length - 20), 'bad.gz'), 'TRUNCATED');
  const ar = readFileSync(join(FIX, 'ar-static.a'));
  assert.equal(await errorFor(t, ar.subarray(0, ar.length - 5), 'bad.a'), 'TRUNCATED');
  const mo = Buffer.from(readFileSync(join(FIX, 'mo-dated.mo')));
  mo.writeUInt32LE(0x7fffffff, 8);
  assert.equal(await errorFor(t, mo, 'bad.mo'), 'CORRUPT_IMAGE');
});

test('fuzz: mutated fixtures give a result or a ReprimageError, never a crash', async (t) => {
  const dir = temp(t);
  const inputs = PAIRS.map(([i]) => readFileSync(join(FIX, i)));
  await fc.assert(
    fc.asyncProperty(fc.nat(inputs.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }), fc.option(fc.nat()), async (which, flips, cut) => {
      const bytes = Buffer.from(inputs[which]!);
      for (const [at, v] of flips) bytes[at % bytes.length] = v;
      const data = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
      const path = join(dir, PAIRS[which]![0]);
      writeFileSync(path, data);
      const r = await normalizeFile(path, SET);
      assert.ok(['changed', 'unchanged', 'not-handled', 'left-alone', 'error'].includes(r.status));
      if (r.status === 'error') assert.deepEqual(readFileSync(path), data);
    }),
    { numRuns: 300, seed: 20240601 },
  );
});

test('po-changed: dates and #: references do not count, everything else does', () => {
  const a = Buffer.from('#: a.c:1\nmsgid ""\nmsgstr ""\n"POT-Creation-Date: 2020-01-01 00:00+0000\\n"\n\n#: a.c:10\nmsgid "x"\nmsgstr ""\n');
  const moved = Buffer.from('#: a.c:2 b.c:3\nmsgid ""\nmsgstr ""\n"POT-Creation-Date: 2024-05-05 05:05+0200\\n"\n\n#: a.c:11\nmsgid "x"\nmsgstr ""\n');
  const changed = Buffer.from('#: a.c:1\nmsgid ""\nmsgstr ""\n"POT-Creation-Date: 2020-01-01 00:00+0000\\n"\n\n#: a.c:10\nmsgid "y"\nmsgstr ""\n');
  assert.deepEqual(comparePo(a, moved), { changed: false });
  assert.deepEqual(comparePo(a, changed), { changed: true, oldLine: 7, newLine: 7 });
  const commented = Buffer.from(`# translator note\n${a.toString()}`);
  assert.equal(comparePo(a, commented).changed, true);
  assert.equal(comparePo(a, commented, { ignoreAllComments: true }).changed, false);
});

test('the reference time comes from --timestamp or SOURCE_DATE_EPOCH, never the clock', () => {
  assert.equal(parseTimestamp('5', {}), 5);
  assert.equal(parseTimestamp(undefined, { SOURCE_DATE_EPOCH: '1700000000' }), T);
  assert.throws(() => parseTimestamp(undefined, {}), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && /SOURCE_DATE_EPOCH/.test(e.message));
  assert.throws(() => parseTimestamp('yesterday', {}), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE');
});
