// The ISO reader on images we did not make: ISOs shipped in Debian packages (ipxe's ipxe.iso,
// made by genisoimage + isohybrid; grub-rescue-pc's grub-rescue-cdrom.iso, made by grub-mkrescue)
// and one grub-mkrescue builds at test time (BIOS + UEFI, protective MBR, GPT with gaps, APM).
// Files must equal what osirrox extracts, byte for byte; El Torito entries and MBR/GPT partitions
// must equal what xorriso -report_el_torito / -report_system_area say.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openIso } from '../../src/formats/iso9660/index.js';
import { openFileSource } from '../../src/io/source.js';
import { readContent } from '../../src/tree/content.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const SHIPPED = [
  { path: '/usr/lib/ipxe/ipxe.iso', pkg: 'ipxe' },
  { path: '/usr/lib/grub-rescue/grub-rescue-cdrom.iso', pkg: 'grub-rescue-pc' },
];

function requireFile(t: TestContext, path: string, pkg: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') throw new Error(`${path} missing in CI (apt-get install ${pkg})`);
  t.skip(`needs ${path} (Debian package ${pkg})`);
  return false;
}

/** Regular files and symlinks under `dir`, by path relative to it. */
function extracted(dir: string, rel = ''): Map<string, { bytes?: Buffer; target?: string }> {
  const out = new Map<string, { bytes?: Buffer; target?: string }>();
  for (const name of readdirSync(join(dir, rel))) {
    const p = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, p));
    if (st.isDirectory()) for (const [k, v] of extracted(dir, p)) out.set(k, v);
    else if (st.isSymbolicLink()) out.set(p, { target: readlinkSync(join(dir, p)) });
    else if (st.isFile()) out.set(p, { bytes: readFileSync(join(dir, p)) });
  }
  return out;
}

async function compareWithXorriso(t: TestContext, iso: string): Promise<void> {
  const source = await openFileSource(iso);
  t.after(() => source.close());
  const image = await openIso(source);
  const tree = await image.tree();

  // Files: osirrox's extraction, byte for byte; we list the boot catalog as a file too.
  const out = join(tempDir(t), 'x');
  run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  const theirs = extracted(out);
  const ours = new Map<string, { bytes?: Buffer; target?: string }>();
  for (const { path, node } of tree.walk()) {
    if (node.kind === 'file') ours.set(path, { bytes: Buffer.from(await readContent(node.content)) });
    else if (node.kind === 'symlink') ours.set(path, { target: node.target });
  }
  const catalog = [...ours.keys()].filter((p) => !theirs.has(p));
  assert.ok(catalog.every((p) => /boot\.cat(alog)?$/.test(p)), `only the boot catalog is ours alone: ${catalog.join(', ')}`);
  assert.ok(theirs.size > 0);
  for (const [path, entry] of theirs) {
    const mine = ours.get(path);
    assert.ok(mine, `${iso}: ${path} missing from our tree`);
    if (entry.target !== undefined) assert.equal(mine.target, entry.target, path);
    else assert.ok(mine.bytes && Buffer.compare(mine.bytes, entry.bytes!) === 0, `${iso}: ${path} differs`);
  }

  // Boot setup, as xorriso reports it.
  const report = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain'], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout.toString();
  const lines = (prefix: string) => report.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(l.indexOf(':') + 1).trim().split(/\s+/));
  const platform: Record<string, string> = { BIOS: 'bios', UEFI: 'efi' };
  assert.deepEqual(
    image.bootCatalog?.entries.map((e) => [e.platformName, e.loadSize, e.extent]) ?? [],
    lines('El Torito boot img').map((f) => [platform[f[1]!] ?? 'other', Number(f[6]), Number(f[7])]),
    `${iso}: El Torito entries`,
  );
  assert.deepEqual(
    image.partitions.mbr?.partitions.map((p) => [p.bootable ? '0x80' : '0x00', `0x${p.type.toString(16).padStart(2, '0')}`, p.start, p.sectors]) ?? [],
    lines('MBR partition      ').map((f) => [f[1], f[2], Number(f[3]), Number(f[4])]),
    `${iso}: MBR partitions`,
  );
  assert.deepEqual(
    image.partitions.gpt?.partitions.map((p) => [p.firstLba, p.lastLba - p.firstLba + 1]) ?? [],
    lines('GPT start and size ').map((f) => [Number(f[1]), Number(f[2])]),
    `${iso}: GPT partitions`,
  );
}

for (const { path, pkg } of SHIPPED) {
  test(`reads ${path} from Debian's ${pkg} as osirrox and xorriso do`, async (t) => {
    if (!requireTool(t, 'xorriso') || !requireFile(t, path, pkg)) return;
    await compareWithXorriso(t, path);
  });
}

test('reads an ISO grub-mkrescue makes (BIOS + UEFI, protective MBR, GPT with gaps, APM)', async (t) => {
  if (!requireTool(t, 'xorriso', 'grub-mkrescue', 'mformat')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'boot/grub'), { recursive: true });
  writeFileSync(join(src, 'boot/grub/grub.cfg'), 'echo reprimage\n');
  writeFileSync(join(src, 'readme.txt'), 'data\n');
  const iso = join(dir, 'rescue.iso');
  run('grub-mkrescue', ['-o', iso, src], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' }, stdio: ['ignore', 'pipe', 'pipe'] });
  await compareWithXorriso(t, iso);
  const source = await openFileSource(iso);
  t.after(() => source.close());
  const image = await openIso(source);
  assert.ok((image.partitions.gpt?.partitions.length ?? 0) >= 2, 'grub-mkrescue writes a GPT');
  assert.deepEqual(image.bootCatalog?.entries.map((e) => e.platformName), ['bios', 'efi']);
});
