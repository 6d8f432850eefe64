// The HTML reports opened in headless Chromium (Debian package chromium): the page shows the
// tree of differences, a live-like ISO pair (less swapped for nano) is readable at 1400x900
// without a click (screenshots kept, test/helpers/diff-browser.ts), and --html-dir pages load
// their pieces on demand from file://.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { diffPaths } from '../../src/diff/engine.js';
import { renderHtml, writeHtmlDir } from '../../src/diff/presenters/html.js';
import { countsLine, summarize } from '../../src/diff/summary.js';
import { openReport, unreadable } from '../helpers/diff-browser.js';

function chromium(args: string[]): string {
  return run('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', ...args], { allowFail: false }).stdout.toString('utf8');
}

function pair(dir: string): [string, string] {
  for (const side of ['a', 'b']) {
    mkdirSync(join(dir, side, 'etc'), { recursive: true });
    writeFileSync(join(dir, side, 'etc/shadow'), side === 'a' ? 'root:*:19000::::::\n' : 'root:!:19000::::::\n');
    writeFileSync(join(dir, side, 'etc/hostname'), 'box\n');
    const long = Array.from({ length: 3000 }, (_, i) => `line ${i} ${side === 'a' ? 'old' : 'new'}`).join('\n');
    writeFileSync(join(dir, side, 'etc/big.conf'), `${long}\n`);
  }
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', join(dir, 'a.tar'), '-C', join(dir, 'a'), '.']);
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', join(dir, 'b.tar'), '-C', join(dir, 'b'), '.']);
  return [join(dir, 'a.tar'), join(dir, 'b.tar')];
}

test('the HTML page shows the tree of differences in Chromium, and a screenshot is taken', async (t) => {
  if (!requireTool(t, 'chromium', 'tar')) return;
  const dir = tempDir(t);
  const [a, b] = pair(dir);
  const d = await diffPaths(a, b);
  assert.ok(d);
  const page = join(dir, 'report.html');
  writeFileSync(page, renderHtml(d));
  const dom = chromium(['--dump-dom', pathToFileURL(page).href]);
  assert.match(dom, /<h1>Comparing .*a\.tar and .*b\.tar<\/h1>/);
  for (const member of ['etc/shadow', 'etc/big.conf']) {
    assert.match(dom, new RegExp(`<summary title="[^"]*a\\.tar ▸ ${member.replace('.', '\\.')}">\\./${member.replace('.', '\\.')}<`), member);
  }
  assert.match(dom, /<span class="del">-root:\*:19000::::::<\/span><span class="add">\+root:!:19000::::::<\/span>/);
  assert.match(dom, /<section id="summary">.*<td class="n">2<\/td><td>changed in content/s);
  assert.ok((dom.match(/<details/g) ?? []).length >= 3);
  const shot = join(dir, 'report.png');
  chromium([`--screenshot=${shot}`, '--window-size=1200,900', pathToFileURL(page).href]);
  const png = readFileSync(shot);
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
  assert.ok(png.length > 5000, `screenshot of ${png.length} bytes`);
});

test('--html-dir: pieces are loaded when their node is opened (file://, no server)', async (t) => {
  if (!requireTool(t, 'chromium', 'tar')) return;
  const dir = tempDir(t);
  const [a, b] = pair(dir);
  const d = await diffPaths(a, b, { maxDiffLines: 10000 });
  assert.ok(d);
  const out = join(dir, 'report');
  await writeHtmlDir(d, out);
  const pieces = readdirSync(join(out, 'pieces'));
  assert.ok(pieces.length >= 1, 'the large diff went into a piece');
  assert.ok(statSync(join(out, 'index.html')).size < 32 * 1024);
  const index = pathToFileURL(join(out, 'index.html')).href;
  const closed = chromium(['--dump-dom', index]);
  assert.doesNotMatch(closed, /line 2999 new/);
  const opened = chromium(['--virtual-time-budget=3000', '--dump-dom', `${index}#expand-all`]);
  assert.match(opened, /<span class="add">\+line 2999 new<\/span>/);
});

/**
 * Two live-like ISOs (xorriso, a gzip SquashFS by mksquashfs in live/) of a small root tree, the
 * second with nano where the first has less: the binaries swapped, dpkg's status changed.
 */
function livePair(dir: string): [string, string] {
  const stanza = (name: string) => `Package: ${name}\nStatus: install ok installed\nVersion: 1.0\nDescription: ${name}\n\n`;
  for (const [side, pkg] of [['a', 'less'], ['b', 'nano']] as const) {
    const root = join(dir, `root-${side}`);
    for (const d of ['usr/bin', 'var/lib/dpkg', 'etc']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'etc/hostname'), 'live\n');
    writeFileSync(join(root, `usr/bin/${pkg}`), `#!/bin/sh\n# ${pkg}\n${'x'.repeat(5000)}\n`, { mode: 0o755 });
    writeFileSync(join(root, 'var/lib/dpkg/status'), ['base-files', 'coreutils', pkg, 'zlib1g'].sort().map(stanza).join(''));
    mkdirSync(join(dir, side, 'live'), { recursive: true });
    run('mksquashfs', [root, join(dir, side, 'live/filesystem.squashfs'), '-noappend', '-comp', 'gzip', '-quiet', '-no-progress', '-all-root', '-mkfs-time', '1700000000', '-all-time', '1700000000']);
    run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'LIVE', '-o', join(dir, `${side}.iso`), join(dir, side)], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  }
  return [join(dir, 'a.iso'), join(dir, 'b.iso')];
}

test('a live-like ISO pair (less swapped for nano) at 1400x900: summary above the fold, the swap shown without a click; screenshots kept', async (t) => {
  if (!requireTool(t, 'chromium', 'mksquashfs', 'xorriso')) return;
  const dir = tempDir(t);
  const [a, b] = livePair(dir);
  const d = await diffPaths(a, b);
  assert.ok(d);
  const s = summarize(d);
  assert.deepEqual([s.added, s.removed, s.content], [1, 1, 1], countsLine(s));
  const html = renderHtml(d);
  const swap = [
    { selector: 'summary', text: '/dev/null vs ./usr/bin/nano' },
    { selector: 'table.sbs td.add', text: 'Package: nano' },
  ];
  const { geometry, screenshots } = await openReport(html, 'diff-live-like-iso', swap);
  t.diagnostic(JSON.stringify(geometry));
  t.diagnostic(`screenshots: ${screenshots.join(' ')}`);
  assert.deepEqual(unreadable(geometry), []);
  assert.equal(screenshots.length, 3);

  // the check can fail: with every node folded, the swap needs clicks
  const folded = await openReport(html.replace(/(<details[^>]*) open/g, '$1'), 'diff-live-like-iso-folded', swap);
  assert.deepEqual(
    unreadable(folded.geometry).map((p) => p.replace(/\d+ closed/, 'N closed')),
    ['change 1 inside N closed <details>', 'change 2 inside N closed <details>'],
  );
});
