/**
 * The live system end to end (docs/live-iso.md), on the bundled example examples/live-minimal:
 *
 * 1. `reprimage check examples/live-minimal/recipe.yaml`: two builds, the second under each
 *    of its 11 variations (clock, TZ, locale, umask, host name, build path, user, HOME,
 *    environment, worker count, directory order; in CI every one must apply), give a
 *    byte-identical ISO;
 * 2. that ISO boots in QEMU with SeaBIOS and with OVMF, as a CD and as a USB disk, to the live
 *    system, where the example's marker unit prints REPRIMAGE-LIVE-BOOTED on the serial console;
 * 3. a second version of the example (the package `less` swapped for `nano`, /etc/issue.net
 *    removed by a hook) gives an upgrade kit that, applied onto the first ISO, equals the second,
 *    and the kit is byte-identical under every variation (`reprimage check -- reprimage iuk …`);
 * 4. `reprimage diff` of the two ISOs names every file diffoscope names, its summary counts the
 *    swap, diffoscope renders its JSON, and its HTML at 1400x900 in Chromium shows the summary
 *    above the fold and the swap without a click (screenshots kept as test artefacts).
 *
 * Needs root (mmdebstrap root mode), deb.debian.org or a warm package cache, and QEMU. Three live
 * builds and four TCG boots: about 30-40 minutes on 2 cores.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO, runCli, sha256 } from '../helpers/cli.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { keepRelease } from '../helpers/rebuild-examples.js';
import { bootQemu, describeBoot, requireQemu } from '../helpers/qemu.js';
import { IN_CI, requireTool, skipOrFailInCi, tempDir } from '../helpers/tools.js';
import { diffPaths } from '../../src/diff/engine.js';
import type { Difference } from '../../src/diff/difference.js';
import { countsLine, summarize } from '../../src/diff/summary.js';
import { renderJson } from '../../src/diff/presenters/json.js';
import { renderHtml } from '../../src/diff/presenters/html.js';
import { openReport, unreadable } from '../helpers/diff-browser.js';

const EXAMPLE = join(REPO, 'examples/live-minimal');
const MARKER = 'REPRIMAGE-LIVE-BOOTED';

interface CheckReport {
  reproducible: boolean;
  applied: Array<{ id: string; control: string; experiment: string; note?: string }>;
  skipped: Array<{ id: string; reason: string }>;
  artifacts: Array<{ path: string; identical: boolean; difference?: unknown }>;
  builds: number;
  seconds: { control: number; experiment: number; total: number };
}

function check(args: string[]): CheckReport {
  const r = runCli(['check', '--json', '--no-progress', '--timeout', '5400', ...args]);
  assert.ok(r.status === 0 || r.status === 1, `check exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as CheckReport;
}

/** Every variation `reprimage check` has (docs/check.md): docs/live-iso.md says all of them apply. */
const VARIATIONS = ['build-path', 'clock', 'directory-order', 'environment', 'home', 'hostname', 'locale', 'timezone', 'umask', 'user', 'workers'];

/**
 * Asserts that every variation was applied, and returns those that were not but may be missing
 * outside CI: as root with faketime, locales-all, unshare and disorderfs (.ci/run) all of them
 * apply; only the directory order needs FUSE, which a local machine or container may lack.
 */
function assertVariations(report: CheckReport): string[] {
  const applied = report.applied.map((v) => v.id);
  assert.deepEqual(applied.filter((id) => !VARIATIONS.includes(id)), [], 'a variation this test does not know: add it to VARIATIONS and docs/live-iso.md');
  const missing = VARIATIONS.filter((id) => !applied.includes(id));
  const tolerated = IN_CI ? [] : ['directory-order'];
  assert.deepEqual(missing.filter((id) => !tolerated.includes(id)), [], `variations not applied: ${describeCheck(report)}`);
  return missing;
}

function describeCheck(report: CheckReport): string {
  const skipped = report.skipped.map((s) => `${s.id} (${s.reason})`).join('; ') || 'none';
  return `${report.builds} builds in ${report.seconds.total.toFixed(0)} s (control ${report.seconds.control.toFixed(0)} s, experiment ${report.seconds.experiment.toFixed(0)} s); applied: ${report.applied.map((v) => v.id).join(', ')}; skipped: ${skipped}`;
}

// shared by the tests below, which node:test runs in order: the ISO lives until the file ends
const scratch = mkdtempSync(join(tmpdir(), 'reprimage-live-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let isoA = '';
let ready = false;
/** The second version's ISO, kept (under `scratch`) for the diff test. */
let isoB = '';

test('reprimage check examples/live-minimal: the ISO is byte-identical under every variation applied', { timeout: 90 * 60_000 }, (t) => {
  if (!requireRecipeBuild(t) || !requireQemu(t, 'bios')) return;
  const work = join(scratch, 'check');
  const report = check([join(EXAMPLE, 'recipe.yaml'), '--keep', '--work-dir', work]);
  t.diagnostic(describeCheck(report));
  assert.equal(report.reproducible, true, `live.iso differs: ${describeCheck(report)}\n${JSON.stringify(report.artifacts).slice(0, 6000)}`);
  assert.deepEqual(report.artifacts.map((a) => [a.path, a.identical]), [['out/live.iso', true]]);
  const missing = assertVariations(report);
  isoA = join(work, 'control.artifacts/out/live.iso');
  t.diagnostic(`live.iso sha256 ${sha256(isoA)}`);
  ready = true; // the boots and the kit need only this ISO, whatever README.md says
  // the README's main job builds exactly this recipe and publishes the hash
  const published = /^([0-9a-f]{64}) {2}live\.iso$/m.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  assert.equal(sha256(isoA), published?.[1], 'README.md publishes another live.iso SHA-256');
  // the control build with its manifest and inputs bundle is a release: rebuild-live.test.ts rebuilds it
  keepRelease(EXAMPLE, join(work, 'control.artifacts/out'));
  if (missing.length > 0) skipOrFailInCi(t, `not proved under ${missing.join(', ')}: ${describeCheck(report)}`);
});

const boots = [
  { firmware: 'bios', as: 'cd' },
  { firmware: 'uefi', as: 'cd' },
  { firmware: 'bios', as: 'usb' },
  { firmware: 'uefi', as: 'usb' },
] as const;

for (const boot of boots) {
  test(`the ISO boots to the live system: ${boot.firmware === 'bios' ? 'SeaBIOS' : 'OVMF'} as ${boot.as === 'cd' ? 'a CD' : 'a USB disk'}`, { timeout: 20 * 60_000 }, async (t) => {
    if (!ready) return t.skip('no ISO: the check test did not pass');
    if (!requireQemu(t, boot.firmware)) return;
    // a USB stick is the ISO file as a raw hard disk: the isohybrid MBR (BIOS) or the GPT's ESP (UEFI)
    const medium = boot.as === 'cd' ? { cdrom: isoA } : { disk: isoA };
    const result = await bootQemu({ firmware: boot.firmware, ...medium, marker: MARKER, memoryMiB: 1536, timeoutMs: 15 * 60_000 }, t);
    // the marker unit exists only in the live system: live-boot found and mounted the SquashFS
    assert.ok(result.found, describeBoot(result));
  });
}

test('an upgrade kit from two versions of the example applies onto the first and equals the second, and is identical under every variation', { timeout: 60 * 60_000 }, (t) => {
  if (!ready) return t.skip('no ISO: the check test did not pass');
  const dir = mkdtempSync(join(scratch, 'iuk-')); // removed with `scratch`: the diff test reuses ISO B
  const next = join(dir, 'live-minimal-next');
  cpSync(EXAMPLE, next, { recursive: true });
  const recipe = join(next, 'recipe.yaml');
  const text = readFileSync(recipe, 'utf8');
  assert.match(text, /\n {2}- less\n/);
  assert.match(text, /\n {2}- hooks\/10-live\.sh\n/);
  writeFileSync(join(next, 'hooks/20-remove.sh'), '#!/bin/sh\nset -e\nrm /etc/issue.net\n');
  writeFileSync(recipe, text.replace('\n  - less\n', '\n  - nano\n').replace('\n  - hooks/10-live.sh\n', '\n  - hooks/10-live.sh\n  - hooks/20-remove.sh\n'));
  const built = runCli(['build', recipe, '-o', join(next, 'out'), '--update-lock', '--quiet']);
  assert.equal(built.status, 0, built.stderr);
  isoB = join(next, 'out/live.iso');
  // relocked against today's archive: when bookworm had no point release since the example was
  // locked, the package sets differ by exactly the swap (and what nano needs that less did not)
  interface LockFile { sources: Array<{ in_release: { sha256: string } }>; packages: Array<{ name: string; version: string }> }
  const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'recipe.yaml.lock'), 'utf8')) as LockFile;
  const [oldLock, newLock] = [lockOf(EXAMPLE), lockOf(next)];
  const names = (l: LockFile) => new Set(l.packages.map((p) => `${p.name} ${p.version}`));
  const removed = [...names(oldLock)].filter((p) => !names(newLock).has(p));
  const added = [...names(newLock)].filter((p) => !names(oldLock).has(p));
  t.diagnostic(`packages removed: ${removed.join(', ')}; added: ${added.join(', ')}`);
  const sameArchive = oldLock.sources[0]!.in_release.sha256 === newLock.sources[0]!.in_release.sha256;
  if (sameArchive) {
    assert.deepEqual(removed.map((p) => p.split(' ')[0]), ['less']);
    assert.ok(added.some((p) => p.startsWith('nano ')), added.join(', '));
  }

  const kit = join(dir, 'kit.iuk');
  const made = runCli(['iuk', isoA, isoB, '-o', kit, '-q']);
  assert.equal(made.status, 0, made.stderr);
  const applied = runCli(['iuk-apply', isoA, kit, '--expect', isoB]);
  assert.equal(applied.status, 0, applied.stdout + applied.stderr);
  // what the kit changes, seen against the old ISO: the swapped package and the removed file
  const against = runCli(['iuk-apply', isoA, kit, '--expect', isoA, '--json']);
  assert.equal(against.status, 1, against.stderr);
  const differing = (JSON.parse(against.stdout) as { differing: string[] }).differing;
  for (const p of ['root: etc/issue.net', 'root: usr/bin/nano', 'root: usr/bin/less']) assert.ok(differing.includes(p), `${p} not in ${differing.join(', ')}`);
  if (sameArchive) assert.ok(!differing.some((p) => p.startsWith('medium: live/vmlinuz')), 'the kernel did not change');
  t.diagnostic(`kit ${readFileSync(kit).length} bytes for ${differing.length} changed paths`);

  const report = check(['--artifact', 'kit.iuk', '--', process.execPath, CLI, 'iuk', isoA, isoB, '-o', 'kit.iuk', '--workers', '{workers}', '-q']);
  t.diagnostic(describeCheck(report));
  assert.equal(report.reproducible, true, describeCheck(report));
  const missing = assertVariations(report);
  if (missing.length > 0) skipOrFailInCi(t, `kit not proved under ${missing.join(', ')}: ${describeCheck(report)}`);
});

test('reprimage diff of the two ISOs (less swapped for nano): every file diffoscope names, the swap in the summary, JSON and HTML', { timeout: 30 * 60_000 }, async (t) => {
  if (!isoA || !isoB) return t.skip('no second ISO: the upgrade kit test did not build it');
  if (!requireTool(t, 'diffoscope', 'chromium')) return;
  const dir = tempDir(t, 'reprimage-live-diff-');
  const started = performance.now();
  const d = await diffPaths(isoA, isoB);
  const ours = (performance.now() - started) / 1000;
  assert.ok(d);
  const s = summarize(d);
  t.diagnostic(`reprimage diff ${ours.toFixed(1)} s: ${countsLine(s)}`);
  const largest = s.largest.map((c) => c.path);
  const paths = new Set<string>();
  const visit = (n: Difference) => {
    for (const p of [n.path1, n.path2, ...(n.entries ?? []).flatMap((e) => [e.path1, e.path2])]) if (p) paths.add(p.split(' ▸ ').pop()!.replace(/^\.\//, ''));
    n.details.forEach(visit);
  };
  visit(d);
  for (const p of ['usr/bin/nano', 'usr/bin/less', 'etc/issue.net']) assert.ok(paths.has(p), `${p} not named (largest: ${largest.join(', ')})`);
  assert.ok(s.added >= 1 && s.removed >= 2, countsLine(s));

  const json = join(dir, 'ours.json');
  writeFileSync(json, renderJson(d));
  const t0 = performance.now();
  const theirs = spawnSync('diffoscope', ['--json', '-', isoA, isoB], { maxBuffer: 1 << 30, encoding: 'utf8' });
  t.diagnostic(`diffoscope ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(theirs.status, 1, theirs.stderr);
  interface Node { source1: string; unified_diff: string | null; details?: Node[] }
  const named = new Set<string>();
  const walk = (n: Node, depth: number) => {
    if (depth > 0 && !n.source1.includes(' ')) named.add(n.source1.replace(/^(\.?\/)+/, '').replace(/\/$/, ''));
    if (n.source1 === 'file list' && n.unified_diff) {
      for (const line of n.unified_diff.split('\n')) {
        if (!/^[-+]/.test(line)) continue;
        const tokens = line.slice(1).trim().split(/\s+/);
        const arrow = tokens.indexOf('->');
        named.add((arrow > 0 ? tokens[arrow - 1]! : tokens[tokens.length - 1]!).replace(/^(\.?\/)+/, '').replace(/\/$/, ''));
      }
    }
    for (const c of n.details ?? []) walk(c, depth + 1);
  };
  walk(JSON.parse(theirs.stdout) as Node, 0);
  named.delete('');
  const local = new Set([...paths, ...[...paths].map((p) => p.split('/').pop()!)]);
  const missing = [...named].filter((n) => !local.has(n) && !local.has(n.split('/').pop()!) && !/\.(gz|xz|zst)$/.test(n) && !n.endsWith('.cpio') && !n.endsWith('.squashfs'));
  assert.deepEqual(missing, [], `diffoscope names files we do not: ${missing.slice(0, 20).join(', ')}`);
  const loaded = spawnSync('diffoscope', ['--load-existing-diff', json, '--text', join(dir, 'loaded.txt')], { encoding: 'utf8' });
  assert.equal(loaded.status, 1, loaded.stderr);

  // at 1400x900 in Chromium: the summary above the fold, the swap laid out with no closed
  // <details> around it (screenshots kept, test/helpers/diff-browser.ts)
  const { geometry, screenshots } = await openReport(renderHtml(d), 'diff-live-iso', [
    { selector: 'summary', text: '/dev/null vs ./usr/bin/nano' },
    { selector: 'table.sbs td.add', text: 'Package: nano' },
  ]);
  t.diagnostic(JSON.stringify(geometry));
  t.diagnostic(`screenshots: ${screenshots.join(' ')}`);
  assert.deepEqual(unreadable(geometry), []);
});
